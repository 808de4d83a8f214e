"""``on_text_delta``: a driver-side agent loop's reply text, passed on as it streams.

Each model call of a loop run with ``on_text_delta`` is sent streamed by the driver
(:mod:`deluge_ray.client._streamed_calls`), on the engine's loop thread. A
:class:`TextDeltaRelay` (one per call) turns what that stream reports into
:class:`~deluge_ray.client.TextDeltaEvent` s and runs the user's callback with each on
*the loop that runs the agent loop*, one at a time and in order: the stream waits for the
callback, as in lm-deluge 0.0.168, so a slow callback slows the stream rather than piling
up events. The events, with ``round`` counting model calls of the loop from 0:

* ``TextDeltaEvent("text", round, model, piece)`` for each piece of visible text;
* ``TextDeltaEvent("reset", round, model)`` after every failed attempt: drop that
  round's partial text, a retry (or a fallback model) streams it again.

A reply served from the client's cache streams nothing. If the callback raises, the call
stops without retrying and the loop raises that exception to its caller (0.0.168 does).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

__all__ = ["TextDeltaRelay"]


class TextDeltaRelay:
    """Calls ``callback`` on ``loop`` with the events of round ``round_index`` (a
    :class:`~deluge_ray.transport._text_stream.TextSink`)."""

    def __init__(self, callback: Any, loop: asyncio.AbstractEventLoop, round_index: int) -> None:
        self._callback = callback
        self._loop = loop
        self._round = round_index
        self.failure: BaseException | None = None
        # Here, not at module level: deluge_ray.client imports the agent loops.
        from ..client._loop_types import TextDeltaEvent

        self._event = TextDeltaEvent

    async def text(self, model: str, piece: str) -> None:
        """One piece of visible text of the current attempt."""
        await self._emit(self._event("text", self._round, model, piece))

    async def reset(self, model: str) -> None:
        """The attempt failed: its partial text is void."""
        await self._emit(self._event("reset", self._round, model))

    async def _emit(self, event: Any) -> None:
        future = asyncio.run_coroutine_threadsafe(_call(self._callback, event), self._loop)
        await asyncio.wrap_future(future)


async def _call(callback: Any, event: Any) -> None:
    outcome = callback(event)
    if inspect.isawaitable(outcome):  # 0.0.168 wants a coroutine function; a plain one works
        await outcome
