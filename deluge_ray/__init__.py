"""deluge_ray: the LM Deluge client API on Ray actors.

One rate limit shared by every process in a cluster, one cache shared by every job,
agent loops spread over many machines, and nothing lost when a worker dies. Code written
for lm-deluge runs after changing its imports:

    >>> from deluge_ray import Conversation, LLMClient, SamplingParams  # doctest: +SKIP
    >>> client = LLMClient("gpt-4.1-mini", max_requests_per_minute=3_000)  # doctest: +SKIP
    >>> client.process_prompts_sync(["Say hi"])[0].completion  # doctest: +SKIP
"""

from __future__ import annotations

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
