"""``LLMClient.stream``: print a reply as it streams, on the shared rate limiter.

The stream itself is :func:`deluge_ray.api_requests.streaming.stream_chat`; this module
gives it capacity from the same shared RateLimiter as every batch request (a driver-side
:class:`~deluge_ray.ratelimit._lease_client.LeaseClient` behind a :class:`LimiterGate`)
and writes the text chunks to stdout.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api_requests.response import APIResponse
    from ._specs import CallSettings

__all__ = ["LimiterGate", "stream_to_stdout"]

_stream_ids = itertools.count()


class LimiterGate:
    """Lets one stream take and report capacity on the shared limiter like a batch request."""

    def __init__(self, lease_client: Any) -> None:
        self._lease = lease_client
        self._permit: Any = None

    async def acquire(self, tokens: int) -> Any:
        """Take ``tokens`` of capacity before the request is sent."""
        self._permit = await self._lease.acquire(tokens)
        return self._permit

    def report(
        self, *, status: int, headers: Mapping[str, str], estimated: int, used: int | None
    ) -> None:
        """Tell the limiter how the request went (status, tokens used, rate-limit headers)."""
        from ..ratelimit._headers import read_rate_limit_headers

        if self._permit is None:
            return
        observation = read_rate_limit_headers(headers)  # it lower-cases them itself
        self._lease.complete(
            self._permit,
            actual_tokens=used,
            status=status or None,
            retry_after=observation.retry_after,
            observation=observation,
        )


async def stream_to_stdout(
    settings: CallSettings, prompt: Any, *, tools: Sequence[Any] | None
) -> APIResponse:
    """Stream ``prompt`` to the client's first model, printing text as it arrives, with
    capacity from the first route's limiter; the final response."""
    from ..api_requests.streaming import stream_chat
    from ..ratelimit._lease_client import LeaseClient

    gate = None
    lease_client = None
    route = settings.routes[0]
    if route.limiter is not None:
        lease_client = LeaseClient.for_actor(route.limiter, f"stream-{next(_stream_ids)}")
        gate = LimiterGate(lease_client)
    final: APIResponse | None = None
    try:
        async for item in stream_chat(
            settings.first_model,
            prompt,
            tools=list(tools) if tools else None,
            sampling_params=settings.first_sampling_params,
            extra_headers=settings.extra_headers,
            extra_body=settings.extra_body,
            request_timeout=settings.request_timeout,
            gate=gate,
        ):
            if isinstance(item, str):
                sys.stdout.write(item)
                sys.stdout.flush()
            else:
                final = item
    finally:
        if lease_client is not None:
            await lease_client.close()
    sys.stdout.write("\n")
    assert final is not None  # stream_chat always ends with the final response
    return final
