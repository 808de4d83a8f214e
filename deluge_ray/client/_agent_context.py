"""Build the :class:`~deluge_ray.agents._context.AgentContext` of an LLMClient.

The one place that turns a client's internals (its engine, specs, tracker, tasks) into
the narrow object agent loops work against.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .._loop_thread import LoopThread
from ..agents._context import AgentContext
from ..agents._loop import supports_native_mcp
from ..cache import make_request_key
from ._options import check_service_tier
from ._tools import check_call_options

if TYPE_CHECKING:
    from ..agents._fleet import SubAgentFleet
    from ..api_requests import APIResponse
    from ..prompt import Conversation
    from ..transport._work import CallSpec
    from ._client import LLMClient
    from ._progress import ProgressDisplay
    from ._tracker import StatusTracker

__all__ = ["build_agent_context"]


def build_agent_context(client: LLMClient, fleet: SubAgentFleet | None = None) -> AgentContext:
    """The context of ``client``'s agent loops (model call through its engine, etc.);
    ``fleet`` keeps the client's idle SubAgent actors between swarms."""

    async def call_model(
        conversation: Conversation, tools: Any, *, text_sink: Any = None, **options: Any
    ) -> APIResponse:
        task_id = client._start_one(conversation, tools=tools, text_sink=text_sink, **options)
        return await client.wait_for(task_id)

    def swarm_spec(
        request_tools: Sequence[Any] | None,
        *,
        output_schema: Any = None,
        cache: str | None = None,
        service_tier: str | None = None,
    ) -> CallSpec:
        check_call_options(None, output_schema)
        check_service_tier(service_tier)
        return client._call_settings().spec(
            0,
            tuple(request_tools) if request_tools else None,
            output_schema=output_schema,
            cache_pattern=cache,
            service_tier=service_tier,
        )

    @contextlib.contextmanager
    def progress(
        show_progress: bool, total: int
    ) -> Iterator[tuple[StatusTracker, ProgressDisplay]]:
        # The open tracker if any (its owner closes it), else one for this call only.
        opened_here = client._tracker is None
        tracker, display = client._get_tracker(show_progress)
        if not client._total_announced:
            tracker.add_to_total(total)
        try:
            yield tracker, display
        finally:
            if opened_here:
                client.close()

    def background() -> LoopThread:
        with client._state_lock:
            if client._agent_thread is None or client._agent_thread.closed:
                client._agent_thread = LoopThread("deluge-ray-agent-loops")
            return client._agent_thread

    return AgentContext(
        call_model=call_model,
        ensure_ready=client._ensure_engine,
        swarm_spec=swarm_spec,
        max_new_tokens=max(sp.max_new_tokens for sp in client.sampling_params),
        force_local_mcp=client.force_local_mcp,
        native_mcp=supports_native_mcp(client),
        postprocess=client.postprocess,
        progress=progress,
        tasks=client._tasks,
        background=background,
        fleet=fleet,
        cache=client.cache,
        request_key=make_request_key(client.model_names, client.sampling_params),
        tenancy=client.tenancy,
        first_model=client.model_names[0],
        first_sampling_params=client.sampling_params[0],
    )
