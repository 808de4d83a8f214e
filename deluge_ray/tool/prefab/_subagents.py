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

    async def start_subagent(self, task: str) -> int | str:
        """Start a sub-agent on ``task``; returns its ``agent_id`` at once (as 0.0.168)."""
        from ...prompt import Conversation

        if not isinstance(task, str) or not task.strip():
            return "Error: task must be a non-empty description of the sub-task"
        (future,) = self._get_pool().start_loops([Conversation().user(task)])
        with self._lock:
            agent_id = len(self._futures)
            self._futures[agent_id] = future
        return agent_id

    def _future(self, agent_id: Any) -> concurrent.futures.Future | str:
        key = agent_id if isinstance(agent_id, int) else _as_int(agent_id)
        future = self._futures.get(key) if key is not None else None
        if future is None:
            return f"Error: Subagent {agent_id} not found"
        return future

    async def check_subagent(self, agent_id: int) -> str:
        """The sub-agent's answer if it has finished, else that it is still running."""
        future = self._future(agent_id)
        if isinstance(future, str):
            return future
        if not future.done():
            return f"Subagent {agent_id} is still running. Call this tool again to check status."
        return _describe(future.result()[1])

    async def wait_for_subagent(self, agent_id: int) -> str:
        """Wait for the sub-agent to finish; its final answer (or its error)."""
        future = self._future(agent_id)
        if isinstance(future, str):
            return future
        try:
            _conversation, response = await asyncio.wrap_future(future)
        except Exception as exc:  # the pool was closed under it, say
            return f"Error waiting for subagent: {exc}"
        return _describe(response)

    # 0.0.168 names its tool functions so; scripts and tests call them directly.
    _start_subagent = start_subagent
    _check_subagent = check_subagent
    _wait_for_subagent = wait_for_subagent

    @property
    def subagents(self) -> dict[int, dict[str, Any]]:
        """Each sub-agent's ``status`` (``"running"``, ``"finished"`` or ``"error"``),
        ``conversation``, ``response`` and ``error``, by agent id (as 0.0.168 keeps them)."""
        with self._lock:
            futures = dict(self._futures)
        return {agent_id: _state(future) for agent_id, future in futures.items()}

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


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _describe(response: APIResponse) -> str:
    """What the main model reads of a finished sub-agent (0.0.168's texts)."""
    if response.is_error:
        return f"Error: {response.error_message}"
    return response.completion or "Subagent finished with no output"


def _state(future: concurrent.futures.Future) -> dict[str, Any]:
    if not future.done():
        return {"status": "running", "conversation": None, "response": None, "error": None}
    try:
        conversation, response = future.result()
    except BaseException as exc:  # cancelled or failed: no loop result
        return {"status": "error", "conversation": None, "response": None, "error": str(exc)}
    failed = response.is_error
    return {
        "status": "error" if failed else "finished",
        "conversation": conversation,
        "response": response,
        "error": response.error_message if failed else None,
    }
