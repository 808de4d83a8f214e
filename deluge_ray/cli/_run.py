"""The ``deluge-ray run`` job: stream a prompt file through an LLMClient into a results file.

The job never holds the whole input or output in memory: it reads records lazily, keeps a
bounded window of prompts in flight, and appends each result to the output file as soon as
it arrives. Ids already in the output file are skipped, so an interrupted run resumes where
it stopped and nothing is paid for twice.

The budget guard (``budget_usd``) is conservative: before a prompt is submitted, its
worst-case cost (input tokens at the input price plus ``max_new_tokens`` at the output
price) is added to the committed spend, and submission stops before that would pass the
budget. Completed prompts then replace their estimate by their actual cost.
"""

from __future__ import annotations

import asyncio
import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError
from ._jobfile import (
    InputProblem,
    JobRecord,
    ResultWriter,
    check_input,
    completed_ids,
    read_records,
    scan_output,
)

__all__ = ["JobOptions", "JobSummary", "dry_run", "estimate_cost", "run_job"]


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


@dataclass
class JobSummary:
    """What a run did; printed as the final table."""

    done: int = 0
    failed: int = 0
    skipped_existing: int = 0
    bad_input: int = 0
    not_submitted_budget: int = 0
    rate_limited: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost: float = 0.0
    elapsed: float = 0.0
    output: str = ""
    interrupted: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return (self.done + self.failed) / self.elapsed if self.elapsed > 0 else 0.0

    def rows(self) -> list[tuple[str, str]]:
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
        if self.not_submitted_budget:
            rows.insert(4, ("not sent (budget)", f"{self.not_submitted_budget:,}"))
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


def _result_row(record: JobRecord, response: Any) -> dict[str, Any]:
    usage = response.usage
    return {
        "id": record.id,
        "completion": response.completion,
        "model": response.model_internal,
        "finish_reason": response.finish_reason,
        "usage": None
        if usage is None
        else {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "cost": response.cost,
        "error": response.error_message if response.is_error else None,
    }


def dry_run(options: JobOptions) -> list[dict[str, Any]]:
    """Count tokens and estimate the worst-case cost without calling anything."""
    from ..models import get_model

    model = get_model(options.model)
    done = completed_ids(options.output) if options.output else set()
    prompts = input_tokens = 0
    for item in read_records(options.input, prompt_column=options.prompt_column):
        if isinstance(item, InputProblem) or item.id in done:
            continue
        if options.system and not item.system:
            item = JobRecord(item.id, item.prompt, options.system, item.line)
        prompts += 1
        input_tokens += _conversation_for(item).count_tokens()
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


def _client_for(options: JobOptions, cache: Any) -> Any:
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
    summary.problems.append(str(problem))
    if on_problem:
        on_problem(problem)


async def run_job(
    options: JobOptions,
    *,
    on_problem: Callable[[InputProblem], None] | None = None,
    on_interrupt: Callable[[int], None] | None = None,
) -> JobSummary:
    """Run the job described by ``options``; returns the summary (also after Ctrl-C).

    ``on_interrupt(in_flight)`` is called on the first Ctrl-C, when submission stops and
    the prompts already sent are being finished.
    """
    from ..models import get_model

    options.validate()
    model = get_model(options.model)
    check_input(options.input)  # before the output file is created or appended to
    summary = JobSummary(output=options.output)
    done, spent_before = scan_output(options.output)
    writer = ResultWriter(options.output)
    cache = None
    if options.cache:
        from ..cache import SqliteCache

        cache = SqliteCache(options.cache)
    client = _client_for(options, cache)
    total = sum(
        1
        for item in read_records(options.input, prompt_column=options.prompt_column)
        if isinstance(item, JobRecord) and item.id not in done
    )
    started = time.monotonic()
    window = asyncio.Semaphore(options.effective_window())
    # Dollars: what earlier runs spent (from the output file), the actual cost of finished
    # prompts, and the worst case of the ones in flight.
    committed = spent_before
    pending: set[asyncio.Task[None]] = set()
    budget_reached = False

    async def one(record: JobRecord, conversation: Any, estimate: float) -> None:
        nonlocal committed
        try:
            response = await client.start(conversation)
            writer.write(_result_row(record, response))
            committed += (response.cost or 0.0) - estimate
            if response.is_error:
                summary.failed += 1
            else:
                summary.done += 1
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
            for item in read_records(options.input, prompt_column=options.prompt_column):
                if interrupt.requested:
                    break
                if isinstance(item, InputProblem):
                    _report_problem(summary, item, on_problem)
                    continue
                if item.id in done:
                    summary.skipped_existing += 1
                    continue
                if budget_reached:
                    summary.not_submitted_budget += 1
                    continue
                done.add(item.id)  # a repeated id in the input runs once
                if options.system and not item.system:
                    item = JobRecord(item.id, item.prompt, options.system, item.line)
                try:
                    conversation = _conversation_for(item)
                except Exception as exc:  # a malformed messages list is this line's problem
                    _report_problem(summary, InputProblem(item.line, str(exc)), on_problem)
                    continue
                estimate = estimate_cost(model, conversation.count_tokens(), options.max_new_tokens)
                if options.budget_usd is not None and committed + estimate > options.budget_usd:
                    budget_reached = True  # stop here: later prompts are counted, never sent
                    summary.not_submitted_budget += 1
                    continue
                committed += estimate
                await window.acquire()
                if interrupt.requested:
                    window.release()
                    break
                task = asyncio.create_task(one(item, conversation, estimate))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if pending:
                await asyncio.gather(*pending)
    finally:
        for task in pending:
            task.cancel()
        writer.close()
        summary.elapsed = time.monotonic() - started
        summary.interrupted = interrupt.requested
        tracker = client.tracker
        if tracker is not None:
            summary.rate_limited = tracker.snapshot().rate_limit_errors
        client.close()
        client.shutdown()
        if cache is not None:
            cache.close()
    return summary
