"""The ``deluge-ray`` command line: ``run``, ``demo``, ``status``, ``up``, ``down`` and
``mock-server``.

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
from ._head import add_head_parsers, run_down, run_up
from ._run import MAX_PROBLEMS_SHOWN
from ._tables import print_table

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _quiet_ray_defaults() -> None:
    # Before Ray is imported anywhere: no usage-stats prompt. RAY_AUTH_MODE is left to
    # client/_runtime, which sets it only for an embedded Ray (a join needs the user's).
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def _one_line_warnings() -> None:
    # A command-line user needs the message, not the file and source line that raised it.
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"deluge-ray: warning: {message}", file=file or sys.stderr)

    warnings.showwarning = show


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows every option's default and keeps the epilog's line breaks (row format, exit codes)."""


_EXIT_CODES = f"""exit codes:
  0    every prompt answered (or nothing to do)
  {EXIT_FAILED}    finished, but some rows are errors, some input lines were bad, or the
       budget stopped sending
  {EXIT_USAGE}    nothing was run: a bad flag, a missing file, an unknown model
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); finished rows are saved, run again to resume"""

_RUN_EPILOG = f"""input: a file, a directory (every .jsonl/.csv/.parquet file below it) or a glob
(quote it: 'data/*.parquet'). JSONL lines: "a prompt", {{"id", "prompt"}}, {{"id",
"messages"}} (OpenAI or Anthropic shape; optional "system"), or OpenAI Batch API request
lines {{"custom_id", "method", "url", "body": {{"model", "messages", "max_tokens", ...}}}} as
they are (the flags, not the body, set model and sampling). CSV and Parquet: a prompt
column (--prompt-column; Parquet may have "messages" instead), optional "id", "system".
Parquet is read in batches, never whole. Without ids, rows are numbered (file:row when
the input is several files).

output rows (one JSON object per line, written as results arrive):
  {{"id", "completion", "model", "finish_reason",
   "usage": {{"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"}},
   "total_tokens", "cost" (USD), "cache_hit" (answered from --cache), "latency_s",
   "attempts" (HTTP requests sent for this prompt), "error" (null on success)}}
  --output-format openai-batch writes the Batch API's output lines instead:
  {{"id", "custom_id", "response": {{"status_code", "request_id", "body"}}, "error"}}

resuming: ids already in OUTPUT are skipped, so every id appears once. Rows that ended in
an error are skipped too (the summary counts them); --retry-failed runs them again.
Unusable lines of OUTPUT (cut short by a kill, not UTF-8) move to OUTPUT.rejected.
A killed run (even SIGKILL) resumes the same way; OUTPUT.inflight lists what was sent, so
the rerun says how many requests were in flight at the kill and may be paid twice.

engines: --engine client (default) runs the prompts through this process's client.
--engine data runs them as a Ray Data job (read_parquet / read_json, process_dataset),
for inputs bigger than memory; it needs an "id" (or "custom_id") column, and it resumes
through the client's cache, per row: rows answered before are served from the cache
(--cache, default OUTPUT.cache.sqlite, on storage every node sees) and not paid again.

bad input: a line that is not UTF-8, not JSON, of the wrong shape, holds a lone
surrogate, or repeats an earlier id is reported with its line number and skipped; every
other line still runs. The first {MAX_PROBLEMS_SHOWN} are printed, the rest counted.

budget (--budget-usd X): each prompt, before it is sent, reserves its worst case (its
input tokens at the input price plus --max-new-tokens at the output price). Sending stops
at the first prompt whose reservation would take spend (rows already in OUTPUT, finished
prompts at their real cost, in-flight prompts at their worst case) past X; prompts in
flight then finish. The final spend never passes X.

{_EXIT_CODES}"""


def _add_run_parser(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run",
        help="run a JSONL/CSV/Parquet input of prompts and write results as JSONL",
        description="Run every prompt of INPUT through MODEL and append results to OUTPUT. "
        "Re-running the same command resumes: ids already in OUTPUT are skipped.",
        epilog=_RUN_EPILOG,
        formatter_class=_HelpFormatter,
    )
    run.add_argument(
        "input", help="a JSONL, CSV or Parquet file, a directory of them, or a glob (see below)"
    )
    run.add_argument("-m", "--model", required=True, help="model name, e.g. gpt-4.1-mini")
    run.add_argument("-o", "--output", required=True, help="results JSONL (appended to)")
    run.add_argument("--rpm", type=int, default=1_000, help="requests per minute (shared)")
    run.add_argument("--tpm", type=int, default=100_000, help="tokens per minute (shared)")
    run.add_argument("--max-concurrent", type=int, default=225, help="requests in flight")
    run.add_argument("--max-new-tokens", type=int, default=512, help="reply length cap")
    run.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    run.add_argument("--json-mode", action="store_true", help="ask for a JSON object reply")
    run.add_argument("--system", help="system prompt for records that have none")
    run.add_argument(
        "--prompt-column", default="prompt", help="CSV/Parquet column holding the prompt"
    )
    run.add_argument(
        "--output-format",
        choices=["jsonl", "openai-batch"],
        default="jsonl",
        help="deluge-ray rows, or OpenAI Batch API output lines",
    )
    run.add_argument(
        "--engine",
        choices=["client", "data"],
        default="client",
        help="this process's client, or a Ray Data job (resumes through the cache)",
    )
    run.add_argument(
        "--cache",
        metavar="PATH",
        help="SQLite cache file shared across runs, keyed on prompt, model and settings",
    )
    run.add_argument("--address", help="Ray cluster address (none: an embedded local Ray)")
    run.add_argument("--callers", type=int, help="number of ProviderCaller actors")
    run.add_argument(
        "--budget-usd", type=float, help="stop sending before spend could pass this (see below)"
    )
    run.add_argument(
        "--retry-failed", action="store_true", help="run again the ids whose row is an error"
    )
    run.add_argument("--dry-run", action="store_true", help="count tokens and cost only")
    run.add_argument(
        "--progress",
        choices=["rich", "tqdm", "manual", "none"],
        default="rich",
        help="progress display",
    )


