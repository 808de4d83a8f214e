"""BatchTool: one ``batch`` tool that runs several tool calls concurrently.

The model sends ``calls: [{tool, arguments}, ...]``; every call starts at once
(``asyncio.gather`` over :meth:`Tool.acall`) and the answer lists each call's result or
error in the order given. A failing or unknown call never affects the others.

Example:
    >>> from deluge_ray.tool import Tool
    >>> def add(a: int, b: int) -> int:
    ...     '''Add.'''
    ...     return a + b
    >>> batch = BatchTool([Tool.from_function(add)]).get_tool()
    >>> batch.call(calls=[{"tool": "add", "arguments": {"a": 1, "b": 2}}])
    '[{"tool": "add", "status": "ok", "result": 3}]'
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from ...errors import ConfigurationError
from ._common import make_tool

__all__ = ["BatchTool"]


def tool_index(tools: Sequence[Any]) -> dict[str, Any]:
    """Tools by name; a duplicate name is a developer error (the model could not choose)."""
    index: dict[str, Any] = {}
    for tool in tools:
        if tool.name in index:
            raise ConfigurationError(
                f"Two tools are named {tool.name!r}; tool names must be unique."
            )
        index[tool.name] = tool
    return index


def signature(tool: Any) -> str:
    """``name(arg: type, ...)`` for descriptions."""
    params = ", ".join(
        f"{name}: {schema.get('type', 'any') if isinstance(schema, dict) else 'any'}"
        for name, schema in (tool.parameters or {}).items()
    )
    return f"{tool.name}({params})"


class BatchTool:
    """Bundle ``tools`` behind a single ``batch`` tool to save round trips."""

    def __init__(
        self,
        tools: Sequence[Any],
        *,
        batch_tool_name: str = "batch",
        include_tools_in_prompt: bool = True,
    ) -> None:
        self.tools = list(tools)
        self.batch_tool_name = batch_tool_name
        self.include_tools_in_prompt = include_tools_in_prompt
        self._index = tool_index(self.tools)

    async def _one(self, call: Any) -> dict[str, Any]:
        if not isinstance(call, dict):
            return {
                "tool": None,
                "status": "error",
                "error": f"Each call must be an object, got {call!r}.",
            }
        name = call.get("tool")
        arguments = call.get("arguments") or {}
        tool = self._index.get(name) if isinstance(name, str) else None
        if tool is None:
            known = ", ".join(sorted(self._index)) or "none"
            return {
                "tool": name,
                "status": "error",
                "error": f"Unknown tool {name!r}; available: {known}.",
            }
        if not isinstance(arguments, dict):
            return {"tool": name, "status": "error", "error": "arguments must be an object."}
        try:
            return {"tool": name, "status": "ok", "result": await tool.acall(**arguments)}
        except Exception as exc:  # one failing call must not sink the batch
            return {"tool": name, "status": "error", "error": f"{type(exc).__name__}: {exc}"}

    async def run(self, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run every call concurrently; results in the order of ``calls``."""
        if not isinstance(calls, list):
            return [
                {
                    "tool": None,
                    "status": "error",
                    "error": "calls must be a list of {tool, arguments}.",
                }
            ]
        return list(await asyncio.gather(*(self._one(call) for call in calls)))

    async def _run_tool(self, calls: list[dict[str, Any]]) -> str:
        return json.dumps(await self.run(calls), default=str)

    def get_tool(self):
        """The ``batch`` tool."""
        description = (
            "Run several tool calls at once to save round trips. Pass `calls` as a list of "
            "{tool, arguments} objects; they run concurrently and each result (or error) comes "
            "back in the same order."
        )
        if self.include_tools_in_prompt and self.tools:
            lines = "\n".join(f"- {signature(t)}: {t.description or ''}" for t in self.tools)
            description += f"\n\nAvailable tools:\n{lines}"
        definitions = self._definitions()
        if definitions:
            items: dict[str, Any] = {
                "anyOf": [{"$ref": f"#/$defs/{t.name}_call"} for t in self._sorted_tools()]
            }
        else:
            items = {
                "type": "object",
                "properties": {"tool": {"type": "string"}, "arguments": {"type": "object"}},
                "required": ["tool", "arguments"],
                "additionalProperties": False,
            }
        parameters = {
            "calls": {
                "type": "array",
                "description": "The tool calls to run, in order; each names a tool and gives "
                "its arguments.",
                "items": items,
                "minItems": 1,
            }
        }
        return make_tool(
            self.batch_tool_name,
            description,
            parameters,
            ["calls"],
            self._run_tool,
            definitions=definitions or None,
        )

    def _sorted_tools(self) -> list[Any]:
        return [self._index[name] for name in sorted(self._index)]

    def _definitions(self) -> dict[str, Any]:
        """One ``<tool>_call`` schema per wrapped tool (0.0.168's layout, which lets a
        model see each tool's own argument schema), plus the tools' own ``$defs``."""
        definitions: dict[str, Any] = {}
        for tool in self._sorted_tools():
            arguments: dict[str, Any] = {
                "type": "object",
                "properties": tool.parameters or {},
                "required": list(tool.required or []),
            }
            extra = getattr(tool, "additionalProperties", None)
            if extra is not None:
                arguments["additionalProperties"] = extra
            definitions[f"{tool.name}_call"] = {
                "type": "object",
                "description": tool.description or "",
                "properties": {
                    "tool": {"type": "string", "enum": [tool.name]},
                    "arguments": arguments,
                },
                "required": ["tool", "arguments"],
                "additionalProperties": False,
            }
            for name, schema in (getattr(tool, "definitions", None) or {}).items():
                definitions.setdefault(name, schema)
        return definitions

    def get_tools(self) -> list:
        """``[get_tool()]``, like the other managers."""
        return [self.get_tool()]
