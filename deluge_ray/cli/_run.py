"""The ``deluge-ray run`` job: stream a prompt file through an LLMClient into a results file.

The job never holds the whole input or output in memory: it reads records lazily, keeps a
bounded window of prompts in flight, and appends each result to the output file as soon as
it arrives. Ids already in the output file are skipped, so an interrupted run resumes where
it stopped and nothing is paid for twice.

Every input line ends as a row of the output or a reported problem: a bad line, a prompt
the client raised on, an id that had to be repaired are each reported and the job goes on.

The budget guard (``budget_usd``) is conservative: before a prompt is submitted, its
worst-case cost (input tokens at the input price plus ``max_new_tokens`` at the output
price) is added to the committed spend (rows an earlier run wrote, plus finished prompts at
their actual cost, plus the worst case of those in flight), and submission stops at the
first prompt that would take it past the budget; prompts in flight then finish. As no
prompt can cost more than its worst case, the final spend never passes the budget.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ._inflight import InflightLedger
from ._jobfile import InputProblem, JobRecord, check_input, read_records
from ._openai_batch import BodySettings
from ._output_rows import OUTPUT_FORMATS, crash_row, result_row
from ._results import ResultWriter, prepare_output, scan_output

__all__ = [
    "ENGINES",
    "JobOptions",
    "JobSummary",
    "client_for",
    "dry_run",
    "estimate_cost",
    "open_cache",
    "open_output",
    "preflight",
    "run_job",
]

#: ``client``: this driver's LLMClient; ``data``: Ray Data (``process_dataset``).
ENGINES = ("client", "data")


@dataclass
class JobOptions:
    """Everything ``deluge-ray run`` was asked to do (mirrors the command-line flags)."""

    input: str
    model: str
    output: str
    rpm: int = 1_000
    tpm: int = 100_000
    max_concurrent: int = 225
    max_new_tokens: int = 512
    temperature: float = 1.0
    json_mode: bool = False
    system: str | None = None
    cache: str | None = None
    address: str | None = None
    callers: int | None = None
    budget_usd: float | None = None
    prompt_column: str = "prompt"
    progress: str = "rich"
    show_progress: bool = True
    window: int | None = None
    retry_failed: bool = False
    output_format: str = "jsonl"
    engine: str = "client"

    def effective_window(self) -> int:
        """How many prompts may be handed to the client ahead of their results.

        Enough to keep the limiter saturated (two seconds of the rate, or twice the concurrency
        it allows, whichever is smaller), and no more: on Ctrl-C every prompt
        already handed over is finished and written, so a small window means a quick stop.
        """
        if self.window is not None:
            return self.window
        two_seconds = math.ceil(self.rpm / 30)
        return max(16, min(2 * self.max_concurrent, two_seconds))

    def validate(self) -> None:
        for name in ("rpm", "tpm", "max_concurrent", "max_new_tokens"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"--{name.replace('_', '-')} must be positive")
        if self.budget_usd is not None and self.budget_usd <= 0:
            raise ConfigurationError("--budget-usd must be a positive amount of dollars")
        if self.window is not None and self.window <= 0:
            raise ConfigurationError("window must be positive")
        if self.callers is not None and self.callers <= 0:
            raise ConfigurationError("--callers must be positive")
        if self.output_format not in OUTPUT_FORMATS:
            raise ConfigurationError(
                f"--output-format {self.output_format!r} is not one of {', '.join(OUTPUT_FORMATS)}"
            )
        if self.engine == "data" and self.budget_usd is not None:
            raise ConfigurationError(
                "--budget-usd works with --engine client only (Ray Data's actors send "
                "without the driver's per-prompt reservations)"
            )
        if self.engine not in ENGINES:
            raise ConfigurationError(f"--engine {self.engine!r} is not one of {', '.join(ENGINES)}")
        if self.output and os.path.abspath(self.output) == os.path.abspath(self.input):
            raise ConfigurationError(
                f"-o {self.output} is the input file; results would overwrite the prompts. "
                "Pass another output path"
            )
        if self.output and os.path.exists(self.output) and os.path.exists(self.input):
            if os.path.samefile(self.output, self.input):
                raise ConfigurationError(
                    f"-o {self.output} is the input file (a link to it); pass another output path"
                )


# How many problem lines a summary keeps (and the command prints); the rest are counted.
MAX_PROBLEMS_SHOWN = 20


@dataclass
class JobSummary:
    """What a run did; printed as the final table."""

    done: int = 0
    failed: int = 0
    skipped_existing: int = 0
    skipped_failed: int = 0  # of skipped_existing, rows that ended in an error
    retried_failed: int = 0  # error rows moved aside by --retry-failed, run again
    bad_input: int = 0
    duplicates: int = 0  # of bad_input, lines repeating an earlier id
    repaired_ids: int = 0
    repaired_output_lines: int = 0  # unusable lines moved out of the output file
    not_submitted_budget: int = 0
    rate_limited: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost: float = 0.0
    spent_before: float = 0.0  # dollars of the rows an earlier run wrote
    paid_twice_at_most: int = 0  # prompts in flight when an earlier run was killed
    elapsed: float = 0.0
    output: str = ""
    interrupted: bool = False
    problems: list[str] = field(default_factory=list)  # the first MAX_PROBLEMS_SHOWN

    @property
    def requests_per_second(self) -> float:
        """Finished prompts per second of the run."""
        return (self.done + self.failed) / self.elapsed if self.elapsed > 0 else 0.0

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs of the summary table."""
        rows = [
            ("done", f"{self.done:,}"),
            ("failed", f"{self.failed:,}"),
            ("skipped (already in output)", f"{self.skipped_existing:,}"),
            ("bad input lines", f"{self.bad_input:,}"),
            ("429s received", f"{self.rate_limited:,}"),
            ("input tokens", f"{self.input_tokens:,}"),
            ("output tokens", f"{self.output_tokens:,}"),
            ("cost", f"${self.cost:.4f}"),
            ("requests/s", f"{self.requests_per_second:.1f}"),
            ("elapsed", f"{self.elapsed:.1f} s"),
        ]
        extra = [
            ("not sent (budget)", self.not_submitted_budget),
            ("duplicate ids (not run)", self.duplicates),
            ("failed rows skipped (--retry-failed reruns them)", self.skipped_failed),
            ("failed rows retried", self.retried_failed),
            ("ids repaired", self.repaired_ids),
            ("output lines repaired", self.repaired_output_lines),
            ("cache hits", self.cache_hits),
            ("in flight at an earlier kill (paid twice at most)", self.paid_twice_at_most),
        ]
        at = 4
        for label, value in extra:
            if value:
                rows.insert(at, (label, f"{value:,}"))
                at += 1
        return rows


