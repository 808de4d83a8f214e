"""The prompt model: conversations, messages and their parts, and provider formats.

>>> from deluge_ray.prompt import Conversation
>>> Conversation.system("Be terse.").user("Hi").to_openai()
[{'role': 'system', 'content': 'Be terse.'}, {'role': 'user', 'content': 'Hi'}]

Anthropic prompt caching: ``Conversation.to_anthropic(cache_pattern=...)`` marks the
system prompt and messages; the tool definitions are marked by the request builder with
:func:`apply_tool_cache_control` (patterns ``system_and_tools`` and ``tools_only``).
"""

from ._anthropic import CACHE_PATTERNS, CachePattern, apply_tool_cache_control
from ._conversation import Conversation
from ._file import File
from ._image import Image
from ._message import Message
from ._parts import Part, Text, Thinking, ToolCall, ToolResult
from ._prompts import Prompt, prompts_to_conversations
from ._signatures import ThoughtSignature
from .tool_calls import ToolResultPart

__all__ = [
    "CACHE_PATTERNS",
    "CachePattern",
    "Conversation",
    "File",
    "Image",
    "Message",
    "Part",
    "Prompt",
    "Text",
    "Thinking",
    "ThoughtSignature",
    "ToolCall",
    "ToolResult",
    "ToolResultPart",
    "apply_tool_cache_control",
    "prompts_to_conversations",
]
