"""A small real MCP server used by the tool tests.

Run as ``python demo_server.py stdio`` or ``python demo_server.py http PORT``.
It exposes a handful of tools covering each kind of result the client converts:
plain text, numbers, structured JSON, images and errors.
"""

from __future__ import annotations

import base64
import os
import sys

from mcp.server.mcpserver import Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from typing_extensions import TypedDict

# A 1x1 transparent PNG: enough to prove image content survives the round trip.
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

server = MCPServer("demo")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo(text: str, times: int = 1) -> str:
    """Repeat a text a number of times, separated by spaces."""
    return " ".join([text] * times)


class Weather(TypedDict):
    city: str
    temperature_c: int
    sky: str


@server.tool()
def weather(city: str) -> Weather:
    """Report the (fake) weather of a city as structured JSON."""
    return {"city": city, "temperature_c": 21, "sky": "clear"}


@server.tool()
def red_pixel() -> Image:
    """Return a one-pixel PNG image."""
    return Image(data=PNG_1X1, format="png")


@server.tool(name="odd.name")
def odd_name() -> str:
    """A tool whose MCP name is not a valid function name."""
    return "odd"


@server.tool()
def fail(reason: str) -> str:
    """Always fails with the given reason."""
    # ToolError passes its message to the client instead of a generic crash report.
    raise ToolError(reason)


@server.tool()
def env_value(name: str) -> str:
    """Read an environment variable of the server process."""
    return os.environ.get(name, "<unset>")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