def _conversation_for(record: JobRecord) -> Any:
    from ..prompt import Conversation, prompts_to_conversations

    conversation = prompts_to_conversations([record.prompt])[0]
    if record.system:
        conversation = Conversation(
            [*Conversation().system(record.system).messages, *conversation.messages]
        )
    return conversation


def estimate_cost(model: Any, input_tokens: int, max_new_tokens: int) -> float:
    """Worst-case dollars for one request: all input at the input price, a full reply."""
    return (input_tokens * model.input_cost + max_new_tokens * model.output_cost) / 1_000_000


def _input_items(
    options: JobOptions, done: set[str]
) -> Iterator[tuple[str, JobRecord | InputProblem]]:
    """The input as ("problem" | "existing" | "run", item) pairs, in file order.

    A repeated id is a problem of its later lines (the first one runs), so counting and
    running agree on what is sent and nothing is dropped without a report.
    """
    first_line: dict[str, int] = {}
    records = read_records(
        options.input, prompt_column=options.prompt_column, exclude=[options.output]
    )
    for item in records:
        if isinstance(item, InputProblem):
            yield "problem", item
            continue
        if item.id in first_line:
            message = f"duplicate id {item.id!r} (first on line {first_line[item.id]}); not run"
            yield "problem", InputProblem(item.line, message)
            continue
        first_line[item.id] = item.line
        if item.id in done:
            yield "existing", item
            continue
        if options.system and not item.system:
            item = replace(item, system=options.system)
        yield "run", item


def preflight(options: JobOptions) -> None:
    """Every check that needs no Ray: flags, the model, the input files, the output directory.

    Run before Ray starts, so a typo costs a second, not a Ray start-up.
    """
    from ..models import get_model

    options.validate()
    get_model(options.model)
    check_input(options.input, exclude=[options.output])
    parent = Path(options.output).parent
    if not parent.exists():
        raise ConfigurationError(f"output directory does not exist: {parent}")
    if options.engine == "data":
        try:
            import ray.data  # noqa: F401
        except ImportError as exc:
            raise ConfigurationError(
                f"--engine data needs Ray Data ({exc}); pip install 'deluge-ray[data]'"
            ) from None


