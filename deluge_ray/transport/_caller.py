"""What a ProviderCaller actor does, as a plain class: serve batches of prompts concurrently.

:class:`BatchCaller` holds one HTTP session and one lease holder per RateLimiter used (a
:class:`~deluge_ray.transport._session.ProviderTransport`) and serves every item of a
:class:`WorkBatch` at once through :class:`~deluge_ray.transport._runner.RequestRunner`.
Results stream back in lists as items finish (see :mod:`deluge_ray.transport._result_stream`
for when a list is cut). Why streaming rather than one answer per batch: one slow prompt
(retrying after a 429) does not hold back the rest of its batch, the driver sees progress as
it happens, and when the actor dies the driver knows exactly which items were already
answered, so it resends only the others.

The Ray actor (``deluge_ray.actors.provider_caller.ProviderCaller``) is a thin shell
around this class.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from ..metrics import result_metrics
from ._result_stream import stream_in_batches
from ._runner import RequestRunner
from ._session import ProviderTransport
from ._work import CallSpec, WorkBatch, WorkItem, WorkResult, error_result

__all__ = ["BatchCaller"]


async def _serve(
    runner: RequestRunner, item: WorkItem, spec: CallSpec, emit: Callable[[WorkResult], None]
) -> None:
    # A module function, not a method: Ray wraps every async method of an actor class in
    # a tracing shim, which would cost a frame on every step of every request.
    try:
        result = await runner.run(item, spec)
    except Exception as exc:
        result = error_result(
            item.key,
            spec.routes[0],
            f"internal error in ProviderCaller: {type(exc).__name__}: {exc}",
        )
    emit(result)


class BatchCaller:
    """Serves :class:`WorkBatch` es; ``caller_id`` names it to the rate limiters."""

    def __init__(self, caller_id: str) -> None:
        self.caller_id = caller_id
        self._transport = ProviderTransport(caller_id)
        self._runner = self._transport.runner()

    def run_batch(self, batch: WorkBatch) -> AsyncIterator[list[WorkResult]]:
        """Serve every item of ``batch``; yield lists of :class:`WorkResult` as they finish."""
        self._runner.blocklisted.update(batch.blocklisted_models)
        runner, specs = self._runner, batch.specs
        metrics = result_metrics(batch)  # None when metrics cannot be exported

        def start(emit: Callable[[WorkResult], None]) -> list:
            if metrics is not None:
                emit = metrics.timed(emit)
            return [_serve(runner, item, specs[item.spec_id], emit) for item in batch.items]

        on_batch = metrics.record if metrics is not None else None
        return stream_in_batches(start, len(batch.items), on_batch=on_batch)

    async def close(self) -> None:
        """Close the HTTP session and give unused lease capacity back."""
        await self._transport.close()
