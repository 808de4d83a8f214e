"""ToolSearchTool: regex discovery over a large toolbelt, plus a helper to call what was found.

Two tools: ``<base>_search`` (``pattern``, ``max_results``) returns the matching tools'
ids, descriptions and parameter schemas; ``<base>_call`` (``tool_id``, ``arguments``) runs
one. Only these two schemas go to the model, however many tools sit behind them.

The JSON the model reads is lm-deluge 0.0.168's (prompts are tuned to it): a search gives a
list of matches whose ``signature`` ends in ``[id]``, or ``{"error": ...}``; a call gives
``{"tool", "tool_id", "result"}``, or ``{"tool", "tool_id", "error"}`` when the tool
raised, or ``{"error": ...}`` for an unknown id. A repeated tool name gets the id
``name_1``, ``name_2``, ... in order.

Example:
    >>> from deluge_ray.tool import Tool
    >>> def weather(city: str) -> str:
    ...     '''Weather report for a city.'''
    ...     return "sunny"
    >>> finder = ToolSearchTool([Tool.from_function(weather)])
    >>> [m["id"] for m in finder.search("report")]
    ['weather']
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ...errors import ToolError
from ._batch import signature
from ._common import make_tool

__all__ = ["ToolSearchTool"]


class ToolSearchTool:
    """Let the model find tools by regex and call them by id (the tool's name)."""

    def __init__(
        self,
        tools: Sequence[Any],
        *,
        base_name: str = "tool_search_tool",
        search_tool_name: str | None = None,
        call_tool_name: str | None = None,
        max_results_default: int = 10,
    ) -> None:
        self.tools = list(tools)
        self.search_tool_name = search_tool_name or f"{base_name}_search"
        self.call_tool_name = call_tool_name or f"{base_name}_call"
        self.max_results_default = max_results_default
        self._index: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for tool in self.tools:
            repeat = seen.get(tool.name, 0)
            seen[tool.name] = repeat + 1
            self._index[tool.name if repeat == 0 else f"{tool.name}_{repeat}"] = tool

    def search(self, pattern: str, max_results: int | None = None) -> list[dict[str, Any]]:
        """Tools whose name or description matches ``pattern`` (case-insensitive regex)."""
        if not isinstance(pattern, str):
            raise ToolError("pattern must be a string (a regular expression).")
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ToolError(
                f"Invalid regular expression {pattern!r}: {exc}. Use e.g. 'weather|forecast'."
            ) from None
        limit = (
            max_results
            if isinstance(max_results, int) and max_results > 0
            else self.max_results_default
        )
        found = []
        for tool_id, tool in self._index.items():
            if regex.search(tool.name) or regex.search(tool.description or ""):
                found.append(
                    {
                        "id": tool_id,
                        "name": tool.name,
                        "description": tool.description or "",
                        "parameters": tool.parameters or {},
                        "required": list(tool.required or []),
                        "signature": f"{signature(tool)} [{tool_id}]",
                    }
                )
                if len(found) >= limit:
                    break
        return found

    async def call(self, tool_id: str, arguments: dict[str, Any] | None = None) -> Any:
        """Run the tool ``tool_id`` with ``arguments``; unknown ids raise :class:`ToolError`."""
        tool = self._index.get(tool_id) if isinstance(tool_id, str) else None
        if tool is None:
            raise ToolError(f"Unknown tool id '{tool_id}'")
        if arguments is not None and not isinstance(arguments, dict):
            raise ToolError("arguments must be an object of the tool's parameters.")
        return await tool.acall(**(arguments or {}))

    def _search_tool(self, pattern: str, max_results: int | None = None) -> str:
        try:
            return json.dumps(self.search(pattern, max_results), default=str)
        except ToolError as exc:
            return json.dumps({"error": str(exc)})

    async def _call_tool(
        self,
        tool_id: str,
        arguments: dict[str, Any] | None = None,
        args: dict[str, Any] | None = None,
    ) -> str:
        tool = self._index.get(tool_id) if isinstance(tool_id, str) else None
        if tool is None:
            return json.dumps({"error": f"Unknown tool id '{tool_id}'"})
        envelope: dict[str, Any] = {"tool": tool.name, "tool_id": tool_id}
        try:
            envelope["result"] = await self.call(
                tool_id, arguments if arguments is not None else args
            )
        except Exception as exc:  # the model sees the failure and can retry with other args
            envelope["error"] = f"{type(exc).__name__}: {exc}"
        return json.dumps(envelope, default=str)

    def get_tools(self) -> list:
        """The search and call tools."""
        search = make_tool(
            self.search_tool_name,
            "Find tools by a regular expression matched against their names and descriptions. "
            "Returns tool ids with their parameter schemas.",
            {
                "pattern": {"type": "string", "description": "Regex, case-insensitive"},
                "max_results": {"type": "integer", "description": "Limit on matches"},
            },
            ["pattern"],
            self._search_tool,
        )
        call = make_tool(
            self.call_tool_name,
            "Call a tool found with the search helper. Put all its parameters inside "
            "`arguments`, not at the top level.",
            {
                "tool_id": {"type": "string", "description": "Tool id from the search results"},
                "arguments": {"type": "object", "description": "The tool's arguments"},
                "args": {"type": "object", "description": "Alias of arguments"},
            },
            ["tool_id"],
            self._call_tool,
        )
        return [search, call]
