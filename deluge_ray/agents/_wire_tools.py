"""A swarm's tools on their way to SubAgents: schemas built once, per-loop sets, guards.

:func:`prepare_swarm_tools` takes ``tools=`` as a list (one copy per actor) or a tool
factory (:class:`PerLoopTools`: one set per loop, made by :func:`tools_for_loop` in the
actor); every executable tool runs behind :class:`GuardedTool` there.

**Schemas once.**
Building a tool's wire schema (closing it for strict mode, deep-copying definitions) cost
about 0.2 ms per model call inside a SubAgent, the same every time: a swarm's tools never
change. :class:`SchemaOnce` wraps one request tool and remembers what each ``for_*``
method returned for each set of arguments. Request builders only call those methods (they
dispatch on ``for_openai_completions`` / ``for_anthropic`` being present, never on the
class), and each builder puts the returned dict into a new request body that is
serialised, never edited, so sharing one dict between requests is safe.

    >>> from deluge_ray.tool import Tool
    >>> def echo(text: str) -> str:
    ...     '''Say it back.'''
    ...     return text
    >>> once = SchemaOnce(Tool.from_function(echo))
    >>> once.for_openai_completions(strict=True) is once.for_openai_completions(strict=True)
    True
    >>> once.name
    'echo'
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError
from ._loop import AgentTools, normalize_tool_result, prepare_tools

__all__ = [
    "GuardedTool",
    "PerLoopTools",
    "SchemaOnce",
    "call_tool_factory",
    "is_tool_factory",
    "prepare_swarm_tools",
    "schemas_once",
    "tools_for_loop",
]

_SCHEMA_METHODS = frozenset(
    {"for_openai_completions", "for_openai", "for_openai_responses", "for_anthropic", "for_gemini"}
)


class SchemaOnce:
    """One request tool; its ``for_*`` schemas are computed on first use and kept."""

    def __init__(self, tool: Any) -> None:
        self.tool = tool
        self._schemas: dict[tuple, Any] = {}

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this wrapper lacks: everything but the schemas is
        # the tool's own. (Its own two fields are missing only while unpickling.)
        if name in ("tool", "_schemas"):
            raise AttributeError(name)
        target = getattr(self.tool, name)
        if name not in _SCHEMA_METHODS:
            return target

        def remembered(*args: Any, **kwargs: Any) -> Any:
            key = (name, args, tuple(sorted(kwargs.items())))
            try:
                return self._schemas[key]
            except KeyError:
                schema = self._schemas[key] = target(*args, **kwargs)
                return schema
            except TypeError:  # an unhashable argument: nothing to remember it by
                return target(*args, **kwargs)

        return remembered

    def __getstate__(self) -> dict[str, Any]:
        return {"tool": self.tool}  # schemas are rebuilt where the copy lands

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.tool = state["tool"]
        self._schemas = {}


def schemas_once(tools: Sequence[Any] | None) -> tuple[Any, ...] | None:
    """``tools`` with every object tool wrapped in :class:`SchemaOnce` (provider-native
    dicts pass through as they are)."""
    if not tools:
        return None
    return tuple(t if isinstance(t, dict) else SchemaOnce(t) for t in tools)


# ---- tools made once per loop ------------------------------------------------------------
def is_tool_factory(tools: Any) -> bool:
    """Whether ``tools`` is a zero-argument callable making a loop's tools (not a list,
    a single tool or a provider dict)."""
    from ..tool import MCPServer, Tool

    return callable(tools) and not isinstance(tools, (Tool, MCPServer, dict, Sequence))


def call_tool_factory(factory: Callable[[], Any]) -> list[Any]:
    """The list of tools ``factory()`` makes, or a :class:`ConfigurationError` saying why not."""
    name = getattr(factory, "__qualname__", type(factory).__name__)
    try:
        made = factory()
    except TypeError as exc:
        raise ConfigurationError(
            f"tools={name} was called with no arguments to make a loop's tools and raised "
            f"TypeError: {exc}. A tool factory takes no arguments and returns a list of tools."
        ) from exc
    if isinstance(made, (str, bytes, dict)) or not isinstance(made, Sequence):
        raise ConfigurationError(
            f"tools={name}() returned a {type(made).__name__}; a tool factory must return "
            "a list of tools (Tool / MCPServer / provider tool dicts)."
        )
    return list(made)


@dataclass
class PerLoopTools(AgentTools):
    """A swarm's tools when they are made once per loop: the request schemas come from one
    instance made on the driver; ``factory`` makes each loop's own in the SubAgent."""

    factory: Callable[[], Any] | None = None
    force_local_mcp: bool = False
    native_mcp: bool = False


