"""MCP tools against a real MCP server (tests/tool/mcp_servers/demo_server.py).

The server runs as a stdio subprocess (launched per session by the client) and as a
streamable-HTTP subprocess on 127.0.0.1 (the ``mcp_http_url`` fixture). Stdio sessions
start a Python process each, so the stdio tests make as few calls as they can.
"""

from __future__ import annotations

import pickle

import cloudpickle
import pytest

from deluge_ray.errors import ToolError
from deluge_ray.prompt import Image
from deluge_ray.tool import MCPServer, Tool

DEMO_TOOLS = {"add", "echo", "weather", "red_pixel", "odd_name", "fail", "env_value"}


async def test_stdio_server_tools_are_listed_and_called(stdio_command) -> None:
    command, args = stdio_command
    tools = await Tool.from_mcp("demo", command=command, args=args, env={"DEMO_FLAG": "on"})
    by_name = {t.name: t for t in tools}
    assert set(by_name) == DEMO_TOOLS
    add = by_name["add"]
    assert add.description == "Add two integers."
    assert add.parameters == {"a": {"type": "integer"}, "b": {"type": "integer"}}
    assert add.required == ["a", "b"]
    assert add.output_schema == {"type": "integer"}  # FastMCP's {"result": ...} wrapper removed
    # The env reaches the server process, and the call goes through a real session.
    assert await by_name["env_value"].acall(name="DEMO_FLAG") == "on"


async def test_http_server_results_of_each_kind(mcp_http_url) -> None:
    tools = {t.name: t for t in await Tool.from_mcp("demo", url=mcp_http_url)}
    assert set(tools) == DEMO_TOOLS
    assert await tools["add"].acall(a=2, b=40) == 42
    assert await tools["echo"].acall(text="hi") == "hi"  # server-side default times=1
    assert await tools["weather"].acall(city="Oslo", validate_output=True) == {
        "city": "Oslo",
        "temperature_c": 21,
        "sky": "clear",
    }
    image_result = await tools["red_pixel"].acall()
    assert len(image_result) == 1 and isinstance(image_result[0], Image)
    assert image_result[0].media_type == "image/png"
    # A sync call of the async MCP tool works too.
    assert tools["echo"].call(text="yo", times=2) == "yo yo"


async def test_invalid_mcp_names_are_sanitised_but_called_by_original_name(mcp_http_url) -> None:
    tool = await Tool.from_mcp("demo", url=mcp_http_url, tool_name="odd.name")
    assert tool.name == "odd_name"
    assert await tool.acall() == "odd"


async def test_server_side_error_becomes_tool_error(mcp_http_url) -> None:
    fail = await Tool.from_mcp("demo", url=mcp_http_url, tool_name="fail")
    with pytest.raises(ToolError, match=r"'fail' on server 'demo' failed: .*kaput"):
        await fail.acall(reason="kaput")
    with pytest.raises(ToolError, match="missing required argument"):
        await fail.acall()


async def test_unknown_tool_name_and_unreachable_server(mcp_http_url) -> None:
    with pytest.raises(ToolError, match="has no tool 'nope'"):
        await Tool.from_mcp("demo", url=mcp_http_url, tool_name="nope")
    with pytest.raises(ToolError, match="Could not list the tools of MCP server 'gone'"):
        await Tool.from_mcp("gone", url="http://127.0.0.1:9/mcp")
    with pytest.raises(ToolError, match="exactly one of url"):
        await Tool.from_mcp("neither")


async def test_mcp_tools_pickle_and_work_after_unpickling(mcp_http_url) -> None:
    add = await Tool.from_mcp("demo", url=mcp_http_url, tool_name="add", token="tok-123")
    for dumps, loads in ((pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)):
        copy = loads(dumps(add))
        assert copy.name == "add" and copy.required == ["a", "b"]
        assert await copy.acall(a=1, b=2) == 3
    # The bearer token travels with the tool but never shows in its repr.
    assert add.run.connection.headers == {"Authorization": "Bearer tok-123"}
    assert "tok-123" not in repr(add) and "tok-123" not in str(add.run)


async def test_from_mcp_config_with_stdio_and_http_servers(mcp_http_url, stdio_command) -> None:
    command, args = stdio_command
    config = {
        "mcpServers": {
            "local": {"command": command, "args": args},
            "remote": {"url": mcp_http_url, "headers": {"X-Trace": "1"}},
        }
    }
    tools = await Tool.from_mcp_config(config, prefix=True)
    names = {t.name for t in tools}
    assert names == {f"local_{n}" for n in DEMO_TOOLS} | {f"remote_{n}" for n in DEMO_TOOLS}
    remote_add = Tool.find(tools, name="remote_add")
    assert remote_add is not None and await remote_add.acall(a=5, b=6) == 11


async def test_from_mcp_config_rejects_clashing_names_and_bad_specs(mcp_http_url) -> None:
    twice = {"mcpServers": {"one": {"url": mcp_http_url}, "two": {"url": mcp_http_url}}}
    with pytest.raises(ToolError, match=r"offered by MCP servers 'one'.*'two'.*prefix=True"):
        await Tool.from_mcp_config(twice)
    with pytest.raises(ToolError, match=r"unknown key\(s\) \['comand'\]"):
        await Tool.from_mcp_config({"mcpServers": {"typo": {"comand": "x"}}})
    # The inner mapping alone is accepted too.
    assert len(await Tool.from_mcp_config({"one": {"url": mcp_http_url}})) == len(DEMO_TOOLS)


async def test_mcp_server_to_tools_expands_locally(mcp_http_url) -> None:
    server = MCPServer(name="demo", url=mcp_http_url, token="secret-token")
    tools = await server.to_tools()
    assert {t.name for t in tools} == DEMO_TOOLS
    assert await Tool.find(tools, name="add").acall(a=1, b=1) == 2
    assert await server.to_tools() == tools  # listed once, then cached


def test_mcp_server_provider_specs_field_by_field() -> None:
    server = MCPServer(
        name="docs",
        url="https://mcp.example.com/sse",
        token="tk",
        configuration={"enabled": True, "allowed_tools": ["search"]},
        headers={"X-Org": "acme"},
    )
    assert server.for_openai_responses() == {
        "type": "mcp",
        "server_label": "docs",
        "server_url": "https://mcp.example.com/sse",
        "require_approval": "never",
        "headers": {"X-Org": "acme", "Authorization": "Bearer tk"},
    }
    assert server.for_anthropic() == {
        "type": "url",
        "url": "https://mcp.example.com/sse",
        "name": "docs",
        "authorization_token": "tk",
        "tool_configuration": {"enabled": True, "allowed_tools": ["search"]},
    }
    bare = MCPServer(name="open", url="https://x.example/mcp")
    assert "headers" not in bare.for_openai_responses()
    assert bare.for_anthropic() == {"type": "url", "url": "https://x.example/mcp", "name": "open"}


def test_mcp_server_repr_masks_secrets_and_pickles() -> None:
    server = MCPServer(name="s", url="https://x.example/mcp", token="tok-9", headers={"K": "v-7"})
    for text in (repr(server), str(server)):
        assert "tok-9" not in text and "v-7" not in text and "'s'" in text
    assert pickle.loads(pickle.dumps(server)).for_anthropic()["authorization_token"] == "tok-9"


def test_mcp_server_from_config_keeps_url_servers_only() -> None:
    servers = MCPServer.from_mcp_config(
        {"mcpServers": {"a": {"url": "https://a.example/mcp", "token": "t"}, "b": {"command": "x"}}}
    )
    assert [(s.name, s.url, s.token) for s in servers] == [("a", "https://a.example/mcp", "t")]
