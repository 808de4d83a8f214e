"""ToolComposer: the model writes a short Python snippet that calls several tools at once.

The snippet runs in the restricted interpreter of :mod:`._sandbox` (no imports, no files,
no dunder access, no function definitions, a step limit), inside a pooled worker process
(:mod:`._composer_pool`) with a memory limit, a CPU-time limit and a wall-clock timeout, so a
hostile snippet can exhaust only its worker, never the host or its event loop. Tool calls
are sent back to the host and run here. Only its *final output* returns
to the conversation: everything it ``print``-ed, followed by the value of a variable named
``result`` if it assigned one (strings as they are, anything else as JSON). Tool results
that are JSON strings (objects or arrays) arrive in the snippet already parsed.
Independent tool calls inside the snippet run concurrently.

Example:
    >>> import asyncio
    >>> from deluge_ray.tool import Tool
    >>> def double(x: int) -> int:
    ...     '''Double a number.'''
    ...     return 2 * x
    >>> composer = ToolComposer([Tool.from_function(double)])
    >>> asyncio.run(composer.execute("result = double(2) + double(x=3)"))
    '10'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import ConfigurationError
from ._batch import tool_index
from ._common import make_tool
from ._composer_pool import Limits, run_snippet
from ._sandbox import SandboxError, SnippetError, ToolFunction

__all__ = ["ToolComposer"]

_TYPE_NAMES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
}

_PROMPT = """Write a short Python snippet that calls several tools and combines their results \
in one step, so intermediate results never enter the conversation.
- Call tools as plain functions (no await): `r = search(query="x")`. Independent calls run \
concurrently; a result is waited for only when you use it.
- Only the final output comes back: what you print(), then the value of a variable named \
`result` if you set one.
- A restricted Python subset: assignments, if/for/while, comprehensions, f-strings, common \
str/list/dict/set methods, json.dumps/json.loads and the builtins len, range, min, max, sum, \
sorted, reversed, enumerate, zip, abs, round, any, all, isinstance, str, int, float, bool, \
list, dict, tuple, set, print. No imports, def, lambda, class, try, files or network.
- It runs in a separate process with limits on time, CPU and memory; a snippet that exceeds \
them is stopped and you get an error."""


def _signature(tool: Any) -> str:
    params = []
    for name, schema in (tool.parameters or {}).items():
        kind = _TYPE_NAMES.get(schema.get("type", ""), "any") if isinstance(schema, dict) else "any"
        params.append(f"{name}: {kind}" + ("" if name in (tool.required or []) else " = None"))
    description = (tool.description or "").strip().splitlines()
    summary = description[0][:200] if description else ""
    return f"  {tool.name}({', '.join(params)})  # {summary}"


class ToolComposer:
    """Expose a ``compose`` tool that runs model-written snippets over ``tools``.

    ``max_steps`` bounds the work of one snippet (each evaluated node is a step; an endless
    loop is stopped with a message); ``timeout`` (seconds of wall clock, tool calls
    included) kills the snippet's worker; ``cpu_seconds`` and ``memory_mb`` bound the
    worker's CPU time and address space. ``include_tools_in_prompt`` lists the tools' signatures in the
    ``compose`` description, which is needed when the model does not also see the tools.
    """

    def __init__(
        self,
        tools: Sequence[Any],
        *,
        compose_tool_name: str = "compose",
        include_tools_in_prompt: bool = True,
        max_steps: int = 100_000,
        max_tool_calls: int = 100,
        timeout: float | None = 120.0,
        cpu_seconds: float = 10.0,
        memory_mb: int = 512,
    ) -> None:
        if max_steps < 1 or max_tool_calls < 1:
            raise ConfigurationError("max_steps and max_tool_calls must be at least 1.")
        if cpu_seconds <= 0 or (timeout is not None and timeout <= 0):
            raise ConfigurationError(
                "cpu_seconds and timeout must be positive (timeout may be None)."
            )
        if memory_mb < 128:
            raise ConfigurationError(
                f"memory_mb={memory_mb} is too small for a Python worker; use at least 128."
            )
        self.tools = list(tools)
        self.compose_tool_name = compose_tool_name
        self.include_tools_in_prompt = include_tools_in_prompt
        self.max_steps = max_steps
        self.max_tool_calls = max_tool_calls
        self.timeout = timeout
        self.cpu_seconds = cpu_seconds
        self.memory_mb = memory_mb
        self._functions = {
            name: ToolFunction(name, tool.acall, tuple(tool.parameters or ()))
            for name, tool in tool_index(self.tools).items()
        }

    async def execute(self, code: str) -> str:
        """Run ``code`` and return its final output; raise on refusal or failure.

        Raises :class:`SandboxError` for forbidden code and :class:`SnippetError` when it
        fails while running (both are :class:`deluge_ray.errors.ToolError`).
        """
        if not isinstance(code, str) or not code.strip():
            raise SnippetError("code is empty; send a Python snippet.")
        if len(code) > 20_000:
            raise SnippetError("code is longer than 20,000 characters; keep snippets short.")
        limits = Limits(
            self.max_steps, self.max_tool_calls, self.cpu_seconds, self.memory_mb, self.timeout
        )
        done = await run_snippet(code, self._functions, limits)
        if not done.get("ok"):
            error = SandboxError if done.get("kind") == "sandbox" else SnippetError
            raise error(str(done.get("message")))
        printed, result = done.get("printed") or "", done.get("result")
        parts = [printed] if printed else []
        if result is not None:
            parts.append(str(result))
        if not parts:
            return "(no output: print() what you need, or assign it to `result`)"
        return "\n".join(parts)

    async def _compose(self, code: str) -> str:
        try:
            return await self.execute(code)
        except SandboxError as exc:
            return f"Security error: {exc}"
        except SnippetError as exc:
            return f"Execution error: {exc}"
        except Exception as exc:  # never raise into the agent loop
            return f"Execution error: {type(exc).__name__}: {exc}"

    def get_compose_tool(self):
        """The ``compose`` tool."""
        description = _PROMPT
        if self.include_tools_in_prompt and self.tools:
            description += "\n\nAvailable functions:\n" + "\n".join(map(_signature, self.tools))
        parameters = {"code": {"type": "string", "description": "The Python snippet to run."}}
        return make_tool(self.compose_tool_name, description, parameters, ["code"], self._compose)

    def get_tools(self) -> list:
        """``[compose]``: give the model only the composition tool."""
        return [self.get_compose_tool()]

    def get_all_tools(self) -> list:
        """``[compose, *tools]``: composition first, and the tools for direct calls too."""
        return [self.get_compose_tool(), *self.tools]
