"""The :class:`Tool` class: a function-call schema plus an optional Python callable."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ToolError
from ._calling import call_async, call_sync, check_arguments, validate_output
from ._description import default_description, returns_section
from ._introspect import describe_function
from ._schema import normalize_parameters
from ._strict import can_be_strict, object_schema, to_anthropic_strict, to_gemini, to_strict

__all__ = ["TOOL_NAME_PATTERN", "Tool", "sanitize_tool_name"]

TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$")
"""Names every provider accepts for a function tool."""


def sanitize_tool_name(name: str) -> str:
    """Turn any string into a valid tool name (used for names coming from MCP servers).

    >>> sanitize_tool_name("files.read-all!")
    'files_read-all_'
    >>> sanitize_tool_name("3d")
    '_3d'
    """
    cleaned = re.sub(r"[^a-zA-Z0-9_-]", "_", name) or "_"
    if not re.match(r"[a-zA-Z_]", cleaned[0]):
        cleaned = "_" + cleaned
    return cleaned[:64]


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not TOOL_NAME_PATTERN.match(name):
        hint = f" Try {sanitize_tool_name(name)!r}." if isinstance(name, str) else ""
        raise ToolError(
            f"Invalid tool name {name!r}: a name must start with a letter or '_', contain only "
            f"letters, digits, '_' or '-', and be at most 64 characters.{hint}"
        )


class Tool(BaseModel):
    """A tool the model can call: name, description, parameter schema, optional callable.

    ``parameters`` accepts a JSON Schema object, a properties mapping of JSON Schemas,
    a mapping to Python types (``{"city": str}``) or ``(type, extras)`` tuples, a pydantic
    model or a ``TypedDict``; it is stored normalised as the schema's ``properties``, with
    ``required`` and ``definitions`` (``$defs``) beside it. Tools pickle (they travel to
    Ray actors) as long as ``run`` does, e.g. a module-level function.

    >>> def add(a: int, b: int = 1) -> int:
    ...     '''Add two numbers.'''
    ...     return a + b
    >>> tool = Tool.from_function(add)
    >>> tool.required, tool.call(a=2)
    (['a'], 3)
    >>> Tool(name="lookup", parameters={"city": str}).for_anthropic()["input_schema"]["required"]
    ['city']
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    required: list[str] = Field(default_factory=list)
    additionalProperties: Any = None
    definitions: dict[str, Any] | None = None
    run: Callable[..., Any] | None = None
    output_schema: dict[str, Any] | None = None
    # Provider built-in tools (web search, code interpreter...) carry no schema.
    is_built_in: bool = False
    type: str | None = None
    built_in_args: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        # Checks run here, not in pydantic validators, so that they raise ToolError
        # itself: pydantic would wrap a ValueError subclass into a ValidationError.
        _check_name(data.get("name"))
        raw = data.get("parameters")
        if raw is not None:
            params = normalize_parameters(raw)
            data["parameters"] = params.properties
            data.setdefault("required", params.required)
            if params.defs and data.get("definitions") is None:
                data["definitions"] = params.defs
            if params.additional_properties is not None:
                data.setdefault("additionalProperties", params.additional_properties)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ToolError(f"Invalid Tool definition for {data.get('name')!r}: {exc}") from exc
        unknown = [name for name in self.required if name not in (self.parameters or {})]
        if unknown and not self.is_built_in:
            raise ToolError(
                f"Tool {self.name!r} lists required argument(s) {unknown} that are not among "
                f"its parameters {sorted(self.parameters or {})}."
            )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_function(
        cls,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        include_output_schema_in_description: bool = False,
    ) -> Tool:
        """Build a tool from a function's signature, type hints and docstring.

        Parameter descriptions come from ``Annotated[T, "text"]``, ``Field(description=)``
        or the docstring (Google, NumPy or Sphinx style); defaults make a parameter
        optional; the return annotation becomes ``output_schema`` (and, when
        ``include_output_schema_in_description`` is true, a ``Returns: <type>`` section of
        the description). An undocumented function gets ``"Call the <name> function"``.
        """
        info = describe_function(func)
        description = info.description or default_description(info.name)
        if include_output_schema_in_description:
            returns = returns_section(func, info.output_schema)
            if returns:
                description = f"{description}\n\n{returns}"
        return cls(
            name=name or info.name,
            description=description,
            parameters=info.properties,
            required=info.required,
            definitions=info.defs,
            run=func,
            output_schema=info.output_schema,
        )

    @classmethod
    def built_in(cls, name: str, **kwargs: Any) -> Tool:
        """A provider built-in tool (e.g. ``Tool.built_in("web_search_preview")``).

        ``type`` defaults to ``name``; other keyword arguments are sent as they are.
        """
        kind = kwargs.pop("type", name)
        return cls(name=name, type=kind, is_built_in=True, built_in_args=kwargs)

    @classmethod
    async def from_mcp(
        cls,
        server_name: str,
        *,
        url: str | None = None,
        command: str | None = None,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        cwd: str | None = None,
        tool_name: str | None = None,
        prefix: bool = False,
    ) -> Any:
        """The tools of one MCP server (stdio ``command=`` or streamable-HTTP ``url=``).

        Returns ``list[Tool]`` (or the one tool called ``tool_name``) whose calls open a
        session to the server; see :mod:`deluge_ray.tool._mcp` for naming and sessions.
        """
        from ._mcp import tools_from_mcp  # late: _mcp imports this module

        return await tools_from_mcp(
            server_name,
            url=url,
            command=command,
            args=args,
            env=env,
            headers=headers,
            token=token,
            cwd=cwd,
            tool_name=tool_name,
            prefix=prefix,
        )

    @classmethod
    async def from_mcp_config(cls, config: dict[str, Any], *, prefix: bool = False) -> list[Tool]:
        """Tools of every server in an ``{"mcpServers": {...}}`` config (stdio and HTTP)."""
        from ._mcp import tools_from_mcp_config

        return await tools_from_mcp_config(config, prefix=prefix)

    @staticmethod
    def find(tools: Sequence[Any], *, name: str) -> Tool | None:
        """The first :class:`Tool` in ``tools`` called ``name``, or ``None``."""
        return next((t for t in tools if isinstance(t, Tool) and t.name == name), None)

    # ------------------------------------------------------------------ calling
    def _runnable(self, kwargs: dict[str, Any]) -> Callable[..., Any]:
        if self.run is None:
            raise ToolError(
                f"Tool {self.name!r} has no run callable, so it cannot be called locally. "
                "Pass run=... (or use Tool.from_function)."
            )
        check_arguments(self.name, self.run, self.required, kwargs)
        return self.run

    def call(self, *, validate_output: bool = False, **kwargs: Any) -> Any:
        """Run the tool and return its result, from synchronous code.

        An async ``run`` is driven to completion here — on a worker thread with its own
        loop when called from inside a running event loop. Missing or unexpected
        arguments raise :class:`ToolError`; errors raised by the tool itself propagate
        unchanged. ``validate_output=True`` checks the result against ``output_schema``.
        """
        result = call_sync(self._runnable(kwargs), kwargs)
        if validate_output:
            self._validate(result)
        return result

    async def acall(self, *, validate_output: bool = False, **kwargs: Any) -> Any:
        """Async :meth:`call`: coroutines are awaited, plain functions run in a thread."""
        result = await call_async(self._runnable(kwargs), kwargs)
        if validate_output:
            self._validate(result)
        return result

    def _validate(self, result: Any) -> None:
        validate_output(self.name, result, self.output_schema)

    # ------------------------------------------------------------------ serialisers
    def json_schema(self) -> dict[str, Any]:
        """The full parameter schema as stored (non-strict), with ``$defs`` if any."""
        return self._object_schema(deep_copy=True)

    def _object_schema(self, *, deep_copy: bool) -> dict[str, Any]:
        return object_schema(
            self.parameters or {},
            self.required,
            self.definitions,
            self.additionalProperties,
            deep_copy=deep_copy,
        )

    def _strict_schema(self) -> dict[str, Any] | None:
        """The closed schema for strict mode, or ``None`` when it cannot be strict."""
        # Not copied: can_be_strict only reads it and to_strict builds a new one. Every
        # model call of an agent loop renders its tools, so the copies were most of it.
        schema = self._object_schema(deep_copy=False)
        # The arguments object itself is closed unless the tool says otherwise.
        schema.setdefault("additionalProperties", False)
        return to_strict(schema) if can_be_strict(schema) else None

    def _described(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.description:
            body["description"] = self.description
        return body

    def for_openai_completions(self, *, strict: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Chat Completions tool: ``{"type": "function", "function": {...}}``.

        With ``strict=True`` the schema is closed (see :mod:`._strict`) and
        ``"strict": true`` is set, unless the schema cannot be strict, in which case the
        plain schema is sent with ``"strict": false``.
        """
        if self.is_built_in:
            return {"type": self.type, **self.built_in_args, **kwargs}
        schema = self._strict_schema() if strict else None
        function = self._described({"name": self.name})
        function["parameters"] = schema if schema is not None else self.json_schema()
        function["strict"] = schema is not None
        return {"type": "function", "function": function}

    def for_openai(self, *, strict: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Alias of :meth:`for_openai_completions`."""
        return self.for_openai_completions(strict=strict, **kwargs)

    def for_openai_responses(self, *, strict: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Responses API tool: flat ``{"type": "function", "name", "parameters", "strict"}``."""
        if self.is_built_in:
            return {"type": self.type, **self.built_in_args, **kwargs}
        schema = self._strict_schema() if strict else None
        body = self._described({"type": "function", "name": self.name})
        body["parameters"] = schema if schema is not None else self.json_schema()
        body["strict"] = schema is not None
        return body

    def for_anthropic(self, *, strict: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Anthropic tool: ``{"name", "description", "input_schema"}`` plus
        ``"strict": true`` when the schema can be strict."""
        if self.is_built_in:
            return {"name": self.name, "type": self.type, **self.built_in_args, **kwargs}
        body = self._described({"name": self.name})
        strict_schema = self._strict_schema() if strict else None
        if strict_schema is not None:
            body["input_schema"] = to_anthropic_strict(strict_schema)
            body["strict"] = True
        else:
            body["input_schema"] = self.json_schema()
        return body

    def for_gemini(self) -> dict[str, Any]:
        """Gemini function declaration ``{"name", "description", "parameters"}`` in
        Gemini's OpenAPI-subset dialect (refs inlined, unsupported keywords removed).
        ``parameters`` is omitted for a tool without arguments."""
        if self.is_built_in:
            return {self.type or self.name: dict(self.built_in_args)}
        body = self._described({"name": self.name})
        if self.parameters:
            body["parameters"] = to_gemini(self.json_schema())
        return body

    def for_google(self) -> dict[str, Any]:
        """Alias of :meth:`for_gemini`."""
        return self.for_gemini()

    def dump_for(self, provider: str, **kwargs: Any) -> dict[str, Any]:
        """Serialise for ``"openai-completions"``, ``"openai-responses"``, ``"anthropic"``
        or ``"gemini"``/``"google"``."""
        if provider == "openai-completions":
            return self.for_openai_completions(**kwargs)
        if provider == "openai-responses":
            return self.for_openai_responses(**kwargs)
        if provider == "anthropic":
            return self.for_anthropic(**kwargs)
        if provider in ("gemini", "google"):
            return self.for_gemini()
        raise ToolError(
            f"Unknown provider format {provider!r}; use 'openai-completions', "
            "'openai-responses', 'anthropic' or 'gemini'."
        )
