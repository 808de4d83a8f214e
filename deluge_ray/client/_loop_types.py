"""The agent-loop and streaming value types lm-deluge 0.0.168 exports from its client.

Scripts import them to annotate their own code. deluge_ray's loops return
``(Conversation, APIResponse)`` tuples rather than :class:`AgentLoopResponse`; agent loops
run with ``on_text_delta`` pass it :class:`TextDeltaEvent` s
(:mod:`deluge_ray.agents._text_deltas`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from ..api_requests import APIResponse
from ..prompt import Conversation

__all__ = ["AgentLoopCallback", "AgentLoopResponse", "TextDeltaCallback", "TextDeltaEvent"]


@dataclass
class AgentLoopResponse:
    """An agent loop's outcome: the whole conversation and the last model response."""

    conversation: Conversation
    final_response: APIResponse


class AgentLoopCallback(Protocol):
    """The shape of 0.0.168's per-round agent callback: ``async def cb(conversation,
    response, round_index)``."""

    def __call__(
        self, conversation: Conversation, response: APIResponse, round_index: int, /
    ) -> Awaitable[None]: ...


@dataclass
class TextDeltaEvent:
    """A piece of streamed text (``kind="text"``), or ``kind="reset"``: drop this round's
    partial text because the attempt is being retried. ``round`` counts from 0."""

    kind: Literal["text", "reset"]
    round: int
    model: str
    text: str = ""


TextDeltaCallback = Callable[[TextDeltaEvent], Awaitable[None]]
