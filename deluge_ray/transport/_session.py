"""What every actor that talks to providers needs: its HTTP clients and its leases.

Shared by :class:`~deluge_ray.actors.provider_caller.ProviderCaller` and
:class:`~deluge_ray.actors.sub_agent.SubAgent`. :meth:`ProviderTransport.runner` builds the
:class:`~deluge_ray.transport._runner.RequestRunner` wired to these clients (model calls
over a :class:`~deluge_ray.transport._wire.WirePool`, streams and background polling over
an aiohttp session), to one lease holder per RateLimiter (created on first use), and to
background-mode polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING, Any

from ._retry import lower_headers
from ._runner import LeaseHolder, RequestRunner
from ._wire import WirePool
from ._work import ModelRoute

if TYPE_CHECKING:
    import aiohttp

HTTP_CLIENT_ENV = "DELUGE_RAY_HTTP"
"""Set to ``aiohttp`` (in the actors' environment) to send model calls through aiohttp
instead of :class:`~deluge_ray.transport._wire.WirePool`, e.g. to rule it out of a fault."""

__all__ = ["ProviderTransport"]


class ProviderTransport:
    """The HTTP clients and the lease holders of one actor (named ``caller_id``).

    >>> transport = ProviderTransport("caller-0")  # doctest: +SKIP
    >>> runner = transport.runner()                # doctest: +SKIP
    """

    def __init__(self, caller_id: str) -> None:
        self.caller_id = caller_id
        self._http: aiohttp.ClientSession | None = None
        self._wire: WirePool | None = None
        self._wire_enabled = os.environ.get(HTTP_CLIENT_ENV, "").strip().lower() != "aiohttp"
        # One lease client per (limiter, client): each serves one client's demand, so the
        # limiter sees who wants what and at which priority (see ratelimit._priority).
        self._leases_by_limiter: dict[tuple[str, str], LeaseHolder | None] = {}

    def runner(self) -> RequestRunner:
        from ..api_requests import build_request, parse_response
        from ..ratelimit._headers import read_rate_limit_headers

        return RequestRunner(
            send=self.send,
            lease_for=self.lease_for,
            build_request=build_request,
            parse_response=parse_response,
            read_headers=read_rate_limit_headers,
            send_background=self.send_background,
        )

    def lease_for(self, route: ModelRoute) -> LeaseHolder | None:
        """The lease holder of ``route``'s limiter (``None`` when the route has none)."""
        if route.limiter is None:
            return None
        client_id = route.tenant.client_id if route.tenant is not None else ""
        key = (route.limiter_name, client_id)
        if key not in self._leases_by_limiter:
            from ..ratelimit._lease_client import LeaseClient
            from ..ratelimit._priority import tenant_caller_id

            self._leases_by_limiter[key] = LeaseClient.for_actor(
                route.limiter, tenant_caller_id(self.caller_id, client_id), tenant=route.tenant
            )
        return self._leases_by_limiter[key]

    def session(self) -> aiohttp.ClientSession:
        """The actor's HTTP session (opened on first use)."""
        if self._http is None:
            # Imported here: model calls go through WirePool, and aiohttp's import costs
            # every ProviderCaller and SubAgent process ~0.08 s of CPU at start.
            import aiohttp

            # limit=0: concurrency is the rate limiter's job; a connector cap here would
            # queue requests invisibly after they were granted capacity.
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self._http

    async def send(self, request: Any, timeout: float) -> tuple[int, dict[str, str], bytes]:
        """One HTTP exchange: ``(status, lower-cased headers, body)``."""
        if self._wire_enabled:
            if self._wire is None:
                self._wire = WirePool()
            return await self._wire.send(
                request.method, request.url, request.headers, request.json, timeout
            )
        import aiohttp

        async with self.session().request(
            request.method,
            request.url,
            headers=request.headers,
            json=request.json,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as reply:
            body = await reply.read()
            return reply.status, lower_headers(reply.headers), body

    async def send_background(
        self, model: Any, request: Any, timeout: float
    ) -> tuple[int, dict[str, str], Any]:
        """Start a background response and poll it to its end (or cancel it at ``timeout``)."""
        from ._background import run_background_response

        outcome = await run_background_response(self.session(), model, request, timeout=timeout)
        headers = lower_headers(outcome.headers)
        return outcome.status, headers, outcome.parsed

    async def release_leases(self) -> None:
        """Give every limiter back what this actor holds (slots, unused leased capacity).

        For an actor that may be killed once idle (a Ray Data stage's): call it when no
        request is in flight. The holders are detached first, so a request starting while
        the last reports travel gets fresh ones instead of a closed one.
        """
        await self._close_leases(self._detach_leases())

    def _detach_leases(self) -> list[LeaseHolder]:
        leases = [lease for lease in self._leases_by_limiter.values() if lease is not None]
        self._leases_by_limiter.clear()
        return leases

    @staticmethod
    async def _close_leases(leases: list[LeaseHolder]) -> None:
        for lease in leases:
            if hasattr(lease, "close"):
                with contextlib.suppress(Exception):
                    result = lease.close()
                    if asyncio.iscoroutine(result):
                        await result

    async def close(self) -> None:
        """Close the session and give unused lease capacity back to the limiters."""
        # Both detached before the first await: a request starting while this closes (a
        # Ray Data stage's next batch) opens a new session and takes new lease holders.
        # Had it found the old ones, its acquire would have waited in a LeaseClient closed
        # under it, which re-leased without end (see LeaseClient._take_turn).
        http, self._http = self._http, None
        wire, self._wire = self._wire, None
        leases = self._detach_leases()
        if wire is not None:
            await wire.close()
        if http is not None:
            await http.close()
        await self._close_leases(leases)
