"""What a caller may ask of an agent loop beyond tools and rounds, as in lm-deluge 0.0.168.

:class:`LoopOptions` holds the request options every model call of the loop uses
(``output_schema``, ``cache`` – a prompt-caching pattern, ``service_tier``), the final-turn
warning, and the driver-side hooks. :meth:`LoopOptions.of` checks them where the user
passed them, with errors that say what to do instead.

**The hooks** (:class:`LoopHooks`), in 0.0.168's order within one round:

1. ``on_message(warning)`` when ``max_turns_warning="retain"`` adds the final-turn warning;
2. ``on_message(reply)``, then ``on_round_complete(conversation, response, round_index)``
   (``round_index`` counts from 0; the conversation ends with the reply), then with
   ``verbose`` the reply's tool calls (or its text, if it calls none) are printed;
3. after the tools ran, with ``verbose`` each result is printed, then
   ``on_message(tool_message)``.

``on_text_delta(event)`` gets each round's text while it streams (driver-side loops
only; a swarm given one runs its loops on the driver): :mod:`deluge_ray.agents._text_deltas`.

Callbacks may be coroutine functions (as in 0.0.168) or plain functions. On the driver
(``run_agent_loop``) they are called by the loop itself; in a swarm the loop runs in an
actor and the driver replays the same calls from the messages each round sends back
(:mod:`deluge_ray.agents._replay`), so they always run in the driver's process.

    >>> LoopOptions.of(max_turns_warning="sometimes")
    Traceback (most recent call last):
    ...
    deluge_ray.errors.ConfigurationError: max_turns_warning must be 'omit', 'ephemeral' or 'retain', got 'sometimes'.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..prompt import Message

if TYPE_CHECKING:
    from ..api_requests import APIResponse
    from ..prompt import Conversation

__all__ = ["FINAL_TURN_WARNING", "LoopHooks", "LoopOptions", "final_turn_warning"]

FINAL_TURN_WARNING = (
    "[SYSTEM] This is your FINAL turn. You cannot call any more tools. "
    "You MUST provide your final text response now."
)
_WARNING_MODES = ("omit", "ephemeral", "retain")


def final_turn_warning() -> Message:
    """The user message sent before a loop's last model call (``max_turns_warning``)."""
    return Message.user(FINAL_TURN_WARNING)


@dataclass(frozen=True)
class LoopOptions:
    """A loop's options besides tools and ``max_rounds``; see the module docstring."""

    on_round_complete: Any = None
    on_message: Any = None
    on_text_delta: Any = None  # see deluge_ray.agents._text_deltas
    verbose: bool = False
    max_turns_warning: str = "omit"
    output_schema: Any = None
    cache: str | None = None
    service_tier: str | None = None
    tool_timeout: float | None = None  # deluge_ray addition

    @classmethod
    def of(
        cls,
        *,
        skills: Any = None,
        on_round_complete: Any = None,
        on_text_delta: Any = None,
        on_message: Any = None,
        max_turns_warning: str = "omit",
        output_schema: Any = None,
        cache: str | None = None,
        service_tier: str | None = None,
        prefer_model: str | None = None,
        verbose: bool = False,
        tool_timeout: float | None = None,
    ) -> LoopOptions:
        """Checked options (``ConfigurationError`` naming what is unsupported and why)."""
        if skills:
            raise ConfigurationError(
                "skills= (Anthropic Agent Skills) are not supported by deluge_ray agent "
                "loops; give the loop the equivalent tools instead (tools=[...])."
            )
        if prefer_model is not None:
            raise ConfigurationError(
                f"prefer_model={prefer_model!r} is not supported by deluge_ray agent loops; "
                "use client.with_model(name) for a loop on one model."
            )
        if max_turns_warning not in _WARNING_MODES:
            raise ConfigurationError(
                "max_turns_warning must be 'omit', 'ephemeral' or 'retain', got "
                f"{max_turns_warning!r}."
            )
        if tool_timeout is not None and (
            isinstance(tool_timeout, bool)
            or not isinstance(tool_timeout, (int, float))
            or not tool_timeout > 0
        ):
            raise ConfigurationError(
                f"tool_timeout must be a number of seconds > 0 (or None), got {tool_timeout!r}."
            )
        for name, callback in (
            ("on_round_complete", on_round_complete),
            ("on_message", on_message),
            ("on_text_delta", on_text_delta),
        ):
            if callback is not None and not callable(callback):
                raise ConfigurationError(
                    f"{name} must be a function (async or not), got {type(callback).__name__}."
                )
        return cls(
            on_round_complete=on_round_complete,
            on_message=on_message,
            on_text_delta=on_text_delta,
            verbose=bool(verbose),
            max_turns_warning=max_turns_warning,
            output_schema=output_schema,
            cache=cache,
            service_tier=service_tier,
            tool_timeout=tool_timeout,
        )

    @property
    def request_options(self) -> dict[str, Any]:
        """The options every model call of the loop is sent with."""
        return {
            "output_schema": self.output_schema,
            "cache": self.cache,
            "service_tier": self.service_tier,
        }

    @property
    def has_hooks(self) -> bool:
        """Whether anything runs on the driver as the loop goes."""
        return bool(self.on_round_complete or self.on_message or self.verbose)

    def hooks(self) -> LoopHooks:
        """The hooks of one loop (see :class:`LoopHooks`)."""
        return LoopHooks(self)


async def _call(callback: Any, *args: Any) -> None:
    outcome = callback(*args)
    if inspect.isawaitable(outcome):
        await outcome


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show_result(result: Any) -> str:
    return _truncate(result if isinstance(result, str) else json.dumps(result, default=str), 300)


class LoopHooks:
    """The driver-side calls of one loop, in 0.0.168's order (module docstring)."""

    def __init__(self, options: LoopOptions) -> None:
        self.options = options

    async def message(self, message: Message) -> None:
        """A message the loop appended that is neither a reply nor tool results."""
        if self.options.on_message is not None:
            await _call(self.options.on_message, message)

    async def reply(
        self,
        conversation: Conversation,
        reply: Message,
        response: APIResponse | None,
        round_index: int,
    ) -> None:
        """The model's ``reply`` of round ``round_index`` was appended to ``conversation``
        (``response`` is ``None`` only where ``on_round_complete`` is not set)."""
        options = self.options
        if options.on_message is not None:
            await _call(options.on_message, reply)
        if options.on_round_complete is not None and response is not None:
            await _call(options.on_round_complete, conversation, response, round_index)
        if options.verbose:
            calls = reply.tool_calls
            if calls:
                shown = ", ".join(
                    f"{c.name}("
                    + ", ".join(f"{k}={_truncate(repr(v), 80)}" for k, v in c.arguments.items())
                    + ")"
                    for c in calls
                )
                print(f"[Round {round_index + 1}] Tool calls: {shown}")
            elif reply.completion:
                print(f"[Round {round_index + 1}] Assistant: {_truncate(reply.completion, 500)}")

    async def tool_results(self, tool_message: Message, names: dict[str, str]) -> None:
        """The round's tool results were appended (``names``: call id -> tool name)."""
        if self.options.verbose:
            for result in tool_message.tool_results:
                name = names.get(result.tool_call_id, "unknown")
                print(f"  → {name}: {_show_result(result.result)}")
        if self.options.on_message is not None:
            await _call(self.options.on_message, tool_message)