def dry_run(options: JobOptions) -> list[dict[str, Any]]:
    """Count tokens and estimate the worst-case cost without calling anything."""
    from ..models import get_model

    model = get_model(options.model)
    done = scan_output(options.output).done if options.output else set()
    prompts = input_tokens = 0
    for kind, item in _input_items(options, done):
        if kind != "run":
            continue
        try:
            input_tokens += _conversation_for(item).count_tokens()
        except Exception:
            continue
        prompts += 1
    max_output = prompts * options.max_new_tokens
    return [
        {
            "model": model.id,
            "prompts": prompts,
            "input_tokens": input_tokens,
            "max_output_tokens": max_output,
            "estimated_max_cost": estimate_cost(model, input_tokens, max_output),
        }
    ]


class _StopOnFirstInterrupt:
    """The first Ctrl-C stops *submitting*; prompts already sent finish and are written.

    Money is spent when a prompt is sent, so abandoning in-flight prompts would make the
    resumed run pay for them twice. A second Ctrl-C restores Python's default handler's
    behaviour (KeyboardInterrupt) for whoever really wants out now.
    """

    def __init__(self, on_stop: Callable[[], None]) -> None:
        self.requested = False
        self._on_stop = on_stop
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> _StopOnFirstInterrupt:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, self._handle)
            self._loop = loop
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (a notebook, a worker): keep the default behaviour
        return self

    def _handle(self) -> None:
        self.requested = True
        if self._loop is not None:
            self._loop.remove_signal_handler(signal.SIGINT)
            self._loop = None
        self._on_stop()

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.remove_signal_handler(signal.SIGINT)


def client_for(options: JobOptions, cache: Any) -> Any:
    from ..client import LLMClient

    return LLMClient(
        options.model,
        max_requests_per_minute=options.rpm,
        max_tokens_per_minute=options.tpm,
        max_concurrent_requests=options.max_concurrent,
        max_new_tokens=options.max_new_tokens,
        temperature=options.temperature,
        json_mode=options.json_mode,
        cache=cache,
        progress=options.progress,
        address=options.address,
        num_callers=options.callers,
    )


def _report_problem(
    summary: JobSummary, problem: InputProblem, on_problem: Callable[[InputProblem], None] | None
) -> None:
    summary.bad_input += 1
    if len(summary.problems) < MAX_PROBLEMS_SHOWN:
        summary.problems.append(str(problem))
    if on_problem:
        on_problem(problem)


def open_cache(options: JobOptions) -> Any:
    if not options.cache:
        return None
    from ..cache import SqliteCache

    # Keyed on the model and sampling parameters too: a user comparing two models with one
    # cache file must get each model's answers (the library default keys on content only).
    # Absolute: with --engine data the cache travels to actors with their own working dir.
    return SqliteCache(os.path.abspath(options.cache), include_request_params=True)


def _usage_price(model: Any) -> Callable[[dict[str, Any]], float]:
    """Dollars of a batch output line's usage at ``model``'s prices (cached tokens as uncached:
    an upper bound, which is what a budget needs)."""

    def price(usage: dict[str, Any]) -> float:
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if not isinstance(prompt, int) or not isinstance(completion, int):
            return 0.0
        return estimate_cost(model, prompt, completion)

    return price


def open_output(options: JobOptions, model: Any, summary: JobSummary, warn: Any) -> Any:
    """Repair the output for appending; returns what it holds (ids, failures, spend)."""
    state = prepare_output(
        options.output, retry_failed=options.retry_failed, usage_price=_usage_price(model)
    )
    summary.spent_before = state.spent
    summary.retried_failed = state.retried
    if state.rejected_lines:
        summary.repaired_output_lines = len(state.rejected_lines)
        shown = ", ".join(str(n) for n in state.rejected_lines[:MAX_PROBLEMS_SHOWN])
        warn(
            f"{options.output}: {len(state.rejected_lines)} unusable line(s) (line {shown}) "
            f"moved to {options.output}.rejected; their prompts run again"
        )
    return state


