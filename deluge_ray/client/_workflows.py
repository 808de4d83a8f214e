"""The LLMClient methods that delegate to other layers: streaming, batch jobs, agent loops.

They live in a mixin so ``_client.py`` keeps to the engine's own methods. Each is a thin
delegation; the behaviour is documented (and tested) where it is implemented:

* ``stream`` → :func:`deluge_ray.api_requests.streaming.stream_chat`, taking its rate
  capacity from the same shared RateLimiter as every batch request (a driver-side
  :class:`~deluge_ray.ratelimit._lease_client.LeaseClient`);
* ``submit_batch_job`` / ``wait_for_batch_job`` → :mod:`deluge_ray.transport._batch_jobs`;
* agent loops → :mod:`deluge_ray.agents._loop` (on the driver) and
  :mod:`deluge_ray.agents._swarm` (many loops on SubAgent actors).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..agents import _loop as _agent
from ..agents import _swarm

if TYPE_CHECKING:
    from ..api_requests.response import APIResponse
    from ..prompt import Conversation

__all__ = ["WorkflowMethods"]

_stream_ids = itertools.count()


class _LimiterGate:
    """Lets one stream take and report capacity on the shared limiter like a batch request."""

    def __init__(self, lease_client: Any) -> None:
        self._lease = lease_client
        self._permit: Any = None

    async def acquire(self, tokens: int) -> Any:
        self._permit = await self._lease.acquire(tokens)
        return self._permit

    def report(
        self, *, status: int, headers: Mapping[str, str], estimated: int, used: int | None
    ) -> None:
        from ..ratelimit._headers import read_rate_limit_headers

        if self._permit is None:
            return
        observation = read_rate_limit_headers({k.lower(): v for k, v in headers.items()})
        self._lease.complete(
            self._permit,
            actual_tokens=used,
            status=status or None,
            retry_after=observation.retry_after,
            observation=observation,
        )


class WorkflowMethods:
    """Mixed into :class:`~deluge_ray.LLMClient`; see the module docstring."""

    # Provided by LLMClient.
    model_names: list[str]
    sampling_params: list[Any]
    extra_headers: dict[str, str] | None
    extra_body: dict[str, Any] | None
    request_timeout: float

    # ---- streaming ------------------------------------------------------------------------
    async def stream(self, prompt: Any, *, tools: Sequence[Any] | None = None) -> APIResponse:
        """Print the reply to stdout as it streams; return the final ``APIResponse``.

        Uses the client's first model and sampling params, and takes its capacity from the
        shared rate limiter. For each chunk as a value, iterate
        :func:`deluge_ray.api_requests.openai.stream_chat` instead.

            >>> final = await client.stream("Count to five")  # doctest: +SKIP
        """
        from ..api_requests.streaming import stream_chat
        from ..ratelimit._lease_client import LeaseClient

        gate = None
        lease_client = None
        route = self._ensure_engine_routes()[0]
        if route.limiter is not None:
            lease_client = LeaseClient.for_actor(route.limiter, f"stream-{next(_stream_ids)}")
            gate = _LimiterGate(lease_client)
        final: APIResponse | None = None
        try:
            async for item in stream_chat(
                self.model_names[0],
                prompt,
                tools=list(tools) if tools else None,
                sampling_params=self.sampling_params[0],
                extra_headers=self.extra_headers,
                extra_body=self.extra_body,
                request_timeout=float(self.request_timeout),
                gate=gate,
            ):
                if isinstance(item, str):
                    sys.stdout.write(item)
                    sys.stdout.flush()
                else:
                    final = item
        finally:
            if lease_client is not None:
                await lease_client.close()
        sys.stdout.write("\n")
        assert final is not None  # stream_chat always ends with the final response
        return final

    def _ensure_engine_routes(self) -> Sequence[Any]:
        self._ensure_engine()  # type: ignore[attr-defined]
        return self._routes  # type: ignore[attr-defined,return-value]

    # ---- provider batch jobs --------------------------------------------------------------
    async def submit_batch_job(
        self,
        prompts: Sequence[Any],
        *,
        tools: Sequence[Any] | None = None,
        cache: str | None = None,
        batch_size: int = 50_000,
    ) -> list[str]:
        """Submit ``prompts`` through the provider's batch API; return the batch ids.

        The provider follows from the client's model (OpenAI or Anthropic); a client with
        several models is refused, since one batch goes to one model.
        """
        from ..transport import _batch_jobs as batches

        return await batches.submit_batch_job(
            self.model_names,
            prompts,
            sampling_params=self.sampling_params[0],
            tools=list(tools) if tools else None,
            cache=cache,
            batch_size=batch_size,
            extra_headers=self.extra_headers,
            extra_body=self.extra_body,
        )

    async def wait_for_batch_job(
        self, batch_ids: Sequence[str] | str, provider: str
    ) -> list[APIResponse]:
        """Poll batch jobs (with a progress display) until done; responses in prompt order."""
        from ..transport import _batch_jobs as batches

        return await batches.wait_for_batch_job(batch_ids, provider)

    # ---- agent loops ----------------------------------------------------------------------
    async def run_agent_loop(
        self, conversation: Any, *, tools: Sequence[Any] | None = None, max_rounds: int = 5
    ) -> tuple[Conversation, APIResponse]:
        """Run tool calls until the model stops asking (or ``max_rounds``), on the driver."""
        return await _agent.run_agent_loop(self, conversation, tools=tools, max_rounds=max_rounds)

    def start_agent_loop_nowait(
        self, conversation: Any, *, tools: Sequence[Any] | None = None, max_rounds: int = 5
    ) -> int:
        """Start an agent loop; return a task id for :meth:`wait_for_agent_loop`."""
        return _agent.start_agent_loop_nowait(
            self, conversation, tools=tools, max_rounds=max_rounds
        )

    async def wait_for_agent_loop(self, task_id: int) -> tuple[Conversation, APIResponse]:
        """The ``(Conversation, APIResponse)`` of a loop started with ``start_agent_loop_nowait``."""
        return await _agent.wait_for_agent_loop(self, task_id)

    def run_agent_loop_sync(
        self, conversation: Any, *, tools: Sequence[Any] | None = None, max_rounds: int = 5
    ) -> tuple[Conversation, APIResponse]:
        """:meth:`run_agent_loop` from sync code (also inside a running event loop)."""
        return _agent.run_agent_loop_sync(self, conversation, tools=tools, max_rounds=max_rounds)

    async def process_agent_loops_async(
        self,
        prompts: Sequence[Any],
        *,
        tools: Sequence[Any] | None = None,
        max_rounds: int = 5,
        max_concurrent_agents: int = 10,
        show_progress: bool = True,
        num_actors: int | None = None,
    ) -> list[tuple[Conversation, APIResponse]]:
        """Run many independent agent loops on SubAgent actors; results in input order.

        Tools execute inside the actors (each actor gets a pickled copy of every tool), so
        a tool's state lives there; see :mod:`deluge_ray.agents._swarm` for how to keep
        state on the driver instead. A SubAgent actor that dies has its loops restarted
        from their last completed round on another actor.
        """
        return await _swarm.process_agent_loops_async(
            self,
            prompts,
            tools=tools,
            max_rounds=max_rounds,
            max_concurrent_agents=max_concurrent_agents,
            show_progress=show_progress,
            num_actors=num_actors,
        )

    def process_agent_loops_sync(
        self,
        prompts: Sequence[Any],
        *,
        tools: Sequence[Any] | None = None,
        max_rounds: int = 5,
        max_concurrent_agents: int = 10,
        show_progress: bool = True,
        num_actors: int | None = None,
    ) -> list[tuple[Conversation, APIResponse]]:
        """:meth:`process_agent_loops_async` from sync code."""
        return _swarm.process_agent_loops_sync(
            self,
            prompts,
            tools=tools,
            max_rounds=max_rounds,
            max_concurrent_agents=max_concurrent_agents,
            show_progress=show_progress,
            num_actors=num_actors,
        )
