"""MCP tools in agent loops: the real demo MCP server over stdio and streamable HTTP."""

from __future__ import annotations

from deluge_ray.agents._loop import prepare_tools, run_agent_loop
from deluge_ray.mock import Reply, RequestView
from deluge_ray.tool import MCPServer, Tool


def _results(conv):
    return [r.result for m in conv.messages for r in m.tool_results]


def _two_rounds(first: Reply, second: Reply, final: str):
    def script(view: RequestView) -> Reply | str:
        done = len([m for m in view.messages if m.tool_results])
        return [first, second][done] if done < 2 else final

    return script


async def test_stdio_mcp_tools_listed_and_called_in_a_loop(mock, make_client, stdio_command):
    command, args = stdio_command
    tools = await Tool.from_mcp("demo", command=command, args=args)
    assert {"add", "echo", "weather"} <= {t.name for t in tools}
    mock.script(
        "*",
        _two_rounds(
            Reply.tool_calls([("add", {"a": 20, "b": 22}), ("echo", {"text": "hi", "times": 2})]),
            Reply.tool_call("weather", {"city": "Oslo"}),
            "42, hi hi, clear in Oslo",
        ),
    )
    client = make_client()
    conv, resp = await run_agent_loop(client, "use the server", tools=tools)
    assert resp.completion == "42, hi hi, clear in Oslo"
    assert _results(conv) == ["42", "hi hi", {"city": "Oslo", "temperature_c": 21, "sky": "clear"}]


async def test_http_mcp_server_expanded_with_force_local_mcp(mock, make_client, mcp_http_url):
    server = MCPServer(name="demo", url=mcp_http_url)
    seen_tools: list[list[str]] = []

    def script(view: RequestView) -> Reply | str:
        seen_tools.append(list(view.tools))
        if not view.has_tool_result:
            return Reply.tool_calls([("add", {"a": 1, "b": 2}), ("fail", {"reason": "nope"})])
        return "done"

    mock.script("*", script)
    # Responses API could call the server natively; force_local_mcp expands it here instead.
    client = make_client(use_responses_api=True, force_local_mcp=True)
    conv, resp = await run_agent_loop(client, "go", tools=[server])
    assert resp.completion == "done"
    assert {"add", "echo", "weather", "red_pixel", "fail"} <= set(seen_tools[0])
    results = _results(conv)
    assert results[0] == "3"
    assert results[1].startswith("Error: ToolError") and "nope" in results[1]


async def test_mcp_server_is_native_only_where_the_provider_calls_it(make_client, mcp_http_url):
    server = MCPServer(name="demo", url=mcp_http_url)
    native = await prepare_tools([server], force_local_mcp=False, native_mcp=True)
    assert native.request == [server] and native.executable == {}
    # Chat completions cannot call MCP servers itself: the loop expands the server.
    local = await prepare_tools([server], force_local_mcp=False, native_mcp=False)
    assert "add" in local.executable and server not in local.request


def test_native_mcp_support_follows_the_wire_format():
    from deluge_ray.agents._loop import supports_native_mcp
    from deluge_ray.client import LLMClient

    assert supports_native_mcp(LLMClient("claude-4.5-haiku", progress="manual"))
    assert supports_native_mcp(LLMClient("gpt-4.1-mini", use_responses_api=True, progress="manual"))
    assert not supports_native_mcp(LLMClient("gpt-4.1-mini", progress="manual"))
