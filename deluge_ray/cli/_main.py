"""The ``deluge-ray`` command line: ``run``, ``demo`` and ``mock-server``.

Every failure the user can fix (a missing file, a malformed line, an unknown model, a bad
flag) is reported as one line on stderr with a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import warnings
from collections.abc import Sequence

from ..errors import DelugeError
from ._tables import print_table

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _quiet_ray_defaults() -> None:
    # Before Ray is imported anywhere: no usage-stats prompt, no token-auth banner.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def _one_line_warnings() -> None:
    # A command-line user needs the message, not the file and source line that raised it.
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"deluge-ray: warning: {message}", file=file or sys.stderr)

    warnings.showwarning = show


def _add_run_parser(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run",
        help="run a JSONL/CSV file of prompts and write results as JSONL",
        description="Run every prompt of INPUT through MODEL and append results to OUTPUT. "
        "Re-running the same command resumes: ids already in OUTPUT are skipped.",
    )
    run.add_argument("input", help="JSONL (string / {id, prompt} / {id, messages}) or CSV file")
    run.add_argument("-m", "--model", required=True, help="model name, e.g. gpt-4.1-mini")
    run.add_argument("-o", "--output", required=True, help="results JSONL (appended to)")
    run.add_argument("--rpm", type=int, default=1_000, help="requests per minute (shared)")
    run.add_argument("--tpm", type=int, default=100_000, help="tokens per minute (shared)")
    run.add_argument("--max-concurrent", type=int, default=225, help="requests in flight")
    run.add_argument("--max-new-tokens", type=int, default=512)
    run.add_argument("--temperature", type=float, default=1.0)
    run.add_argument("--json-mode", action="store_true", help="ask for a JSON object reply")
    run.add_argument("--system", help="system prompt for records that have none")
    run.add_argument("--prompt-column", default="prompt", help="CSV column holding the prompt")
    run.add_argument("--cache", metavar="PATH", help="SQLite cache file shared across runs")
    run.add_argument("--address", help="Ray cluster address (default: embedded local Ray)")
    run.add_argument("--callers", type=int, help="number of ProviderCaller actors")
    run.add_argument("--budget-usd", type=float, help="stop before estimated spend passes this")
    run.add_argument("--dry-run", action="store_true", help="count tokens and cost only")
    run.add_argument("--progress", choices=["rich", "tqdm", "manual", "none"], default="rich")


def _add_demo_parser(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="run a few thousand prompts against the bundled mock provider (no API key)",
    )
    demo.add_argument("--prompts", type=int, default=3_000)
    demo.add_argument("--rpm", type=int, default=9_000, help="the mock's (and client's) limit")
    demo.add_argument("--output-dir", default="deluge-ray-demo")
    demo.add_argument("--progress", choices=["rich", "tqdm", "manual", "none"], default="rich")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deluge-ray",
        description="Large LLM workloads on Ray: one shared rate limit, cache and progress view.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run_parser(sub)
    _add_demo_parser(sub)
    mock = sub.add_parser("mock-server", help="serve the mock provider on 127.0.0.1")
    from ..mock import cli as mock_cli

    mock_cli.add_arguments(mock)
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from ._run import JobOptions, dry_run, run_job

    options = JobOptions(
        input=args.input,
        model=args.model,
        output=args.output,
        rpm=args.rpm,
        tpm=args.tpm,
        max_concurrent=args.max_concurrent,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        json_mode=args.json_mode,
        system=args.system,
        cache=args.cache,
        address=args.address,
        callers=args.callers,
        budget_usd=args.budget_usd,
        prompt_column=args.prompt_column,
        progress="manual" if args.progress == "none" else args.progress,
        show_progress=args.progress != "none",
    )
    options.validate()
    if args.dry_run:
        for row in dry_run(options):
            print_table(
                f"dry run: {row['model']}",
                [
                    ("prompts", f"{row['prompts']:,}"),
                    ("input tokens", f"{row['input_tokens']:,}"),
                    ("max output tokens", f"{row['max_output_tokens']:,}"),
                    ("estimated max cost", f"${row['estimated_max_cost']:.4f}"),
                ],
            )
        return 0

    def report_problem(problem) -> None:
        print(f"deluge-ray: skipping {args.input} {problem}", file=sys.stderr)

    def report_interrupt(in_flight: int) -> None:
        print(
            f"deluge-ray: stopping; finishing the {in_flight} prompts already sent "
            "(Ctrl-C again to abort without them)",
            file=sys.stderr,
        )

    summary = asyncio.run(
        run_job(options, on_problem=report_problem, on_interrupt=report_interrupt)
    )
    print_table("deluge-ray run", summary.rows())
    print(f"results: {os.path.abspath(summary.output)}")
    if summary.interrupted:
        print(
            "deluge-ray: interrupted; finished results are saved. "
            "Run the same command again to resume.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if summary.not_submitted_budget:
        print(
            f"deluge-ray: budget of ${args.budget_usd:g} reached; "
            f"{summary.not_submitted_budget} prompts were not sent",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return 0 if summary.failed == 0 and summary.bad_input == 0 else EXIT_FAILED


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(
        prompts=args.prompts,
        rpm=args.rpm,
        output_dir=args.output_dir,
        progress=args.progress,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deluge-ray`` console script; returns the exit status."""
    _quiet_ray_defaults()
    _one_line_warnings()
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "demo":
            return _cmd_demo(args)
        from ..mock import cli as mock_cli

        return mock_cli.run(args)
    except KeyboardInterrupt:
        print(
            "deluge-ray: interrupted; finished results are saved. "
            "Run the same command again to resume.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except (DelugeError, OSError) as exc:
        print(f"deluge-ray: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
