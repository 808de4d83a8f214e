"""A swarm's callbacks, run on the driver from the events its loops send back.

Loops of a swarm run in SubAgent actors, but ``on_message``, ``on_round_complete`` and
``verbose`` printing belong to the driver (they may touch the caller's state, and 0.0.168
runs them in the caller's process). Each event carries the messages its round appended
(and, when ``on_round_complete`` is set, the round's response), which is everything the
hooks need: :class:`SwarmReplay` walks those messages and makes the same calls, in the
same order, as a loop on the driver does (:class:`~deluge_ray.agents._options.LoopHooks`).

Events arrive on the pool's thread; the calls are made in the *caller's* event loop, one
at a time in arrival order, so a loop's callbacks run in its round order and never
concurrently with each other. A callback that raises ends its loop's callbacks; the swarm
answers that loop with an error response naming the exception, as 0.0.168 does, and the
other loops go on.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..prompt import Conversation

if TYPE_CHECKING:
    from ..prompt import Message
    from ._options import LoopHooks
    from ._records import LoopEvent

__all__ = ["SwarmReplay"]

_DONE = object()


class SwarmReplay:
    """Replays one swarm's events through its hooks; see the module docstring.

    Build it in the caller's event loop; pass :meth:`on_event` to the pool; await
    :meth:`finish` once every loop has ended. ``failures`` maps loop index to the
    exception its callbacks raised.
    """

    def __init__(self, hooks: LoopHooks) -> None:
        self._hooks = hooks
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self.failures: dict[int, BaseException] = {}
        self._worker = self._loop.create_task(self._run())

    def on_event(self, event: LoopEvent, before: list[Message]) -> None:
        """Called on the pool's thread: queue ``event`` (``before``: the loop's messages
        before it) for the caller's loop."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (event, before))

    async def finish(self) -> None:
        """Wait until every queued event has been replayed."""
        self._queue.put_nowait(_DONE)
        await self._worker

    async def _run(self) -> None:
        while (item := await self._queue.get()) is not _DONE:
            event, before = item
            if event.index in self.failures:
                continue
            try:
                await self._replay(event, before)
            except Exception as exc:  # the caller's callback: ends this loop, not the swarm
                self.failures[event.index] = exc

    async def _replay(self, event: LoopEvent, before: list[Message]) -> None:
        messages = list(before)
        response = event.response if event.response is not None else event.round_response
        names: dict[str, str] = {}
        for message in event.new_messages:
            messages.append(message)
            if message.role == "assistant":
                if response is not None and not response.prompt:
                    response.prompt = Conversation(messages[:-1])  # it travels without it
                names = {call.id: call.name for call in message.tool_calls}
                await self._hooks.reply(
                    Conversation(list(messages)), message, response, event.rounds_done - 1
                )
            elif message.role == "tool":
                await self._hooks.tool_results(message, names)
            else:  # the retained final-turn warning
                await self._hooks.message(message)
