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
