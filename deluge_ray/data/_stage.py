"""The Ray Data stage: an async callable class that answers a batch of rows at once.

Ray Data builds one :class:`DatasetCaller` per actor of the ``map_batches`` pool and calls
it with pyarrow tables. Each actor holds what a ProviderCaller holds (one HTTP session and
one lease holder per RateLimiter, :class:`~deluge_ray.transport._session.ProviderTransport`)
and serves rows through the same :class:`~deluge_ray.transport._runner.RequestRunner`, so
retries, model fallback and blocklisting are the client's own, and capacity comes from the
*same* named RateLimiter as every other client of the key (the routes carry its handle).

Per batch: read every row's prompt (a bad one is an error row), refuse rows whose estimate
exceeds the whole token budget, answer what the client's cache already holds, send the
rest concurrently (identical prompts of a batch once), write the new answers to the cache,
apply the client's ``postprocess``, and append the result columns. Nothing outlives the
batch, so an actor's memory does not grow with the dataset. A row never raises: every path
ends in a row, with ``is_error`` and ``error_message`` when it failed. The sent rows' request
metrics are recorded once per batch, as a ProviderCaller records its results
(:mod:`deluge_ray.metrics`).

**Nothing held while idle.** Ray Data kills the pool's actors when a job ends (and an idle
actor when the pool shrinks), without a call the actor could answer. A killed actor's
concurrency slots and unused leased requests would stay taken at the RateLimiter until its
``slot_reclaim_seconds`` (two minutes during which every other client of the key crawls).
So whenever an actor's last batch in flight ends, it gives everything back to its limiters
and closes its HTTP session before returning the batch: an actor Ray Data can kill holds
nothing, and its end prints nothing.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..api_requests.response import APIResponse, apply_postprocess
from ..client._cache_io import CacheIO
from ..errors import ConfigurationError
from ..metrics import ResultMetrics, result_metrics
from ..prompt import Conversation
from ..transport._session import ProviderTransport
from ..transport._work import CallSpec, WorkBatch, WorkItem, WorkResult, error_result
from ._columns import ColumnValues
from ._rows import RowReader

__all__ = ["CACHE_WRITE_GROUP", "DatasetCaller", "StageSpec"]

#: Answers written to the cache together (see ``DatasetCaller._run_and_cache``).
CACHE_WRITE_GROUP = 8


@dataclass(frozen=True)
class StageSpec:
    """Everything an actor of the stage needs, resolved on the driver (keys as ``Secret``)."""

    call_spec: CallSpec
    reader: RowReader
    columns: tuple[str, ...]
    max_new_tokens: int
    tool_tokens: int
    token_budget: int
    cache: Any = None
    request_key: str = ""
    postprocess: Callable[[APIResponse], APIResponse] | None = None
    name: str = "dataset"

    def estimate(self, conversation: Conversation) -> int:
        """The tokens one request of ``conversation`` may use (prompt, reply and tools)."""
        return conversation.count_tokens(self.max_new_tokens) + self.tool_tokens


def _ignore(_result: WorkResult) -> None:
    """The ``emit`` of a metrics recorder's timing: the stage collects results itself."""


def _over_budget_message(estimate: int, budget: int) -> str:
    return (
        f"this row needs ~{estimate:,} tokens (prompt + max_new_tokens) but "
        f"max_tokens_per_minute is {budget:,}, so it can never be sent; shorten the prompt, "
        "lower max_new_tokens or raise max_tokens_per_minute"
    )


