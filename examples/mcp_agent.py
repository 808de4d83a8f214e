"""An agent loop whose tools come from an MCP server (stdio, or streamable HTTP by URL).

Runs against the built-in mock provider unless OPENAI_API_KEY is set. By default it starts
a small MCP server (this same file, run with ``--serve-mcp``) as a stdio subprocess; pass
``--url http://host:port/mcp`` to use a streamable-HTTP server instead (then the server is
expanded into local tools with ``force_local_mcp=True``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from deluge_ray import LLMClient
from deluge_ray.mock import MockProvider, Reply, RequestView, use_mock
from deluge_ray.tool import MCPServer, Tool


def serve_mcp() -> None:
    """A tiny MCP server with two tools, speaking MCP over stdio."""
    from mcp.server.mcpserver import MCPServer as Server

    server = Server("units")

    @server.tool()
    def celsius_to_fahrenheit(celsius: float) -> float:
        """Convert a temperature from Celsius to Fahrenheit."""
        return celsius * 9 / 5 + 32

    @server.tool()
    def city_temperature(city: str) -> dict:
        """Today's (made-up) temperature of a city, in Celsius."""
        return {"city": city, "celsius": 21.5}

    server.run("stdio")


def mock_model(view: RequestView) -> Reply | str:
    """The mock "model": look the temperature up, convert it, then answer."""
    results = [r["content"] for m in view.messages for r in m.tool_results]
    if not results:
        return Reply.tool_call("city_temperature", {"city": "Lisbon"})
    if len(results) == 1:
        return Reply.tool_call("celsius_to_fahrenheit", {"celsius": 21.5})
    return f"It is {results[1]} °F in Lisbon today."


async def main(url: str | None) -> int:
    real = bool(os.environ.get("OPENAI_API_KEY"))
    with contextlib.ExitStack() as stack:
        if not real:
            mock = stack.enter_context(MockProvider())
            mock.script("*", mock_model)
            stack.enter_context(use_mock(mock))
        if url:
            tools: list = [MCPServer(name="units", url=url)]
            client = LLMClient("gpt-4.1-mini", force_local_mcp=True, progress="manual")
        else:
            tools = await Tool.from_mcp(
                "units", command=sys.executable, args=[__file__, "--serve-mcp"]
            )
            client = LLMClient("gpt-4.1-mini", progress="manual")
        print("MCP tools:", ", ".join(t.name for t in tools if isinstance(t, Tool)) or url)
        try:
            conv, resp = await client.run_agent_loop(
                "How warm is it in Lisbon today, in Fahrenheit?", tools=tools, max_rounds=5
            )
        finally:
            client.shutdown()
    for message in conv.messages:
        calls = ", ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
        results = ", ".join(str(r.result) for r in message.tool_results)
        print(f"{message.role:>9}: {message.completion or calls or results}")
    print(f"stopped because: {resp.loop_stop_reason} after {resp.agent_rounds} rounds")
    return 1 if resp.is_error else 0


if __name__ == "__main__":
    if "--serve-mcp" in sys.argv:
        serve_mcp()
    else:
        url = sys.argv[sys.argv.index("--url") + 1] if "--url" in sys.argv else None
        sys.exit(asyncio.run(main(url)))
