"""What agent loops need from the client that runs them: a narrow context object.

:class:`AgentContext` is built by :class:`~deluge_ray.LLMClient` (``_agent_context()``)
and holds only what loops and swarms use: the engine's model call, how to build a swarm's
request spec, the tool-preparation flags, ``postprocess``, the progress tracker, the task
registry and a loop thread for loops started from sync code. Agent code never reads the
client's private attributes, so the client can change inside without breaking them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._loop_thread import LoopThread
    from ..api_requests import APIResponse
    from ..client._progress import ProgressDisplay
    from ..client._tasks import TaskRegistry
    from ..client._tracker import StatusTracker
    from ..transport._work import CallSpec
    from ._fleet import SubAgentFleet

__all__ = ["AgentContext", "as_agent_context"]


@dataclass(frozen=True)
class AgentContext:
    """What agent loops use of one client (see the module docstring)."""

    #: One model turn through the client's engine (rate limits, retries, cache):
    #: ``(conversation, tools, **request options) -> APIResponse``.
    call_model: Callable[..., Awaitable[APIResponse]]
    #: Resolve keys, Ray and the shared limiters now, in the caller's thread (a missing
    #: key fails here, and ``ray.init`` wants the main thread).
    ensure_ready: Callable[[], None]
    #: The request spec a swarm's SubAgents use, with these request tools and the
    #: keyword request options ``output_schema``, ``cache``, ``service_tier`` (after
    #: ``ensure_ready``).
    swarm_spec: Callable[..., CallSpec]
    #: The largest ``max_new_tokens`` of the client's sampling params.
    max_new_tokens: int
    #: Expand MCP servers into local tools even where the provider could call them.
    force_local_mcp: bool
    #: Whether every model of the client lets the provider call MCP servers itself.
    native_mcp: bool
    #: The client's ``postprocess``, applied on the driver to each loop's final response.
    postprocess: Callable[[APIResponse], APIResponse] | None
    #: ``progress(show_progress, total)``: the tracker and display to count loops on,
    #: closed on exit if it was opened for this call.
    progress: Callable[[bool, int], AbstractContextManager[tuple[StatusTracker, ProgressDisplay]]]
    #: The client's task ids (``start_agent_loop_nowait`` / ``wait_for_agent_loop``).
    tasks: TaskRegistry
    #: A loop thread for agent loops started from code that runs no event loop.
    background: Callable[[], LoopThread]
    #: The client's idle SubAgent actors, kept between swarms (``None``: every swarm
    #: starts and kills its own).
    fleet: SubAgentFleet | None = None
    #: The client's cache, which SubAgents consult before each model call (``None``:
    #: none), and the request key a cache built with ``include_request_params`` wants.
    cache: Any = None
    request_key: str = ""
    #: The client's tenancy (priority, budgets): SubAgents check its budgets.
    tenancy: Any = None
    #: The client's first model and its sampling params: what a loop that failed before
    #: any response names in its error response (as 0.0.168).
    first_model: str = ""
    first_sampling_params: Any = None


def as_agent_context(source: Any) -> AgentContext:
    """``source`` itself if it is an :class:`AgentContext`, else the one it builds (an
    :class:`~deluge_ray.LLMClient` builds one with ``_agent_context()``)."""
    if isinstance(source, AgentContext):
        return source
    build = getattr(source, "_agent_context", None)
    if build is None:
        raise TypeError(
            f"agent loops need an LLMClient (or an AgentContext), got {type(source).__name__}"
        )
    return build()
