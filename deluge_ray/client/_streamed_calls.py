"""Model calls the driver sends itself, streamed, because their text is wanted as it arrives.

An agent loop run with ``on_text_delta`` needs every piece of a reply's text in the
driver's process while the reply is generated. Sending those calls through a
ProviderCaller would mean one actor call per piece; the driver sends them itself instead,
on the engine's loop, with :func:`~deluge_ray.transport._text_stream.streaming_runner`:
the same runner, retry policy and fallback as a caller, and leases on the same shared
RateLimiter, so a streamed call counts against the key's limit like any other.

Everything else about such a call is the engine's, unchanged: the cache is consulted
before it (a hit streams nothing, as in lm-deluge 0.0.168), budgets reserve and settle its
cost, and its result is cached, post-processed and counted like a batch result.

The HTTP session and the lease holders live while any streamed call is in flight and are
closed when the last one ends (unused leased capacity goes back to the limiter at once),
so an interactive loop that pauses between rounds holds nothing at the limiter.
"""

from __future__ import annotations

import contextlib
import uuid

from ..transport._session import ProviderTransport
from ..transport._text_stream import TextSink, streaming_runner
from ..transport._work import CallSpec, WorkItem, WorkResult, error_result

__all__ = ["StreamedCalls"]


class StreamedCalls:
    """The driver's streamed calls of one engine; every method runs on the engine's loop."""

    def __init__(self) -> None:
        self._transport: ProviderTransport | None = None
        self._in_flight = 0

    async def run(
        self, item: WorkItem, spec: CallSpec, sink: TextSink, blocklisted: frozenset[str]
    ) -> WorkResult:
        """Send ``item`` streamed; its text goes to ``sink``. Never raises but on cancel."""
        if self._transport is None:
            self._transport = ProviderTransport(f"driver-stream-{uuid.uuid4().hex[:8]}")
        runner = streaming_runner(self._transport, sink)
        runner.blocklisted.update(blocklisted)
        self._in_flight += 1
        try:
            return await runner.run(item, spec)
        except Exception as exc:  # the runner answers every path; this guards against bugs
            message = f"internal error in a streamed call: {type(exc).__name__}: {exc}"
            return error_result(item.key, spec.routes[0], message)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                await self.aclose()

    async def aclose(self) -> None:
        """Close the session and give leased capacity back (a no-op when nothing is open)."""
        transport, self._transport = self._transport, None
        if transport is not None:
            with contextlib.suppress(Exception):
                await transport.close()