def _add_demo_parser(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="run a few thousand prompts against the bundled mock provider (no API key)",
        description="Start the bundled mock provider, write a prompt file and run it through "
        "the same path as `deluge-ray run`, then print what the client and the mock saw.",
        epilog=f"output: OUTPUT_DIR/prompts.jsonl and OUTPUT_DIR/results.jsonl (rows as in "
        f"`deluge-ray run --help`).\n\n{_EXIT_CODES}",
        formatter_class=_HelpFormatter,
    )
    demo.add_argument("--prompts", type=int, default=3_000, help="how many prompts")
    demo.add_argument("--rpm", type=int, default=9_000, help="the mock's (and client's) limit")
    demo.add_argument("--output-dir", default="deluge-ray-demo", help="where files go")
    demo.add_argument(
        "--progress",
        choices=["rich", "tqdm", "manual", "none"],
        default="rich",
        help="progress display",
    )


def _add_status_parser(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser(
        "status",
        help="show every shared RateLimiter of a running Ray cluster and its clients",
        description="Show each RateLimiter of a running Ray cluster: limits, the last "
        "minute's rates, slots, cooldown, 429s, budgets and each client's share. Never "
        "starts a cluster.",
        epilog="output: on stdout, per RateLimiter a table of its limits and state and one "
        "of its clients (name, priority, share of the last minute, slots, 429s, spend).\n\n"
        "exit codes:\n  0    shown\n  1    no Ray cluster found or reachable",
        formatter_class=_HelpFormatter,
    )
    status.add_argument(
        "--address", help="Ray cluster address (none: RAY_ADDRESS, else one on this machine)"
    )
    status.add_argument(
        "--watch",
        nargs="?",
        type=float,
        const=2.0,
        metavar="SECONDS",
        help="redraw every SECONDS (2 when given alone) until Ctrl-C",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deluge-ray",
        description="Large LLM workloads on Ray: one shared rate limit, cache and progress view.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run_parser(sub)
    _add_demo_parser(sub)
    _add_status_parser(sub)
    add_head_parsers(sub, _HelpFormatter)
    mock = sub.add_parser(
        "mock-server",
        help="serve the mock provider on 127.0.0.1",
        description="Serve the mock provider (OpenAI, Anthropic and Gemini shaped APIs) on "
        "127.0.0.1 until Ctrl-C, and print the environment variables that point clients at it.",
        epilog="output: none (the server logs to stderr); no row format.\n\n"
        "exit codes:\n  0    stopped with Ctrl-C\n  2    a bad flag or a port in use",
        formatter_class=_HelpFormatter,
    )
    from ..mock import cli as mock_cli

    mock_cli.add_arguments(mock)
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from ._data_engine import DataEngineError, run_data_job
    from ._run import JobOptions, dry_run, preflight, run_job

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
        retry_failed=args.retry_failed,
        output_format=args.output_format,
        engine=args.engine,
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

    from ..client._runtime import ensure_ray

    preflight(options)  # a typo is one line at once, not one after a Ray start-up
    # Join (or start) Ray before the first prompt: an unreachable cluster or a missing
    # token is then one line and exit status 2, not one failed row per prompt.
    ensure_ray(args.address)
    shown = 0

    def report_problem(problem) -> None:
        # A million bad lines must not mean a million lines on stderr: the first few are
        # printed, the summary counts the rest.
        nonlocal shown
        shown += 1
        if shown <= MAX_PROBLEMS_SHOWN:
            where = "" if problem.source else f"{args.input} "
            print(f"deluge-ray: skipping {where}{problem}", file=sys.stderr)

    def report_warning(message: str) -> None:
        print(f"deluge-ray: warning: {message}", file=sys.stderr)

    def report_resume(rows: int, to_go: int, paid_twice: int) -> None:
        print(
            f"deluge-ray: resumed: {rows:,} done, {to_go:,} to go; "
            f"{paid_twice:,} requests may have been paid twice",
            file=sys.stderr,
        )

    def report_interrupt(in_flight: int) -> None:
        print(
            f"deluge-ray: stopping; finishing the {in_flight} prompts already sent "
            "(Ctrl-C again to abort without them)",
            file=sys.stderr,
        )

    job = run_data_job if options.engine == "data" else run_job
    try:
        summary = asyncio.run(
            job(
                options,
                on_problem=report_problem,
                on_interrupt=report_interrupt,
                on_warning=report_warning,
                on_resume=report_resume,
            )
        )
    except DataEngineError as exc:  # it ran part-way: a failed run, not a usage error
        print(f"deluge-ray: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if summary.bad_input > MAX_PROBLEMS_SHOWN:
        print(
            f"deluge-ray: ... and {summary.bad_input - MAX_PROBLEMS_SHOWN:,} more bad lines "
            f"in {args.input} ({summary.bad_input:,} in all, none of them sent)",
            file=sys.stderr,
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
    if summary.skipped_failed:
        print(
            f"deluge-ray: {summary.skipped_failed} rows of {summary.output} are errors and "
            "were skipped; --retry-failed runs them again",
            file=sys.stderr,
        )
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
        if args.command == "status":
            from ._status import run_status

            return run_status(args.address, args.watch)
        if args.command in ("up", "down"):
            return run_up(args) if args.command == "up" else run_down(args)
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
