"""LLMClient's agent-loop methods, with lm-deluge 0.0.168's signatures.

A mixin of :class:`~deluge_ray.client.LLMClient`: each method checks nothing itself and
delegates to :mod:`deluge_ray.agents` with the client's :class:`AgentContext`. It also
owns what agent loops keep on a client between calls: the loop thread for loops started
from sync code, and the fleet of idle SubAgent actors swarms reuse
(:mod:`deluge_ray.agents._fleet`); :meth:`AgentLoopMethods._close_agents` ends both at
``shutdown``.

The callbacks are lm-deluge's: ``on_message(message)`` for every message a loop appends,
``on_round_complete(conversation, response, round_index)`` after each model reply (before
its tools run), both awaited on the driver, in order within a loop
(:mod:`deluge_ray.agents._options`). deluge_ray additions: ``num_actors`` and
``checkpoint`` (swarms), ``tool_timeout`` (seconds a tool call may take before the model
is told it timed out), and ``tools=`` as a tool factory (a zero-argument callable
returning the list; called once per loop).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..agents import _loop as agent_loops
from ..agents import _swarm as swarms
from ..agents._fleet import SubAgentFleet
from ..agents._options import LoopOptions
from ..agents._wire_tools import call_tool_factory, is_tool_factory
from ._agent_context import build_agent_context
from ._sync import run_sync

if TYPE_CHECKING:
    from ..agents._context import AgentContext
    from ..api_requests import APIResponse
    from ..prompt import Conversation

__all__ = ["AgentLoopMethods"]


def _one_loops_tools(tools: Any) -> Any:
    """A loop on the driver gets its tools from a tool factory by calling it once."""
    return call_tool_factory(tools) if is_tool_factory(tools) else tools


class AgentLoopMethods:
    """The agent-loop half of LLMClient; see the module docstring."""

    _agent_thread: Any
    _subagent_fleet: SubAgentFleet | None = None

    async def run_agent_loop(
        self,
        conversation: Any,
        *,
        tools: Sequence[Any] | None = None,
        skills: Sequence[Any] | None = None,
        max_rounds: int = 5,
        show_progress: bool = False,
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
    ) -> tuple[Conversation, APIResponse]:
        """Run tool calls until the model stops asking (or ``max_rounds``), on the driver:
        tools run in this process. ``show_progress`` is accepted and unused, as in 0.0.168."""
        options = LoopOptions.of(
            skills=skills,
            on_round_complete=on_round_complete,
            on_text_delta=on_text_delta,
            on_message=on_message,
            max_turns_warning=max_turns_warning,
            output_schema=output_schema,
            cache=cache,
            service_tier=service_tier,
            prefer_model=prefer_model,
            verbose=verbose,
            tool_timeout=tool_timeout,
        )
        return await agent_loops.run_agent_loop(
            self._agent_context(),
            conversation,
            tools=_one_loops_tools(tools),
            max_rounds=max_rounds,
            options=options,
        )

    def run_agent_loop_sync(
        self, conversation: Any, **kwargs: Any
    ) -> tuple[Conversation, APIResponse]:
        """:meth:`run_agent_loop` from sync code (also inside a running event loop)."""
        return run_sync(self.run_agent_loop(conversation, **kwargs))

    def start_agent_loop_nowait(
        self,
        conversation: Any,
        *,
        tools: Sequence[Any] | None = None,
        skills: Sequence[Any] | None = None,
        max_rounds: int = 5,
        on_round_complete: Any = None,
        on_text_delta: Any = None,
        on_message: Any = None,
        max_turns_warning: str = "omit",
        output_schema: Any = None,
        cache: str | None = None,
        service_tier: str | None = None,
        prefer_model: str | None = None,
        verbose: bool = False,
        http_session: Any = None,
        tool_timeout: float | None = None,
    ) -> int:
        """Start an agent loop; return a task id for :meth:`wait_for_agent_loop`.
        (``http_session`` is accepted for compatibility: requests use the caller actors'.)"""
        options = LoopOptions.of(
            skills=skills,
            on_round_complete=on_round_complete,
            on_text_delta=on_text_delta,
            on_message=on_message,
            max_turns_warning=max_turns_warning,
            output_schema=output_schema,
            cache=cache,
            service_tier=service_tier,
            prefer_model=prefer_model,
            verbose=verbose,
            tool_timeout=tool_timeout,
        )
        return agent_loops.start_agent_loop_nowait(
            self._agent_context(),
            conversation,
            tools=_one_loops_tools(tools),
            max_rounds=max_rounds,
            options=options,
        )

    async def wait_for_agent_loop(self, task_id: int) -> tuple[Conversation, APIResponse]:
        """The ``(Conversation, APIResponse)`` of a loop started with ``start_agent_loop_nowait``."""
        return await agent_loops.wait_for_agent_loop(self._agent_context(), task_id)

    async def process_agent_loops_async(
        self,
        prompts: Sequence[Any],
        *,
        tools: Sequence[Any] | Callable[[], Sequence[Any]] | None = None,
        skills: Sequence[Any] | None = None,
        max_rounds: int = 5,
        max_concurrent_agents: int = 10,
        show_progress: bool = True,
        on_round_complete: Any = None,
        on_text_delta: Any = None,
        on_message: Any = None,
        max_turns_warning: str = "omit",
        output_schema: Any = None,
        cache: str | None = None,
        service_tier: str | None = None,
        verbose: bool = False,
        num_actors: int | None = None,
        tool_timeout: float | None = None,
        checkpoint: Any = None,
    ) -> list[tuple[Conversation, APIResponse]]:
        """Run many independent agent loops on SubAgent actors; results in input order.

        Tools execute inside the actors: a list is pickled once per actor (its loops share
        that copy's state), a zero-argument callable returning a list is called once per
        loop there (each loop gets its own tools); see :mod:`deluge_ray.agents._swarm`. A
        SubAgent actor that dies has its loops restarted from their last completed round
        on another actor. Callbacks run on the driver. ``checkpoint`` (a SQLite path, a
        SqliteCache, a DistributedDictCache or a CacheActor handle) records every loop
        after each round: the same call after the driver died resumes unfinished loops
        from their last round and returns finished ones without running them
        (:mod:`deluge_ray.agents._durable`).
        """
        options = LoopOptions.of(
            skills=skills,
            on_round_complete=on_round_complete,
            on_text_delta=on_text_delta,
            on_message=on_message,
            max_turns_warning=max_turns_warning,
            output_schema=output_schema,
            cache=cache,
            service_tier=service_tier,
            verbose=verbose,
            tool_timeout=tool_timeout,
        )
        return await swarms.process_agent_loops_async(
            self._agent_context(),
            prompts,
            tools=tools,
            max_rounds=max_rounds,
            max_concurrent_agents=max_concurrent_agents,
            show_progress=show_progress,
            num_actors=num_actors,
            options=options,
            checkpoint=checkpoint,
        )

    def process_agent_loops_sync(
        self, prompts: Sequence[Any], **kwargs: Any
    ) -> list[tuple[Conversation, APIResponse]]:
        """:meth:`process_agent_loops_async` from sync code."""
        return run_sync(self.process_agent_loops_async(prompts, **kwargs))

    def _agent_context(self) -> AgentContext:
        """What agent loops may use of this client (see :mod:`deluge_ray.agents._context`)."""
        if self._subagent_fleet is None:
            self._subagent_fleet = SubAgentFleet()
        return build_agent_context(self, self._subagent_fleet)  # type: ignore[arg-type]

    def _close_agents(self) -> None:
        """At shutdown: stop the agent loop thread and kill the idle SubAgent actors."""
        agent_thread, self._agent_thread = self._agent_thread, None
        if agent_thread is not None:
            agent_thread.close()
        fleet, self._subagent_fleet = self._subagent_fleet, None
        if fleet is not None:
            fleet.close()
