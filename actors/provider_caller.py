"""ProviderCaller: a stateless async actor that sends batches of prompts to providers.

A client starts a small pool of them (``num_cpus=0``: they wait on the network, not the
CPU; ``scheduling_strategy="SPREAD"`` puts them on different nodes). Each holds one aiohttp
session and one lease holder per RateLimiter it uses, and serves every item of a batch
concurrently through :class:`~deluge_ray.actors._caller_runner.RequestRunner`.

Results stream back: :meth:`ProviderCaller.run_batch` is an async generator called with
``num_returns="streaming"``, yielding *lists* of results as items finish (collected over a
few milliseconds). Why streaming rather than one call per chunk: one slow prompt (retrying
after a 429) does not hold back the results of the rest of its batch, the driver sees
progress as it happens, and when the actor dies the driver knows exactly which items were
already answered, so it resends only the others.

Example (needs a running Ray and the driver-side records; the client does all this)::

    caller = ProviderCaller.options(scheduling_strategy="SPREAD").remote("c0")
    async for ref in caller.run_batch.options(num_returns="streaming").remote(batch):
        for result in await ref:
            print(result.key, result.response.completion)
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import ray

from deluge_ray.client._work import CallSpec, ModelRoute, WorkBatch, WorkItem, WorkResult

from ._caller_runner import LeaseHolder, RequestRunner

__all__ = ["ProviderCaller"]

# After the first result of a round is ready, wait this long for more before yielding,
# so a busy batch returns a few large lists instead of many one-item ones.
_RESULT_FLUSH_S = 0.005


def _make_lease_holder(route: ModelRoute, caller_id: str) -> LeaseHolder | None:
    if route.limiter is None:
        return None
    from deluge_ray._lease_client import LeaseClient

    return LeaseClient.for_actor(route.limiter, caller_id)


@ray.remote(num_cpus=0)
class ProviderCaller:
    """See the module docstring. ``caller_id`` names this caller to the rate limiters."""

    def __init__(self, caller_id: str) -> None:
        from deluge_ray.api_requests import build_request, parse_response

        try:
            from deluge_ray._ratelimit_headers import read_rate_limit_headers
        except ImportError:  # header learning is optional for the caller
            read_rate_limit_headers = None
        self._caller_id = caller_id
        self._http: aiohttp.ClientSession | None = None
        self._leases_by_limiter: dict[str, LeaseHolder | None] = {}
        self._runner = RequestRunner(
            send=self._send,
            lease_for=self._lease_for,
            build_request=build_request,
            parse_response=parse_response,
            read_headers=read_rate_limit_headers,
            send_background=self._send_background,
        )

    def _lease_for(self, route: ModelRoute) -> LeaseHolder | None:
        if route.limiter_name not in self._leases_by_limiter:
            self._leases_by_limiter[route.limiter_name] = _make_lease_holder(route, self._caller_id)
        return self._leases_by_limiter[route.limiter_name]

    async def _send(self, request: Any, timeout: float) -> tuple[int, dict[str, str], bytes]:
        if self._http is None:
            # limit=0: concurrency is the rate limiter's job; a connector cap here would
            # queue requests invisibly after they were granted capacity.
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        async with self._http.request(
            request.method,
            request.url,
            headers=request.headers,
            json=request.json,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as reply:
            body = await reply.read()
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, body

    async def _send_background(
        self, model: Any, request: Any, timeout: float
    ) -> tuple[int, dict[str, str], Any]:
        from deluge_ray._background import run_background_response

        if self._http is None:
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        outcome = await run_background_response(self._http, model, request, timeout=timeout)
        headers = {k.lower(): v for k, v in (outcome.headers or {}).items()}
        return outcome.status, headers, outcome.parsed

    async def _serve(self, item: WorkItem, spec: CallSpec, done: asyncio.Queue) -> None:
        try:
            result = await self._runner.run(item, spec)
        except Exception as exc:
            from deluge_ray.api_requests.response import APIResponse

            route = spec.routes[0]
            result = WorkResult(
                key=item.key,
                response=APIResponse(
                    id=item.key,
                    model_internal=route.model.id,
                    prompt={},
                    sampling_params=route.sampling_params,
                    status_code=None,
                    is_error=True,
                    error_message=f"internal error in ProviderCaller: {type(exc).__name__}: {exc}",
                ),
            )
        done.put_nowait(result)

    async def run_batch(self, batch: WorkBatch):
        """Serve every item of ``batch``; yield lists of :class:`WorkResult` as they finish."""
        self._runner.blocklisted.update(batch.blocklisted_models)
        done: asyncio.Queue[WorkResult] = asyncio.Queue()
        tasks = [
            asyncio.create_task(self._serve(item, batch.specs[item.spec_id], done))
            for item in batch.items
        ]
        remaining = len(tasks)
        try:
            while remaining:
                ready = [await done.get()]
                if remaining > 1:
                    await asyncio.sleep(_RESULT_FLUSH_S)
                while not done.empty():
                    ready.append(done.get_nowait())
                remaining -= len(ready)
                yield ready
        finally:
            # The driver went away (or cancelled): do not keep spending quota for nobody.
            for task in tasks:
                task.cancel()

    async def ping(self) -> str:
        """Liveness check; returns the caller id."""
        return self._caller_id

    async def close(self) -> None:
        """Close the HTTP session and give unused lease capacity back."""
        if self._http is not None:
            await self._http.close()
            self._http = None
        for lease in self._leases_by_limiter.values():
            if lease is not None and hasattr(lease, "close"):
                with contextlib.suppress(Exception):
                    result = lease.close()
                    if asyncio.iscoroutine(result):
                        await result
