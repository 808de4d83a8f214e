"""deluge_ray: the LM Deluge client API on Ray actors.

One rate limit shared by every process in a cluster, one cache shared by every job,
agent loops spread over many machines, and nothing lost when a worker dies. Code written
for lm-deluge runs after changing its imports:

    >>> from deluge_ray import Conversation, LLMClient, SamplingParams  # doctest: +SKIP
    >>> client = LLMClient("gpt-4.1-mini", max_requests_per_minute=3_000)  # doctest: +SKIP
    >>> client.process_prompts_sync(["Say hi"])[0].completion  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names

if TYPE_CHECKING:
    from .api_requests import APIResponse, Usage
    from .client import AgentLoopCallback, LLMClient, StatusTracker, TextDeltaEvent
    from .config import SamplingParams
    from .errors import (
        CacheError,
        ConfigurationError,
        DelugeError,
        MissingAPIKeyError,
        PromptError,
        ProviderError,
        RuntimeUnavailableError,
        ToolError,
        UnknownModelError,
    )
    from .models import APIModel, get_model, register_model
    from .prompt import Conversation, File, Image, Message, prompts_to_conversations
    from .tool import MCPServer, Tool, execute_tool_calls

__version__ = "0.1.0"

__all__ = [
    "APIModel",
    "APIResponse",
    "AgentLoopCallback",
    "CacheError",
    "ConfigurationError",
    "Conversation",
    "DelugeError",
    "File",
    "Image",
    "LLMClient",
    "MCPServer",
    "Message",
    "MissingAPIKeyError",
    "PromptError",
    "ProviderError",
    "RuntimeUnavailableError",
    "SamplingParams",
    "StatusTracker",
    "TextDeltaEvent",
    "Tool",
    "ToolError",
    "UnknownModelError",
    "Usage",
    "__version__",
    "execute_tool_calls",
    "get_model",
    "prompts_to_conversations",
    "register_model",
]

# Where each public name lives. They are imported on first use (PEP 562), not here:
# every Ray worker that hosts one of our actors imports this package first, and the whole
# client API (aiohttp, pydantic, the provider modules) was the larger part of a new
# RateLimiter's start -- paid again on a cold start, where that start is in the user's
# first call.
_HOMES = {
    "APIModel": ".models",
    "APIResponse": ".api_requests",
    "AgentLoopCallback": ".client",
    "CacheError": ".errors",
    "ConfigurationError": ".errors",
    "Conversation": ".prompt",
    "DelugeError": ".errors",
    "File": ".prompt",
    "Image": ".prompt",
    "LLMClient": ".client",
    "MCPServer": ".tool",
    "Message": ".prompt",
    "MissingAPIKeyError": ".errors",
    "PromptError": ".errors",
    "ProviderError": ".errors",
    "RuntimeUnavailableError": ".errors",
    "SamplingParams": ".config",
    "StatusTracker": ".client",
    "TextDeltaEvent": ".client",
    "Tool": ".tool",
    "ToolError": ".errors",
    "UnknownModelError": ".errors",
    "Usage": ".api_requests",
    "execute_tool_calls": ".tool",
    "get_model": ".models",
    "prompts_to_conversations": ".prompt",
    "register_model": ".models",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals(), submodules=True)
