"""Connections to MCP servers and conversion of their tool results.

An :class:`MCPConnection` says *how* to reach a server (a command to launch over stdio,
or a streamable-HTTP URL with headers). It is a small frozen dataclass, so tools that
hold one pickle and can be shipped to Ray actors; a live session never travels.

Sessions: every :class:`MCPToolRunner` call opens a fresh session and closes it after
the call. That costs a process start (stdio) or an HTTP handshake per call, but it is
always correct — in any process, on any event loop, after any failure — which a
cached session shared across loops and actors would not be.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import ToolError

__all__ = ["MCPConnection", "MCPToolRunner", "convert_result"]

# Generous read timeout: a tool may legitimately run for minutes.
_CONNECT_TIMEOUT_S = 30.0
_READ_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class MCPConnection:
    """How to reach one MCP server: ``command``/``args``/``env`` (stdio) or ``url``
    (streamable HTTP) with ``headers``. ``repr`` never shows header or env values."""

    server_name: str
    url: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] | None = field(default=None, compare=False)
    headers: dict[str, str] | None = field(default=None, compare=False)
    cwd: str | None = None

    def __post_init__(self) -> None:
        if bool(self.url) == bool(self.command):
            raise ToolError(
                f"MCP server {self.server_name!r} needs exactly one of url= (streamable HTTP) "
                "or command= (stdio subprocess)."
            )

    def __repr__(self) -> str:
        where = f"url={self.url!r}" if self.url else f"command={self.command!r}, args={self.args!r}"
        masked = []
        if self.headers:
            masked.append(f"headers=<{len(self.headers)} hidden>")
        if self.env:
            masked.append(f"env=<{len(self.env)} hidden>")
        extra = "".join(f", {item}" for item in masked)
        return f"MCPConnection(server_name={self.server_name!r}, {where}{extra})"

    def describe(self) -> str:
        """Where the server is, for error messages (no secrets)."""
        return self.url or " ".join([self.command or "", *self.args]).strip()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        """Open an initialised ``mcp.Client`` session; closed (and a stdio server
        stopped) when the block exits."""
        from mcp import Client  # late: importing the MCP SDK costs ~0.5 s

        if self.url:
            import httpx2  # the HTTP client the MCP SDK is built on
            from mcp.client.streamable_http import streamable_http_client

            timeout = httpx2.Timeout(_CONNECT_TIMEOUT_S, read=_READ_TIMEOUT_S)
            async with (
                httpx2.AsyncClient(headers=self.headers or {}, timeout=timeout) as http,
                Client(streamable_http_client(self.url, http_client=http)) as client,
            ):
                yield client
        else:
            from mcp.client.stdio import StdioServerParameters

            assert self.command is not None
            params = StdioServerParameters(
                command=self.command, args=list(self.args), env=self.env, cwd=self.cwd
            )
            async with Client(params) as client:
                yield client

    async def list_tools(self) -> list[Any]:
        """Every tool the server lists (all pages), as ``mcp_types.Tool`` objects."""
        tools: list[Any] = []
        try:
            async with self.session() as client:
                cursor: str | None = None
                while True:
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if not cursor:
                        return tools
        except ToolError:
            raise
        except Exception as exc:
            raise ToolError(
                f"Could not list the tools of MCP server {self.server_name!r} "
                f"({self.describe()}): {_reason(exc)}. Check that the server starts/is "
                "reachable and speaks MCP."
            ) from exc


def _reason(exc: BaseException) -> str:
    """The innermost message of an exception, unwrapping anyio's exception groups."""
    # Duck-typed so it also works on Python 3.10 (exceptiongroup backport via anyio).
    while getattr(exc, "exceptions", None):
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class MCPToolRunner:
    """The ``run`` of a tool that lives on an MCP server: an async callable that opens a
    session, calls the tool and converts the result (see :func:`convert_result`)."""

    connection: MCPConnection
    tool_name: str
    unwrap_result: bool = False

    async def __call__(self, **arguments: Any) -> Any:
        try:
            async with self.connection.session() as client:
                result = await client.call_tool(self.tool_name, arguments)
        except Exception as exc:
            raise ToolError(
                f"Calling MCP tool {self.tool_name!r} on server "
                f"{self.connection.server_name!r} ({self.connection.describe()}) failed: "
                f"{_reason(exc)}"
            ) from exc
        return convert_result(
            result,
            server_name=self.connection.server_name,
            tool_name=self.tool_name,
            unwrap_result=self.unwrap_result,
        )


def _image_part(data: str, mime_type: str) -> Any:
    try:
        from ..prompt import Image
    except ImportError:  # the prompt model is optional for this module
        return f"data:{mime_type};base64,{data}"
    return Image(base64.b64decode(data), media_type=mime_type)


def _text_part(text: str) -> Any:
    try:
        from ..prompt import Text
    except ImportError:
        return text
    return Text(text)


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", None)
    if kind == "text":
        return block.text
    resource = getattr(block, "resource", None)
    if resource is not None and getattr(resource, "text", None) is not None:
        return resource.text
    # Audio, blobs and links have no text form the model could use; say what they were.
    return f"[{kind or 'unknown'} content omitted]"


def convert_result(
    result: Any, *, server_name: str, tool_name: str, unwrap_result: bool = False
) -> Any:
    """Turn an MCP ``CallToolResult`` into what a tool returns.

    - an error result raises :class:`ToolError` carrying the server's text;
    - structured content is returned as a dict (FastMCP-style ``{"result": x}``
      wrappers of plain return values give ``x`` when ``unwrap_result``);
    - content with images becomes a list of ``deluge_ray.prompt`` ``Text``/``Image``
      parts (or strings with ``data:`` URLs if the prompt model is unavailable);
    - otherwise the text blocks joined with newlines.
    """
    blocks = list(getattr(result, "content", None) or [])
    if getattr(result, "is_error", False):
        detail = "\n".join(_block_text(b) for b in blocks) or "no details given"
        raise ToolError(f"MCP tool {tool_name!r} on server {server_name!r} failed: {detail}")
    structured = getattr(result, "structured_content", None)
    if structured is not None:
        if unwrap_result and isinstance(structured, dict) and set(structured) == {"result"}:
            return structured["result"]
        return structured
    if any(getattr(b, "type", None) == "image" for b in blocks):
        return [
            _image_part(b.data, b.mime_type)
            if getattr(b, "type", None) == "image"
            else _text_part(_block_text(b))
            for b in blocks
        ]
    return "\n".join(_block_text(b) for b in blocks)
