"""The driver's engine: a private event loop thread that feeds callers and routes results.

Everything that touches the dispatcher, the cache and the progress counters runs on one
background thread with its own event loop. That is what lets the client's methods work
from plain scripts, from ``asyncio.run`` and from notebooks alike: the user's thread only
hands jobs over and waits on thread-safe futures, whichever loop (if any) it runs.

A :class:`Job` is a list of conversations with one :class:`CallSpec`; its future resolves
to the list of responses in input order. Each prompt is checked when the job is made, on
the caller's thread (:func:`~deluge_ray.prompt._checks.prompt_problem`): one that cannot be
sent becomes an error response naming its position, and its neighbours go on. On the engine
loop a job goes through:

1. **cache** – one batched lookup for every prompt that arrived in this loop tick; a hit
   is answered at once (``local_cache_hit=True``), costing no quota and no slot;
2. **budget** – a prompt whose estimate exceeds the whole token budget gets an error
   result (it could never be sent); with dollar budgets (``budget_usd``,
   ``key_budget_usd``) each prompt's worst-case cost is reserved by the
   :class:`~deluge_ray.client._spend_gate.SpendGate`, and a prompt a budget refuses gets
   an error result naming that budget; the reservation is settled with the actual cost
   when the response is in;
3. **dispatch** – the :class:`Dispatcher` merges identical in-flight prompts and sends
   batches to the :class:`RayCallerPool`; a prompt whose text is wanted as it arrives
   (``Job.text_sink``: an agent loop's ``on_text_delta``) is sent streamed by the driver
   itself instead (:mod:`._streamed_calls`);
4. **results** – successful responses are written to the cache (before ``postprocess``,
   which may edit them in place), ``postprocess`` is applied *on the driver* (so it need
   not pickle), the tracker is updated and the job's slot is filled.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._loop_thread import LoopThread
from ..api_requests import APIResponse
from ..api_requests.response import apply_postprocess
from ..prompt._checks import prompt_problem
from ..transport._work import CallSpec, WorkItem, WorkResult, error_result
from ._cache_io import CacheIO
from ._dispatcher import Dispatcher
from ._progress import ProgressDisplay
from ._spend_gate import HOLD, SpendGate
from ._starter import StarterPool
from ._streamed_calls import StreamedCalls
from ._tracker import StatusTracker

__all__ = ["Engine", "Job"]


@dataclass
class Job:
    """Prompts sharing one spec, answered into ``results`` in input order."""

    conversations: list[Any]
    estimates: list[int]
    spec: CallSpec
    response_ids: list[int]
    tracker: StatusTracker
    display: ProgressDisplay
    # A start_nowait task: the future holds the one response, not a list.
    single: bool = False
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)
    results: list[APIResponse | None] = field(default_factory=list)
    remaining: int = 0
    #: Per prompt: why it cannot be sent (it is answered with an error), or ``None``.
    problems: list[str | None] = field(default_factory=list)
    #: Content fingerprints of the prompts taken in (the in-flight de-duplication key).
    fingerprints: dict[int, str] = field(default_factory=dict)
    #: Where the reply's text goes as it arrives (an agent loop's ``on_text_delta``): the
    #: prompt is then sent streamed by the driver itself (:mod:`._streamed_calls`).
    text_sink: Any = None

    def __post_init__(self) -> None:
        self.results = [None] * len(self.conversations)
        self.remaining = len(self.conversations)
        # Checked here, on the submitting thread, so decoding images never stalls the loop.
        targets = [(r.model.id, r.model.api_spec) for r in _sendable_routes(self.spec)]
        self.problems = [prompt_problem(c, targets) for c in self.conversations]

    def label(self, index: int) -> str:
        """How an error names prompt ``index``: its place in the call, or its task id."""
        if self.single:
            return f"the prompt of task {self.response_ids[index]}"
        return f"prompts[{index}]"


def _sendable_routes(spec: CallSpec) -> tuple[Any, ...]:
    # The routes a prompt may be sent to first; zero-weight models are only a fallback.
    weighted = tuple(r for r in spec.routes if r.weight > 0)
    return weighted or spec.routes


class Engine:
    """Owns the loop thread, the caller pool and the dispatcher of one client."""

    def __init__(
        self,
        *,
        pool_factory: Callable[[dict[int, CallSpec]], Any],
        cache_io: CacheIO | None,
        postprocess: Callable[[APIResponse], APIResponse] | None,
        token_budget: Callable[[], int],
        max_outstanding: int,
        spend_gate: SpendGate | None = None,
        driver_starts: bool = False,
    ) -> None:
        self.specs: dict[int, CallSpec] = {}
        # The driver sends the first prompts itself while the first caller starts
        # (``_starter``); off for a client that chose its own callers.
        self._driver_starts = driver_starts
        self._starter: StarterPool | None = None
        self._pool_factory = pool_factory
        self._cache_io = cache_io
        self._postprocess = postprocess
        self._token_budget = token_budget
        self._max_outstanding = max_outstanding
        self._spend_gate = spend_gate if spend_gate is not None and spend_gate.active else None
        self._reserved_usd: dict[tuple[int, int], float] = {}  # (id(job), index) -> dollars
        self._held: list[tuple[Job, int]] = []  # prompts waiting for a budget's refunds
        self._pool: Any = None
        self._dispatcher: Dispatcher | None = None
        self._streamed = StreamedCalls()
        self._streaming: set[asyncio.Task] = set()
        self._intake: list[Job] = []
        self._intake_lock = threading.Lock()
        self._intake_scheduled = False
        self._loop_thread = LoopThread("deluge-ray-engine")
        self._loop = self._loop_thread.loop
        self._closed = False

    # ---- user-thread API -----------------------------------------------------------------
    @property
    def pool(self) -> Any:
        """The caller pool (created on the first job)."""
        return self._pool

    def start_pool(self) -> None:
        """Create the caller pool now if it does not exist yet (idempotent).

        Ray creates actors asynchronously, so calling this early lets the callers' worker
        processes start while the driver does other set-up (the rate limiter's start).
        Called from the user's thread, never the loop: the first batch must not race the
        pool's construction.
        """
        if self._pool is None:
            self._pool = self._pool_factory(self.specs)

    def submit(self, job: Job) -> concurrent.futures.Future:
        """Hand ``job`` to the engine; returns its future (a list of responses)."""
        if self._closed:
            raise RuntimeError("this client's engine is shut down; create a new LLMClient")
        self.start_pool()
        with self._intake_lock:
            self._intake.append(job)
            schedule = not self._intake_scheduled
            self._intake_scheduled = True
        if schedule:
            self._loop.call_soon_threadsafe(self._start_intake)
        return job.future

    def in_flight(self) -> int:
        """Items currently with callers."""
        return self._dispatcher.in_flight if self._dispatcher is not None else 0

    def blocklisted_models(self) -> frozenset[str]:
        """Models found unusable so far."""
        return self._dispatcher.blocklisted_models if self._dispatcher else frozenset()

    def shutdown(self) -> None:
        """Stop the loop thread and kill the callers."""
        if self._closed:
            return
        self._closed = True
        for closing in (self._dispatcher, self._starter, self._streamed):
            if closing is None:
                continue
            fut = asyncio.run_coroutine_threadsafe(closing.aclose(), self._loop)
            try:
                fut.result(timeout=10)
            except Exception:
                pass
        self._loop_thread.close()
        if self._pool is not None and hasattr(self._pool, "shutdown"):
            self._pool.shutdown()

    # ---- engine loop -------------------------------------------------------------------
    def _start_intake(self) -> None:
        with self._intake_lock:
            jobs, self._intake = self._intake, []
            self._intake_scheduled = False
        task = self._loop.create_task(self._take_in(jobs))

        def _fail_jobs(t: asyncio.Task) -> None:
            # A bug in intake must fail the waiting calls, never leave them hanging.
            if not t.cancelled() and t.exception() is not None:
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(t.exception())

        task.add_done_callback(_fail_jobs)

    def _ensure_dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            pool = self._pool
            if self._driver_starts:
                pool = self._starter = StarterPool(self._pool, self.specs)
            self._dispatcher = Dispatcher(
                pool,
                on_results=self._on_results,
                make_error=self._error_result,
                max_outstanding=self._max_outstanding,
            )
        return self._dispatcher

    async def _take_in(self, jobs: list[Job]) -> None:
        slots = []
        for job in jobs:
            for i in range(len(job.conversations)):
                if self._sendable(job, i):
                    slots.append((job, i))
        if self._cache_io is not None:
            hits = await self._cache_io.lookup([job.conversations[i] for job, i in slots])
        else:
            hits = [None] * len(slots)
        await self._admit(slots, hits)

    async def _admit(self, slots: list[tuple[Job, int]], hits: list[Any]) -> None:
        dispatcher = self._ensure_dispatcher()
        budget = self._token_budget()
        entries = []
        stopped = await self._reserve_spend(slots, hits, budget)
        for (job, i), hit in zip(slots, hits, strict=True):
            if stopped.get((id(job), i)) == HOLD:  # waits for refunds: admitted again later
                self._held.append((job, i))
            elif hit is not None:
                hit.local_cache_hit = True
                self._finish(job, i, hit, counts_usage=False)
            elif job.estimates[i] > budget:
                self._finish(job, i, self._over_budget(job, i, budget), counts_usage=False)
            elif (id(job), i) in stopped:
                response = self._stopped(job, i, stopped[(id(job), i)])
                self._finish(job, i, response, counts_usage=False)
            else:
                item = WorkItem(
                    key=-1,
                    conversation=job.conversations[i],
                    estimated_tokens=job.estimates[i],
                    spec_id=job.spec.spec_id,
                )
                if job.text_sink is not None:
                    self._spawn(self._send_streamed(job, i, item))
                    continue
                dedup_key = (job.fingerprints[i], job.spec.spec_id)
                entries.append((item, dedup_key, (job, i)))
        dispatcher.submit(entries)
        for job in {id(job): job for job, _ in slots}.values():
            job.tracker.set_in_flight(dispatcher.in_flight)
            job.display.refresh()

    def _spawn(self, coro: Any) -> None:
        task = self._loop.create_task(coro)
        self._streaming.add(task)  # held: the loop keeps only a weak reference
        task.add_done_callback(self._streaming.discard)
        task.add_done_callback(_raise_in_loop)

    async def _send_streamed(self, job: Job, index: int, item: WorkItem) -> None:
        """Send one prompt streamed from the driver; its result goes the usual way."""
        blocklisted = self.blocklisted_models()
        result = await self._streamed.run(item, job.spec, job.text_sink, blocklisted)
        if result.blocklisted_models and self._dispatcher is not None:
            self._dispatcher.note_blocklisted(result.blocklisted_models)  # spare the callers
        self._on_results([([(job, index)], result)])

    def _sendable(self, job: Job, index: int) -> bool:
        """Whether prompt ``index`` of ``job`` goes on; if not, it is answered with an error."""
        problem = job.problems[index]
        if problem is None:
            try:
                job.fingerprints[index] = job.conversations[index].fingerprint
                return True
            except Exception as exc:  # whatever slipped past the checks fails this prompt only
                problem = f"it cannot be prepared for sending: {type(exc).__name__}: {exc}"
        self._finish(job, index, self._rejected(job, index, problem), counts_usage=False)
        return False

    async def _reserve_spend(self, slots, hits, budget: int) -> dict[tuple[int, int], str]:
        """Reserve the worst-case cost of every prompt to send; ``{(id(job), i): why not}``."""
        gate = self._spend_gate
        if gate is None:
            return {}
        by_spec: dict[int, list[tuple[Job, int]]] = {}
        for (job, i), hit in zip(slots, hits, strict=True):
            if hit is None and job.estimates[i] <= budget:
                by_spec.setdefault(job.spec.spec_id, []).append((job, i))
        stopped: dict[tuple[int, int], str] = {}
        for members in by_spec.values():
            routes = members[0][0].spec.routes
            costs = [gate.cost(routes, job.estimates[i]) for job, i in members]
            reasons = await gate.admit(routes, costs)
            for (job, i), cost, reason in zip(members, costs, reasons, strict=True):
                if reason is None:
                    self._reserved_usd[(id(job), i)] = cost
                else:
                    stopped[(id(job), i)] = reason
        return stopped

    def _settle_spend(
        self, job: Job, index: int, response: APIResponse, first: bool, into: dict[int, Any]
    ) -> None:
        """Add what ``job[index]`` reserved and cost to ``into`` (summed per spec)."""
        reserved = self._reserved_usd.pop((id(job), index), None)
        if reserved is None:
            return
        # Only the first waiter of a merged prompt was sent: the others cost nothing.
        actual = (response.cost or 0.0) if first else 0.0
        routes, total_reserved, total_actual = into.get(
            job.spec.spec_id, (job.spec.routes, 0.0, 0.0)
        )
        into[job.spec.spec_id] = (routes, total_reserved + reserved, total_actual + actual)

    def _on_results(self, pairs: list[tuple[list[Any], WorkResult]]) -> None:
        to_cache: list[tuple[Any, APIResponse]] = []
        for waiters, result in pairs:
            job, i = waiters[0]
            job.tracker.record_attempts(result.requests_sent, result.rate_limited, result.retries)
            response = result.response
            if self._cache_io is not None and not response.is_error and response.completion:
                # A private copy, taken before postprocess can edit the response in place.
                to_cache.append((job.conversations[i], CacheIO.snapshot(response)))
            response.attempts = result.requests_sent  # after the snapshot: a cache hit sent none
        if not to_cache:
            self._deliver(pairs)
            return

        async def store_then_deliver() -> None:
            # Results are handed out only once written, so "returned" implies "cached":
            # a second run right after the first hits the cache for every prompt.
            try:
                await self._cache_io.store(to_cache)
            finally:
                self._deliver(pairs)

        task = self._loop.create_task(store_then_deliver())
        task.add_done_callback(_raise_in_loop)

    def _deliver(self, pairs: list[tuple[list[Any], WorkResult]]) -> None:
        touched: dict[int, Job] = {}
        spend: dict[int, tuple[Any, float, float]] = {}  # spec id -> (routes, reserved, actual)
        for waiters, result in pairs:
            for n, (job, i) in enumerate(waiters):
                # Every position gets its own response object: duplicates must not share
                # one that a postprocess (or the user) then edits.
                response = result.response if n == 0 else copy.copy(result.response)
                self._settle_spend(job, i, response, n == 0, spend)
                self._finish(job, i, response, counts_usage=(n == 0))
                touched[id(job)] = job
        if self._spend_gate is not None:
            for routes, reserved, actual in spend.values():  # one settle per spec and batch
                self._spend_gate.settle(routes, reserved, actual)
            if self._held and spend:  # a refund may have made room for the held prompts
                held, self._held = self._held, []
                task = self._loop.create_task(self._admit(held, [None] * len(held)))
                task.add_done_callback(_raise_in_loop)
        in_flight = self._dispatcher.in_flight if self._dispatcher else 0
        for job in touched.values():
            job.tracker.set_in_flight(in_flight)
            job.display.refresh()

    def _finish(self, job: Job, index: int, response: APIResponse, *, counts_usage: bool) -> None:
        response.prompt = job.conversations[index]
        response.id = job.response_ids[index]
        response = apply_postprocess(self._postprocess, response)
        usage = response.usage if counts_usage else None
        job.tracker.record_result(
            succeeded=not response.is_error,
            local_cache_hit=bool(response.local_cache_hit),
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            cache_read_tokens=usage.cache_read_tokens if usage else 0,
            cache_write_tokens=usage.cache_write_tokens if usage else 0,
            cost=response.cost if counts_usage else None,
        )
        job.results[index] = response
        job.remaining -= 1
        if job.remaining == 0 and not job.future.done():
            job.future.set_result(job.results[0] if job.single else job.results)

    def _over_budget(self, job: Job, index: int, budget: int) -> APIResponse:
        return self._unsent(
            job,
            index,
            f"this request needs ~{job.estimates[index]:,} tokens (prompt + "
            f"max_new_tokens) but max_tokens_per_minute is {budget:,}, so it can never "
            "be sent; raise max_tokens_per_minute or shorten the prompt / lower "
            "max_new_tokens",
        )

    def _rejected(self, job: Job, index: int, problem: str) -> APIResponse:
        return self._unsent(job, index, f"{job.label(index)} was not sent: {problem}")

    def _stopped(self, job: Job, index: int, reason: str) -> APIResponse:
        """The error result of a prompt a dollar budget stopped (``reason`` names it)."""
        return self._unsent(job, index, reason)

    def _unsent(self, job: Job, index: int, message: str) -> APIResponse:
        """The error result of prompt ``index`` of ``job``, answered without being sent."""
        route = _sendable_routes(job.spec)[0]
        return APIResponse.error(
            id=job.response_ids[index],
            model=route.model,
            prompt=job.conversations[index],
            sampling_params=route.sampling_params,
            message=message,
        )

    def _error_result(self, item: WorkItem, message: str) -> WorkResult:
        return error_result(item.key, self.specs[item.spec_id].routes[0], message)


def _raise_in_loop(task: asyncio.Task) -> None:
    # Surface bugs in engine tasks instead of letting asyncio swallow them silently.
    if not task.cancelled() and task.exception() is not None:
        loop = task.get_loop()
        loop.call_exception_handler(
            {"message": "deluge_ray engine task failed", "exception": task.exception()}
        )
