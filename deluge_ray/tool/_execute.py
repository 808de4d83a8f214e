"""Run a model's tool calls against a tool list: the top-level ``execute_tool_calls``.

For scripts that drive their own loop (0.0.168's helper of the same name): a result is the
tool's return value, and a failure is reported as an ``"Error: ..."`` string the model can
read, never raised, so one bad call does not lose the others' results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from ._mcp import MCPServer
from ._tool import Tool

__all__ = ["OpenAIMCPSpec", "execute_tool_calls"]


class OpenAIMCPSpec(TypedDict):
    """The shape of an OpenAI Responses ``mcp`` tool entry (see ``MCPServer.for_openai_responses``)."""

    type: str
    server_label: str
    server_url: str
    headers: dict | None
    require_approval: str


async def execute_tool_calls(
    tool_calls: Sequence[Any], tools: Sequence[Any]
) -> list[tuple[str, Any]]:
    """``(call id, result)`` for each of ``tool_calls``, in order, run one after another.

    ``tools`` may mix :class:`Tool` and :class:`MCPServer` (expanded to its tools); other
    items (provider built-in tool dicts) cannot run here and are skipped. A call naming no
    known tool, or whose tool raises, gets ``"Error: ..."``; a result that is not a str,
    dict or list is converted with ``str``.
    """
    by_name: dict[str, Tool] = {}
    for tool in tools:
        if isinstance(tool, Tool):
            by_name.setdefault(tool.name, tool)
        elif isinstance(tool, MCPServer):
            for expanded in await tool.to_tools():
                by_name.setdefault(expanded.name, expanded)
    results: list[tuple[str, Any]] = []
    for call in tool_calls:
        tool = by_name.get(call.name)
        if tool is None or tool.run is None:
            result: Any = f"Error: Tool '{call.name}' not found"
        else:
            try:
                result = await tool.acall(**call.arguments)
            except Exception as exc:  # reported to the model, which may retry
                result = f"Error: {exc}"
        if not isinstance(result, (str, dict, list)):
            result = str(result)
        results.append((call.id, result))
    return results