async def run_job(
    options: JobOptions,
    *,
    on_problem: Callable[[InputProblem], None] | None = None,
    on_interrupt: Callable[[int], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_resume: Callable[[int, int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> JobSummary:
    """Run the job described by ``options``; returns the summary (also after Ctrl-C).

    Every input line ends as a row in the output or a reported problem: ``on_problem``
    gets each bad line, ``on_warning`` each repair (an id or output line that had to be
    fixed to be written). ``on_interrupt(in_flight)`` is called on the first Ctrl-C,
    when submission stops and the prompts already sent are being finished.
    ``on_resume(rows, to_go, paid_twice)`` is called before anything is sent when the
    output already holds rows or an earlier run was killed with prompts in flight
    (``paid_twice``: how many, so at most that many requests are paid twice). ``clock``
    times each row's ``latency_s`` and the run.
    """
    from ..models import get_model

    options.validate()
    model = get_model(options.model)
    check_input(options.input, exclude=[options.output])  # before the output is touched
    summary = JobSummary(output=options.output)

    def warn(message: str) -> None:
        if on_warning:
            on_warning(message)

    state = open_output(options, model, summary, warn)
    ledger = InflightLedger(options.output)
    summary.paid_twice_at_most = ledger.unfinished(state.done)
    resuming = bool(state.done or summary.paid_twice_at_most)
    # The total is for the progress display and the resume report: without either, the
    # input is read once.
    total = None
    if options.show_progress or resuming:
        total = sum(1 for kind, _ in _input_items(options, state.done) if kind == "run")
    if resuming and on_resume:
        on_resume(len(state.done), total or 0, summary.paid_twice_at_most)
    writer = ResultWriter(options.output)
    ledger.start()
    cache = open_cache(options)
    client = client_for(options, cache)
    body_settings = BodySettings(options.model, options.max_new_tokens, options.temperature)
    started = clock()
    window = asyncio.Semaphore(options.effective_window())
    # Dollars: what earlier runs spent (from the output file), the actual cost of finished
    # prompts, and the worst case of the ones in flight.
    committed = state.spent
    pending: set[asyncio.Task[None]] = set()
    budget_reached = False
    drained = False  # every prompt handed to the client has its row written

    def record(row: dict[str, Any], record: JobRecord) -> None:
        if not writer.write(row):
            warn(f"line {record.line}: the reply to id {record.id!r} was repaired to be written")

    async def one(item: JobRecord, conversation: Any, estimate: float) -> None:
        nonlocal committed
        sent = clock()
        fmt = options.output_format
        try:
            try:
                response = await client.start(conversation)
            except Exception as exc:
                record(crash_row(item, model.id, exc, clock() - sent, fmt), item)
                summary.failed += 1
                committed -= estimate  # nothing known to be billed
                return
            record(result_row(item, response, clock() - sent, fmt, model.id), item)
            committed += (response.cost or 0.0) - estimate
            if response.is_error:
                summary.failed += 1
                return
            summary.done += 1
            summary.cache_hits += bool(response.local_cache_hit)
            if response.usage is not None:
                summary.input_tokens += response.usage.input_tokens
                summary.output_tokens += response.usage.output_tokens
                summary.cached_tokens += response.usage.cache_read_tokens
            summary.cost += response.cost or 0.0
        finally:
            window.release()

    interrupt = _StopOnFirstInterrupt(lambda: on_interrupt(len(pending)) if on_interrupt else None)
    client.open(total=total, show_progress=options.show_progress)
    try:
        with interrupt:
            for kind, item in _input_items(options, state.done):
                if interrupt.requested:
                    break
                if kind == "problem":
                    summary.duplicates += item.message.startswith("duplicate id")
                    _report_problem(summary, item, on_problem)
                    continue
                if kind == "existing":
                    summary.skipped_existing += 1
                    summary.skipped_failed += item.id in state.failed
                    continue
                if budget_reached:
                    summary.not_submitted_budget += 1
                    continue
                try:
                    conversation = _conversation_for(item)
                    tokens = conversation.count_tokens()
                except Exception as exc:
                    _report_problem(summary, InputProblem(item.line, str(exc)), on_problem)
                    continue
                if item.warning:
                    summary.repaired_ids += 1
                    warn(item.warning)
                for message in body_settings.check(item):
                    warn(message)
                estimate = estimate_cost(model, tokens, options.max_new_tokens)
                if options.budget_usd is not None and committed + estimate > options.budget_usd:
                    budget_reached = True  # stop here: later prompts are counted, never sent
                    summary.not_submitted_budget += 1
                    continue
                committed += estimate
                await window.acquire()
                if interrupt.requested:
                    window.release()
                    break
                # In the ledger before the client has it: a kill from here on may leave the
                # prompt sent and paid without a row, and the resumed run must count it.
                ledger.sent(item.id)
                task = asyncio.create_task(one(item, conversation, estimate))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if pending:
                await asyncio.gather(*pending)
            drained = True
    finally:
        for task in pending:
            task.cancel()
        writer.close()
        ledger.close(nothing_in_flight=drained)
        summary.elapsed = clock() - started
        summary.interrupted = interrupt.requested
        tracker = client.tracker
        if tracker is not None:
            summary.rate_limited = tracker.snapshot().rate_limit_errors
        client.close()
        client.shutdown()
        if cache is not None:
            cache.close()
    return summary