class DatasetCaller:
    """The ``map_batches`` callable: a pyarrow table in, the same table plus result columns out."""

    def __init__(self, stage: StageSpec) -> None:
        self._stage = stage
        self._first_model = stage.call_spec.routes[0].model.id
        # The caller id names this actor to the limiters (slots, fair shares); no key in it.
        self._transport = ProviderTransport(f"data:{stage.name}:{uuid.uuid4().hex[:12]}")
        self._runner = self._transport.runner()
        self._cache_io = (
            CacheIO(stage.cache, request_key=stage.request_key) if stage.cache is not None else None
        )
        self._next_key = 0
        self._batches_in_flight = 0  # Ray Data runs a few batches of one actor at once

    async def __call__(self, batch: Any) -> Any:
        """Answer every row of ``batch`` (a ``pyarrow.Table``); return it with the columns added."""
        self._batches_in_flight += 1
        try:
            return await self._answer(batch)
        finally:
            self._batches_in_flight -= 1
            if self._batches_in_flight == 0:
                # Before the batch is handed back: once Ray Data has it, it may kill us.
                # The HTTP session closes too, else its teardown logs "Unclosed client
                # session" errors; the next batch opens another (once per idle spell).
                await self._transport.close()

    async def _answer(self, batch: Any) -> Any:
        stage = self._stage
        clash = [name for name in stage.columns if name in batch.column_names]
        if clash:
            raise ConfigurationError(
                f"the dataset already has column(s) {clash} that process_dataset adds; "
                "rename or drop them first (ds.rename_columns / ds.drop_columns)"
            )
        values = ColumnValues(stage.columns, batch.num_rows)
        pending = self._read_rows(batch, values)
        pending = await self._answer_from_cache(pending, values)
        await self._send(pending, values)
        for name, array in values.arrays().items():
            batch = batch.append_column(name, array)
        return batch

    def _read_rows(self, batch: Any, values: ColumnValues) -> list[tuple[int, Conversation, int]]:
        """``(row index, conversation, estimate)`` of each row that may be sent."""
        stage, model = self._stage, self._first_model
        missing = [c for c in stage.reader.required_columns if c not in batch.column_names]
        if missing:
            message = (
                f"the dataset has no column {missing[0]!r}; its columns are "
                f"{list(batch.column_names)}"
            )
            for index in range(batch.num_rows):
                values.set_error(index, message, model=model)
            return []
        pending = []
        rows = batch.select(list(dict.fromkeys(stage.reader.required_columns))).to_pylist()
        for index, row in enumerate(rows):
            try:
                read = stage.reader.read(row)
                estimate = stage.estimate(read) if not isinstance(read, str) else 0
            except Exception as exc:  # e.g. an image part that cannot be counted
                read = f"could not read this row's prompt: {type(exc).__name__}: {exc}"
            if isinstance(read, str):
                values.set_error(index, read, model=model)
                continue
            if estimate > stage.token_budget:
                values.set_error(
                    index, _over_budget_message(estimate, stage.token_budget), model=model
                )
                continue
            pending.append((index, read, estimate))
        return pending

    async def _answer_from_cache(
        self, pending: list[tuple[int, Conversation, int]], values: ColumnValues
    ) -> list[tuple[int, Conversation, int]]:
        if self._cache_io is None or not pending:
            return pending
        hits = await self._cache_io.lookup([conversation for _, conversation, _ in pending])
        missed = []
        for (index, conversation, estimate), hit in zip(pending, hits, strict=True):
            if hit is None:
                missed.append((index, conversation, estimate))
                continue
            hit.local_cache_hit = True
            self._finish(index, conversation, hit, values)
        return missed

    async def _send(
        self, pending: list[tuple[int, Conversation, int]], values: ColumnValues
    ) -> None:
        if not pending:
            return
        # Identical prompts of one batch are sent once; every row gets its own copy.
        rows_by_prompt: dict[str, list[tuple[int, Conversation]]] = {}
        unique: list[tuple[Conversation, int]] = []
        for index, conversation, estimate in pending:
            waiting = rows_by_prompt.setdefault(conversation.fingerprint, [])
            if not waiting:
                unique.append((conversation, estimate))
            waiting.append((index, conversation))
        unwritten: list[tuple[Conversation, APIResponse]] = []
        items = [self._item(conversation, estimate) for conversation, estimate in unique]
        metrics = result_metrics(WorkBatch(items, {0: self._stage.call_spec}))
        results = await asyncio.gather(
            *(self._run_and_cache(item, unwritten, metrics) for item in items)
        )
        if metrics is not None:
            metrics.record(list(results))  # one record per batch, like a ProviderCaller's list
        if unwritten:
            assert self._cache_io is not None
            await self._cache_io.store(unwritten)
        for (conversation, _), result in zip(unique, results, strict=True):
            response = result.response
            response.attempts = result.requests_sent
            for n, (index, row_conversation) in enumerate(rows_by_prompt[conversation.fingerprint]):
                self._finish(
                    index, row_conversation, response if n == 0 else copy.copy(response), values
                )

    def _item(self, conversation: Conversation, estimate: int) -> WorkItem:
        key, self._next_key = self._next_key, self._next_key + 1
        return WorkItem(key=key, conversation=conversation, estimated_tokens=estimate, spec_id=0)

    async def _run_and_cache(
        self,
        item: WorkItem,
        unwritten: list[tuple[Conversation, APIResponse]],
        metrics: ResultMetrics | None,
    ) -> WorkResult:
        """Send one prompt; cache its answer within the next few answers, not at batch end.

        Writing as answers arrive (in groups, so a CacheActor gets one call per group) is
        what makes a killed job cheap to resume: at most ``CACHE_WRITE_GROUP - 1`` answered
        rows per batch are lost with the actor, not the whole batch.
        """
        result = await self._run_one(item)
        if metrics is not None:
            metrics.timed(_ignore)(result)  # notes this prompt's latency for the record
        conversation = item.conversation
        response = result.response
        if self._cache_io is not None and not response.is_error and response.completion:
            # A private copy, taken before postprocess may edit the response in place.
            unwritten.append((conversation, CacheIO.snapshot(response)))
            if len(unwritten) >= CACHE_WRITE_GROUP:
                group = unwritten[:]
                unwritten.clear()
                await self._cache_io.store(group)
        return result

    async def _run_one(self, item: WorkItem) -> WorkResult:
        spec = self._stage.call_spec
        try:
            return await self._runner.run(item, spec)
        except Exception as exc:  # RequestRunner answers every path; this is a bug guard
            return error_result(
                item.key,
                spec.routes[0],
                f"internal error in process_dataset: {type(exc).__name__}: {exc}",
            )

    def _finish(
        self, index: int, conversation: Conversation, response: APIResponse, values: ColumnValues
    ) -> None:
        response.prompt = conversation
        values.set_response(index, apply_postprocess(self._stage.postprocess, response))