async def prepare_swarm_tools(tools: Any, *, force_local_mcp: bool, native_mcp: bool) -> AgentTools:
    """:func:`~deluge_ray.agents._loop.prepare_tools` for a swarm: a list is prepared once
    (one copy per actor, shared by its loops); a factory becomes :class:`PerLoopTools`."""
    if not is_tool_factory(tools):
        return await prepare_tools(tools, force_local_mcp=force_local_mcp, native_mcp=native_mcp)
    sample = await prepare_tools(
        call_tool_factory(tools), force_local_mcp=force_local_mcp, native_mcp=native_mcp
    )
    return PerLoopTools(
        sample.request,
        sample.executable,
        factory=tools,
        force_local_mcp=force_local_mcp,
        native_mcp=native_mcp,
    )


async def tools_for_loop(tools: AgentTools) -> AgentTools:
    """The tools one loop in a SubAgent runs with: a fresh set from the factory
    (:class:`PerLoopTools`, checked to offer the tools the requests announce), else the
    swarm's shared set; either way behind :class:`GuardedTool`."""
    if isinstance(tools, PerLoopTools) and tools.factory is not None:
        made = await prepare_tools(
            call_tool_factory(tools.factory),
            force_local_mcp=tools.force_local_mcp,
            native_mcp=tools.native_mcp,
        )
        if sorted(made.executable) != sorted(tools.executable):
            raise ConfigurationError(
                f"the tool factory made tools {sorted(made.executable)} for this loop but "
                f"{sorted(tools.executable)} on the driver; it must make the same tools "
                "every time."
            )
        return AgentTools(tools.request, _guarded(made.executable))
    shared = getattr(tools, "_guarded_copy", None)  # one per swarm copy, made once
    if shared is None:
        shared = AgentTools(tools.request, _guarded(tools.executable))
        tools._guarded_copy = shared  # type: ignore[attr-defined]
    return shared


def _guarded(executable: dict[str, Any]) -> dict[str, Any]:
    return {name: GuardedTool(tool) for name, tool in executable.items()}


class GuardedTool:
    """A tool as a SubAgent runs it: whatever goes wrong comes back as error text.

    The loop already turns a tool's ``Exception`` and a ``tool_timeout`` into text the
    model reads. In an actor two more things could lose loops: a ``BaseException``
    (``SystemExit`` from a library, ``KeyboardInterrupt``) would end every loop of the
    actor, and a result that cannot be pickled would fail the batch of events carrying
    it home. Both become ``"Error: ..."`` results here; a result that is plain text or
    JSON data (nearly all) is passed on without a check.
    """

    def __init__(self, tool: Any) -> None:
        self.tool = tool

    def __getattr__(self, name: str) -> Any:
        if name == "tool":  # missing only while unpickling
            raise AttributeError(name)
        return getattr(self.tool, name)

    async def acall(self, **kwargs: Any) -> Any:
        """The tool's result, normalised; an error text when it raised or cannot travel."""
        try:
            value = await self.tool.acall(**kwargs)
        except asyncio.CancelledError:
            raise  # tool_timeout cancels the call; the loop reports it
        except Exception:
            raise  # the loop's own rule: "Error: <type>: <message>"
        except BaseException as exc:
            return f"Error: {type(exc).__name__}: {exc}"
        result = normalize_tool_result(value)
        if isinstance(value, (str, int, float, bool, type(None))):
            return result
        if isinstance(result, str):  # not JSON-able: its str() stands in, if it could travel
            problem = _unpicklable(value)
        elif isinstance(result, list) and any(hasattr(part, "__dict__") for part in result):
            problem = _unpicklable(result)  # content parts (images, text)
        else:
            return result  # JSON data: plain values only
        if problem is not None:
            return (
                f"Error: tool {self.tool.name!r} returned a {type(value).__name__}, which "
                f"cannot be sent back from the SubAgent ({problem}). Return text, JSON-like "
                "data or images."
            )
        return result


def _unpicklable(value: Any) -> str | None:
    """Why ``value`` does not pickle, or ``None`` if it does."""
    try:
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
