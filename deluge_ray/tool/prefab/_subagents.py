"""SubAgentManager: lets a main model delegate sub-tasks to agent loops of a cheaper model.

The manager offers three tools – ``start_subagent(task)``, ``check_subagent(agent_id)`` and
``wait_for_subagent(agent_id)`` – and runs each sub-task as an agent loop of ``client``
(typically a cheaper model) on SubAgent actors (see :mod:`deluge_ray.agents._pool`).
Sub-loops therefore run in parallel, off the driver, with the sub-tools executing in the
actors, and their model calls share the client's rate limiter with every other user of its
key; the manager's own tools run wherever the main loop runs (use it with
``run_agent_loop`` on the driver: the manager holds live actors and is not picklable).

**Fanning out.** Sub-agents started together (a main model calling ``start_subagent`` many
times in one reply) go to the actors as one batch, placed on the least loaded actors; at
most ``max_concurrent_agents`` run at once and the rest wait their turn. For hundreds of
sub-agents raise ``max_concurrent_agents``: the actors are then sized as for a swarm (one
per 200 loops running at once, at most one per CPU of the cluster) unless ``num_actors``
says otherwise. The client's idle SubAgents (left by its earlier swarms) are reused.

    >>> from deluge_ray import LLMClient                                   # doctest: +SKIP
    >>> manager = SubAgentManager(LLMClient("gpt-4.1-nano"), tools=[search])  # doctest: +SKIP
    >>> main = LLMClient("gpt-4.1")                                         # doctest: +SKIP
    >>> conv, resp = await main.run_agent_loop(                            # doctest: +SKIP
    ...     "Research X and Y in parallel", tools=manager.get_tools())
    >>> manager.close()                                                     # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._common import make_tool

if TYPE_CHECKING:
    from ...agents._pool import SubAgentPool
    from ...api_requests import APIResponse
    from ...client import LLMClient
    from ...prompt import Conversation
    from .. import Tool

__all__ = ["SubAgentManager"]


class SubAgentManager:
    """Sub-agent tools for a main model; see the module docstring.

    ``client`` makes the sub-loops' model calls, ``tools`` are the sub-agents' tools (they
    must pickle: they run in the actors), ``max_rounds`` bounds each sub-loop.
    deluge_ray additions: ``max_concurrent_agents`` (sub-loops running at once) and
    ``num_actors`` (default: sized from ``max_concurrent_agents``, see the module
    docstring) size the pool.
    """

    def __init__(
        self,
        client: LLMClient,
        tools: Sequence[Tool] | None = None,
        max_rounds: int = 5,
        *,
        num_actors: int | None = None,
        max_concurrent_agents: int = 16,
    ) -> None:
        from ...agents._loop import check_max_rounds

        self.client = client
        self.tools = list(tools or [])
        self.max_rounds = check_max_rounds(max_rounds)
        self.num_actors = num_actors
        self.max_concurrent_agents = max_concurrent_agents
        self._pool: SubAgentPool | None = None
        self._futures: dict[int, concurrent.futures.Future] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> Any:
        # The manager owns live actors and a thread: copying it to an actor makes no sense.
        raise TypeError(
            "SubAgentManager cannot be pickled (it owns SubAgent actors); run the main "
            "loop with run_agent_loop on the driver, not in process_agent_loops"
        )

    # ---- tool implementations -------------------------------------------------------------
    def _get_pool(self) -> SubAgentPool:
        from ...agents._pool import SubAgentPool

        with self._lock:
            if self._pool is None:
                self._pool = SubAgentPool(
                    self.client,
                    tools=self.tools,
                    max_rounds=self.max_rounds,
                    num_actors=self.num_actors or self._default_actors(),
                    max_concurrent_agents=self.max_concurrent_agents,
                )
            return self._pool

    def _default_actors(self) -> int:
        from ...agents._context import as_agent_context
        from ...agents._swarm import _cluster_cpus, _default_actors

        as_agent_context(self.client).ensure_ready()  # Ray, to count the cluster's CPUs
        busy = self.max_concurrent_agents
        return _default_actors(busy, busy, _cluster_cpus())

    async def start_subagent(self, task: str) -> dict[str, Any]:
        """Start a sub-agent on ``task``; returns its ``agent_id`` at once."""
        from ...prompt import Conversation

        if not isinstance(task, str) or not task.strip():
            return {"error": "task must be a non-empty description of the sub-task"}
        (future,) = self._get_pool().start_loops([Conversation().user(task)])
        with self._lock:
            agent_id = len(self._futures)
            self._futures[agent_id] = future
        return {"agent_id": agent_id, "status": "running"}

    def _future(self, agent_id: Any) -> concurrent.futures.Future | str:
        try:
            key = int(agent_id)
        except (TypeError, ValueError):
            return (
                f"Error: agent_id must be an integer returned by start_subagent, got {agent_id!r}"
            )
        future = self._futures.get(key)
        if future is None:
            known = ", ".join(map(str, sorted(self._futures))) or "none started yet"
            return f"Error: no subagent with agent_id {key} (known ids: {known})"
        return future

    async def check_subagent(self, agent_id: int) -> str:
        """The sub-agent's answer if it has finished, else how far it has got."""
        future = self._future(agent_id)
        if isinstance(future, str):
            return future
        if not future.done():
            rounds = self._pool.rounds_done(int(agent_id)) if self._pool else 0
            return (
                f"Subagent {agent_id} is still running ({rounds} round(s) done). "
                "Check again later or call wait_for_subagent."
            )
        return _describe(int(agent_id), *future.result())

    async def wait_for_subagent(self, agent_id: int) -> str:
        """Wait for the sub-agent to finish; its final answer (or its error)."""
        future = self._future(agent_id)
        if isinstance(future, str):
            return future
        conversation, response = await asyncio.wrap_future(future)
        return _describe(int(agent_id), conversation, response)

    def result(self, agent_id: int) -> tuple[Conversation, APIResponse] | None:
        """``(conversation, response)`` of a finished sub-agent (for the program, not the
        model), else ``None``."""
        future = self._futures.get(agent_id)
        return future.result() if future is not None and future.done() else None

    def close(self) -> None:
        """Stop the sub-agents' actors. Safe to call twice."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    # ---- tools ----------------------------------------------------------------------------
    def get_tools(self) -> list[Tool]:
        """``start_subagent``, ``check_subagent`` and ``wait_for_subagent`` as Tools."""
        agent_id = {
            "type": "integer",
            "description": "The agent_id returned by start_subagent.",
        }
        return [
            make_tool(
                "start_subagent",
                "Start a sub-agent working on a sub-task on its own, in parallel with you. "
                "Give it a complete, self-contained task description. Returns its agent_id "
                "at once; collect the answer with wait_for_subagent or check_subagent.",
                {"task": {"type": "string", "description": "The sub-task to work on."}},
                ["task"],
                self.start_subagent,
            ),
            make_tool(
                "check_subagent",
                "Check a sub-agent without waiting: its answer if finished, else its progress.",
                {"agent_id": agent_id},
                ["agent_id"],
                self.check_subagent,
            ),
            make_tool(
                "wait_for_subagent",
                "Wait until a sub-agent has finished and return its final answer.",
                {"agent_id": agent_id},
                ["agent_id"],
                self.wait_for_subagent,
            ),
        ]


def _describe(agent_id: int, conversation: Conversation, response: APIResponse) -> str:
    if response.is_error:
        return f"Error: subagent {agent_id} failed: {response.error_message}"
    answer = response.completion or "(the subagent finished without a text answer)"
    if getattr(response, "loop_stop_reason", None) == "max_rounds":
        return f"{answer}\n[subagent {agent_id} stopped at its round limit before finishing]"
    return answer
