"""MCP servers as tools: :class:`MCPServer` and the ``Tool.from_mcp*`` loaders.

Two ways to use an MCP server:

- *provider-native*: pass an :class:`MCPServer` in ``tools=``; OpenAI (responses API)
  and Anthropic call the server themselves (:meth:`MCPServer.for_openai_responses`,
  :meth:`MCPServer.for_anthropic`);
- *local*: ``await Tool.from_mcp(...)`` / ``Tool.from_mcp_config(...)`` /
  ``await server.to_tools()`` (what ``force_local_mcp=True`` does) list the server's
  tools here and return :class:`Tool` objects whose calls go to the server.

Tool names: a local tool keeps the server's tool name, made valid with
:func:`sanitize_tool_name` (``files.read`` -> ``files_read``); with ``prefix=True`` it is
``"{server}_{tool}"``. The server is always called with its original name.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

from ..errors import ToolError
from ._mcp_client import MCPConnection, MCPToolRunner
from ._schema import clean_schema
from ._tool import Tool, sanitize_tool_name

__all__ = ["MCPServer", "tools_from_mcp", "tools_from_mcp_config"]


def _is_result_wrapper(schema: dict[str, Any] | None) -> bool:
    # FastMCP wraps a plain return value (int, str...) as {"result": value}.
    return bool(schema) and set((schema or {}).get("properties") or {}) == {"result"}


def _tool_from_listing(meta: Any, connection: MCPConnection, prefix: bool) -> Tool:
    name = f"{connection.server_name}_{meta.name}" if prefix else meta.name
    output = clean_schema(meta.output_schema) if meta.output_schema else None
    unwrap = _is_result_wrapper(output)
    if unwrap and output is not None:
        output = output["properties"]["result"]
    return Tool(
        name=sanitize_tool_name(name),
        description=meta.description or None,
        parameters=meta.input_schema or None,
        run=MCPToolRunner(connection, meta.name, unwrap_result=unwrap),
        output_schema=output,
    )


async def tools_from_mcp(
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
    """List one MCP server's tools (``Tool.from_mcp``).

    Give ``url=`` for a streamable-HTTP server (``headers``, and ``token`` sent as
    ``Authorization: Bearer <token>``), or ``command=``/``args=``/``env=`` for a stdio
    server launched as a subprocess. Returns ``list[Tool]``, or the one tool named
    ``tool_name`` (:class:`ToolError` if the server has none by that name).

    Example (a stdio server)::

        tools = await Tool.from_mcp("files", command="python", args=["files_server.py"])
        text = await tools[0].acall(path="README.md")
    """
    connection = _connection(server_name, url, command, args, env, headers, token, cwd)
    tools = [_tool_from_listing(m, connection, prefix) for m in await connection.list_tools()]
    if tool_name is None:
        return tools
    for tool, original in zip(tools, [t.run.tool_name for t in tools], strict=True):
        if tool_name in (tool.name, original):
            return tool
    raise ToolError(
        f"MCP server {server_name!r} has no tool {tool_name!r}; it has "
        f"{sorted(t.name for t in tools)}."
    )


def _connection(
    server_name: str,
    url: str | None,
    command: str | None,
    args: list[str] | None,
    env: dict[str, str] | None,
    headers: dict[str, str] | None,
    token: str | None,
    cwd: str | None,
) -> MCPConnection:
    merged = dict(headers or {})
    if token:
        merged["Authorization"] = f"Bearer {token}"
    if merged and not url:
        raise ToolError(f"MCP server {server_name!r}: headers/token only apply to url= servers.")
    return MCPConnection(
        server_name=server_name,
        url=url,
        command=command,
        args=tuple(str(a) for a in args or ()),
        env={str(k): str(v) for k, v in env.items()} if env else None,
        headers=merged or None,
        cwd=cwd,
    )


async def tools_from_mcp_config(config: dict[str, Any], *, prefix: bool = False) -> list[Tool]:
    """Tools of every server in a Claude-Desktop-style config (``Tool.from_mcp_config``).

    ``config`` is ``{"mcpServers": {name: spec}}`` or just the inner mapping; a spec is
    ``{"command": ..., "args": [...], "env": {...}, "cwd": ...}`` or
    ``{"url": ..., "headers": {...}, "token": ...}``. Servers are loaded in order; the
    first that fails raises :class:`ToolError` naming it. Two servers offering the same
    tool name is an error unless ``prefix=True``.

    >>> import asyncio
    >>> asyncio.run(tools_from_mcp_config({"mcpServers": {}}))
    []
    """
    servers = config.get("mcpServers", config) if isinstance(config, dict) else None
    if not isinstance(servers, dict):
        raise ToolError('An MCP config must be a dict like {"mcpServers": {"name": {...}}}.')
    known = {"url", "command", "args", "env", "headers", "token", "cwd", "type", "transport"}
    tools: list[Tool] = []
    seen: dict[str, str] = {}
    for server_name, spec in servers.items():
        if not isinstance(spec, dict):
            raise ToolError(f"MCP server {server_name!r}: its spec must be a dict, got {spec!r}.")
        unknown = set(spec) - known
        if unknown:
            raise ToolError(
                f"MCP server {server_name!r}: unknown key(s) {sorted(unknown)}; expected "
                "command/args/env/cwd (stdio) or url/headers/token (HTTP)."
            )
        loaded = await tools_from_mcp(
            server_name,
            url=spec.get("url"),
            command=spec.get("command"),
            args=spec.get("args"),
            env=spec.get("env"),
            headers=spec.get("headers"),
            token=spec.get("token"),
            cwd=spec.get("cwd"),
            prefix=prefix,
        )
        for tool in loaded:
            if tool.name in seen:
                raise ToolError(
                    f"Tool name {tool.name!r} is offered by MCP servers {seen[tool.name]!r} "
                    f"and {server_name!r}; pass prefix=True to name tools '<server>_<tool>'."
                )
            seen[tool.name] = server_name
        tools.extend(loaded)
    return tools


class MCPServer(BaseModel):
    """An MCP server reachable over HTTP, for provider-native MCP or local expansion.

    ``token`` is sent as a bearer token (Anthropic ``authorization_token``, an
    ``Authorization`` header for OpenAI and local calls); ``configuration`` is
    Anthropic's ``tool_configuration``; ``headers`` are extra HTTP headers. Neither the
    token nor header values appear in ``repr``.

    >>> server = MCPServer(name="docs", url="https://example.com/mcp", token="s3cret")
    >>> server.for_anthropic()["authorization_token"], "s3cret" in repr(server)
    ('s3cret', False)
    """

    model_config = ConfigDict(frozen=False)

    name: str
    url: str
    token: str | None = None
    configuration: dict[str, Any] | None = None
    headers: dict[str, str] | None = None

    _tools: list[Tool] | None = PrivateAttr(default=None)

    def __repr_args__(self) -> Any:
        # Secrets are masked: reprs end up in logs and tracebacks.
        yield "name", self.name
        yield "url", self.url
        if self.token:
            yield "token", "***"
        if self.configuration:
            yield "configuration", self.configuration
        if self.headers:
            yield "headers", dict.fromkeys(self.headers, "***")

    @classmethod
    def from_mcp_config(cls, config: dict[str, Any]) -> list[MCPServer]:
        """The URL servers of an ``{"mcpServers": {...}}`` config (stdio servers cannot be
        reached by a provider; load those with ``Tool.from_mcp_config``)."""
        servers = config.get("mcpServers", config)
        return [
            cls(
                name=name,
                url=spec["url"],
                token=spec.get("token"),
                configuration=spec.get("configuration"),
                headers=spec.get("headers"),
            )
            for name, spec in servers.items()
            if isinstance(spec, dict) and spec.get("url")
        ]

    def _all_headers(self) -> dict[str, str]:
        headers = dict(self.headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def for_openai_responses(self) -> dict[str, Any]:
        """OpenAI responses-API MCP tool (the provider calls the server)."""
        spec: dict[str, Any] = {
            "type": "mcp",
            "server_label": self.name,
            "server_url": self.url,
            "require_approval": "never",
        }
        headers = self._all_headers()
        if headers:
            spec["headers"] = headers
        return spec

    def for_anthropic(self) -> dict[str, Any]:
        """Anthropic MCP-connector server entry (sent as ``mcp_servers``)."""
        spec: dict[str, Any] = {"type": "url", "url": self.url, "name": self.name}
        if self.token:
            spec["authorization_token"] = self.token
        if self.configuration:
            spec["tool_configuration"] = self.configuration
        return spec

    async def to_tools(self, *, prefix: bool = False) -> list[Tool]:
        """The server's tools as local :class:`Tool` objects (listed once, then cached
        on this object)."""
        if self._tools is None:
            self._tools = await tools_from_mcp(
                self.name, url=self.url, headers=self.headers, token=self.token, prefix=prefix
            )
        return list(self._tools)
