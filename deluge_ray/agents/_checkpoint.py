"""Checkpoints of a loop that runs in a SubAgent actor, both ends of the wire, without Ray.

In the actor, a :class:`LoopReporter` turns one loop's progress into :class:`LoopEvent` s:
after each round, a checkpoint with only the messages the driver does not have yet (a
loop of 20 rounds sends each message once, not 20 times) and what the model calls since
the previous event used; at the end, the final response or the error.

On the driver, a :class:`LoopProgress` applies those events: its conversation is always
the loop's conversation up to its last checkpoint, which is where a loop restarts when its
actor dies (:class:`LoopJob` from :meth:`LoopProgress.job`).

    >>> from deluge_ray.prompt import Conversation, Message
    >>> start = Conversation().user("hi")
    >>> reporter, progress = LoopReporter(LoopJob(0, start)), LoopProgress(0, start)
    >>> grown = Conversation(list(start.messages) + [Message.ai("hello")])
    >>> progress.apply(reporter.checkpoint(1, grown))
    >>> progress.rounds_done, [m.role for m in progress.conversation.messages]
    (1, ['user', 'assistant'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..prompt import Conversation
from ..transport._work import WorkResult
from ._records import LoopEvent, LoopJob, Spent

if TYPE_CHECKING:
    from ..api_requests import APIResponse

__all__ = ["LoopProgress", "LoopReporter"]


class LoopReporter:
    """The actor side: builds one loop's events from its progress (see the module docstring)."""

    def __init__(self, job: LoopJob) -> None:
        self.index = job.index
        self._rounds_at_start = job.rounds_done
        self._sent = len(job.conversation.messages)  # messages the driver already has
        self._spent = Spent()  # since the loop's last event

    def count(self, result: WorkResult) -> None:
        """Count one model call's requests, tokens and cost toward the next event."""
        self._spent.add_result(result)

    def _take_spent(self) -> Spent:
        spent, self._spent = self._spent, Spent()
        return spent

    def _new_messages(self, conversation: Conversation) -> list:
        new = conversation.messages[self._sent :]
        self._sent = len(conversation.messages)
        return new

    def checkpoint(
        self, rounds: int, conversation: Conversation, response: APIResponse | None = None
    ) -> LoopEvent:
        """The event after round ``rounds`` completed (its tools ran); ``response``, the
        round's own, travels without its prompt when given."""
        if response is not None:
            response.prompt = {}
        return LoopEvent(
            self.index,
            rounds,
            self._new_messages(conversation),
            spent=self._take_spent(),
            round_response=response,
        )

    def finished(self, conversation: Conversation, response: APIResponse) -> LoopEvent:
        """The loop's last event. The response travels without its prompt: the driver
        rebuilds it from the conversation, which it already has."""
        response.prompt = {}
        return LoopEvent(
            self.index,
            response.agent_rounds,
            self._new_messages(conversation),
            response=response,
            spent=self._take_spent(),
        )

    def failed(self, exc: BaseException) -> LoopEvent:
        """The loop's last event when it raised (a bug, not a tool failure)."""
        return LoopEvent(
            self.index,
            self._rounds_at_start,
            [],
            error=f"{type(exc).__name__}: {exc}",
            spent=self._take_spent(),
        )


@dataclass
class LoopProgress:
    """The driver side: one loop as far as its events tell (conversation, rounds, usage)."""

    index: int
    conversation: Conversation
    rounds_done: int = 0
    spent: Spent = field(default_factory=Spent)

    def job(self) -> LoopJob:
        """Where the loop (re)starts: its conversation up to the last checkpoint."""
        return LoopJob(self.index, self.conversation, self.rounds_done)

    def apply(self, event: LoopEvent) -> None:
        """Add ``event``'s messages, rounds and usage. A final response gets its prompt back:
        the conversation before its reply, as the last model call saw it."""
        self.conversation.messages.extend(event.new_messages)
        self.rounds_done = event.rounds_done
        self.spent.add(event.spent)
        response = event.response
        if response is not None:
            messages = self.conversation.messages
            ends_with_reply = bool(messages) and messages[-1] is response.content
            response.prompt = Conversation(list(messages[:-1] if ends_with_reply else messages))
