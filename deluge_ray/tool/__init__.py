"""Tools the model can call: :class:`Tool`, :class:`MCPServer` and schema conversion.

>>> from deluge_ray.tool import Tool
>>> def get_weather(city: str) -> str:
...     '''Current weather of a city.'''
...     return f"sunny in {city}"
>>> Tool.from_function(get_weather).for_openai_responses()["name"]
'get_weather'

MCP servers: ``await Tool.from_mcp("name", command=..., args=[...])`` (stdio) or
``url=...`` (streamable HTTP), ``await Tool.from_mcp_config({"mcpServers": {...}})``, and
:class:`MCPServer` for provider-native MCP (or ``await server.to_tools()``).
"""

from __future__ import annotations

from ._execute import OpenAIMCPSpec, execute_tool_calls
from ._mcp import MCPServer
from ._tool import TOOL_NAME_PATTERN, Tool, sanitize_tool_name

__all__ = [
    "TOOL_NAME_PATTERN",
    "MCPServer",
    "OpenAIMCPSpec",
    "Tool",
    "execute_tool_calls",
    "sanitize_tool_name",
]
