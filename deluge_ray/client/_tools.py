"""Tools as the engine ships them: checked, declarations only, with their token cost known.

ProviderCallers only *declare* tools to the provider; they never run them (agent loops run
tools on the driver or in SubAgent actors). So the engine sends copies without the Python
callable: a tool whose function closes over a lock, a socket or a client would otherwise
fail to pickle, and the callable is dead weight in every batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .._tokens import count_text_tokens
from ..errors import ConfigurationError
from ..tool import MCPServer, Tool
from ._sync import run_sync

__all__ = ["check_call_options", "count_tool_tokens", "wire_tools"]


def check_call_options(tools: Any, output_schema: Any) -> None:
    """Raise :class:`ConfigurationError` at the call for ``tools`` / ``output_schema`` no
    request could be built from, instead of failing every prompt at its provider.

    >>> check_call_options(None, {"type": "object"})
    >>> check_call_options([42], None)
    Traceback (most recent call last):
    ...
    deluge_ray.errors.ConfigurationError: tools[0] is an int; pass a deluge_ray Tool (e.g. Tool.from_function(func)), an MCPServer or a provider-native tool dict.
    """
    if tools is not None:
        if isinstance(tools, (Tool, MCPServer, dict, str)) or not isinstance(tools, Sequence):
            raise ConfigurationError(
                f"tools must be a list of tools, got {_a(tools)}; wrap a single "
                "tool in a list: tools=[tool]."
            )
        for index, tool in enumerate(tools):
            if not isinstance(tool, (Tool, MCPServer, dict)):
                raise ConfigurationError(
                    f"tools[{index}] is {_a(tool)}; pass a deluge_ray Tool (e.g. "
                    "Tool.from_function(func)), an MCPServer or a provider-native tool dict."
                )
    if output_schema is not None and not isinstance(output_schema, dict):
        if not callable(getattr(output_schema, "model_json_schema", None)):
            raise ConfigurationError(
                f"output_schema must be a pydantic BaseModel class or a JSON-schema dict, "
                f"got {_a(output_schema)} ({output_schema!r:.60})."
            )


def _a(value: Any) -> str:
    name = type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def wire_tools(tools: Sequence[Any], *, expand_mcp: bool) -> tuple[Any, ...] | None:
    """The tools to put in a request spec.

    ``Tool`` objects lose their callable. With ``expand_mcp`` (``force_local_mcp=True``, or
    a model whose provider cannot call MCP servers itself) an :class:`MCPServer` is expanded
    into the tools it lists, declared like local tools; otherwise it is kept for the
    provider's native MCP support. Agent loops decide the same way.
    """
    if not tools:
        return None
    out: list[Any] = []
    for tool in tools:
        if isinstance(tool, MCPServer) and expand_mcp:
            for listed in run_sync(tool.to_tools()):
                out.append(_declaration(listed))
        elif isinstance(tool, Tool):
            out.append(_declaration(tool))
        else:
            out.append(tool)
    return tuple(out)


def _declaration(tool: Tool) -> Tool:
    return tool if tool.run is None else tool.model_copy(update={"run": None})


def count_tool_tokens(tools: Sequence[Any] | None) -> int:
    """Tokens the tool definitions add to every request (they are billed as input)."""
    total = 0
    for tool in tools or ():
        if isinstance(tool, Tool):
            text = json.dumps(tool.for_openai_completions(strict=False), ensure_ascii=False)
            total += count_text_tokens(text)
    return total
