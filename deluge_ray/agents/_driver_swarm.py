"""A swarm run with ``on_text_delta``: its loops run on the driver, not on SubAgent actors.

Every piece of every reply's text must reach the driver's callback while it streams; from
SubAgent actors that would be one Ray message per piece. So ``process_agent_loops`` given
``on_text_delta`` runs each loop as :func:`~deluge_ray.agents._loop.run_agent_loop` does,
at most ``max_concurrent_agents`` at a time, in the driver's process: model calls are sent
streamed by the driver on the same shared RateLimiter (and cache, budgets, retries), and
tools run here (a tool factory is called once per loop). As in lm-deluge 0.0.168 a loop
that fails (its callback raised, say) becomes an error response with the exception's text,
and the other loops go on. Not available here: ``checkpoint=`` (durable swarms record the
loops SubAgents run) and ``num_actors`` (no actor is started).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..prompt._prompts import to_conversations
from ._loop import check_max_rounds, run_agent_loop
from ._options import LoopOptions
from ._wire_tools import call_tool_factory, is_tool_factory

if TYPE_CHECKING:
    from ..api_requests import APIResponse
    from ..prompt import Conversation
    from ._context import AgentContext

__all__ = ["run_loops_on_driver"]


async def run_loops_on_driver(
    context: AgentContext,
    prompts: Any,
    *,
    tools: Any,
    max_rounds: int,
    max_concurrent_agents: int,
    options: LoopOptions,
    checkpoint: Any = None,
) -> list[tuple[Conversation, APIResponse]]:
    """One driver-side loop per prompt (see the module docstring); results in input order."""
    if checkpoint is not None:
        raise ConfigurationError(
            "checkpoint= cannot be combined with on_text_delta=: a durable swarm records "
            "loops run on SubAgent actors, and on_text_delta runs them on the driver. Drop "
            "one of the two (on_message= or on_round_complete= see each whole reply)."
        )
    check_max_rounds(max_rounds)
    if not isinstance(max_concurrent_agents, int) or max_concurrent_agents < 1:
        raise ConfigurationError(
            f"max_concurrent_agents must be a positive integer, got {max_concurrent_agents!r}."
        )
    conversations = to_conversations(prompts)
    if not conversations:
        return []
    context.ensure_ready()  # a missing key or Ray fails here, once, not in every loop
    if is_tool_factory(tools):
        call_tool_factory(tools)  # a factory that cannot make tools at all fails the call
    room = asyncio.Semaphore(max_concurrent_agents)

    async def one(index: int, conversation: Conversation) -> tuple[Conversation, APIResponse]:
        async with room:
            try:  # a tool factory that raises fails its own loop only, as a tool would
                loop_tools = call_tool_factory(tools) if is_tool_factory(tools) else tools
                return await run_agent_loop(
                    context, conversation, tools=loop_tools, max_rounds=max_rounds, options=options
                )
            except Exception as exc:
                return conversation, _failed(context, index, conversation, exc)

    return list(await asyncio.gather(*(one(i, c) for i, c in enumerate(conversations))))


def _failed(
    context: AgentContext, index: int, conversation: Conversation, exc: Exception
) -> APIResponse:
    from ..api_requests import APIResponse
    from ..config import SamplingParams

    return APIResponse.error(
        id=index,
        model=context.first_model,
        prompt=conversation,
        sampling_params=context.first_sampling_params or SamplingParams(),
        message=str(exc),
    )
