"""The engine: :class:`LLMClient` on the driver, ProviderCaller actors doing the HTTP.

Module map: ``_client`` (the public class), ``_configurable`` (its configuration as
data: dump, validate, switch models, limits), ``_loop_types`` (0.0.168's agent-loop and
stream value types), ``_config`` (model list, weights, sampling params), ``_routes``
(keys, base URLs, limiters resolved on the driver), ``_engine`` (the driver's loop
thread: cache, budget, results), ``_dispatcher`` (batching, duplicates, resubmission),
``_caller_pool`` (the Ray actors), ``_work`` (records sent to callers), ``_tasks``,
``_tracker``, ``_progress``, ``_runtime`` (Ray lifecycle), ``_sync``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from ._client import LLMClient
    from ._loop_types import AgentLoopCallback, AgentLoopResponse, TextDeltaEvent
    from ._tracker import StatusTracker

__all__ = [
    "AgentLoopCallback",
    "AgentLoopResponse",
    "LLMClient",
    "StatusTracker",
    "TextDeltaEvent",
]

# Imported on first use (PEP 562), not here: the machine-wide head's own processes
# (``_head_main``, ``_head_watcher``) live in this package and need none of the client,
# whose import (about 0.3 s) was on the path of every head start.
_HOMES = {
    "AgentLoopCallback": "._loop_types",
    "AgentLoopResponse": "._loop_types",
    "LLMClient": "._client",
    "StatusTracker": "._tracker",
    "TextDeltaEvent": "._loop_types",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())
