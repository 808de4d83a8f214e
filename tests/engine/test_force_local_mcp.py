"""``force_local_mcp`` on the batch path: a real MCP server (streamable HTTP on 127.0.0.1)
passed as ``tools=[server]`` to ``process_prompts_async``.

With the flag, the client lists the server's tools over MCP and declares them to the
provider as ordinary function tools. Without it, the server is sent for the provider to
call natively, which only the responses API and Anthropic can do; chat completions answers
with a clear error and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deluge_ray.mock import RequestView
from deluge_ray.tool import MCPServer
from tests.support.clients import mock_fixtures
from tests.support.mcp import demo_mcp_over_http

DEMO_TOOLS = {"add", "echo", "weather", "red_pixel", "odd_name", "fail", "env_value"}


# ---- fixtures ------------------------------------------------------------------------------
mock_server, mock, make_client = mock_fixtures(1, client_needs_mock=True, max_attempts=2)


@pytest.fixture(scope="module")
def mcp_url() -> Iterator[str]:
    with demo_mcp_over_http() as url:
        yield url


def recorder(bodies: list[dict[str, Any]], reply: str = "ok"):
    """A script rule that keeps each request body and answers ``reply``."""

    def rule(view: RequestView) -> str:
        bodies.append(view.body)
        return reply

    return rule


def by_name(tools: list[dict[str, Any]], key) -> dict[str, dict[str, Any]]:
    return {key(t): t for t in tools}


# ---- chat completions ----------------------------------------------------------------------
async def test_force_local_mcp_declares_the_servers_tools_as_function_tools(
    mock, make_client, mcp_url
):
    bodies: list[dict[str, Any]] = []
    mock.script("*", recorder(bodies, "listed"))
    client = make_client(force_local_mcp=True)
    server = MCPServer(name="demo", url=mcp_url)
    responses = await client.process_prompts_async(["one", "two"], tools=[server])

    assert [r.completion for r in responses] == ["listed", "listed"]
    assert not any(r.is_error for r in responses)
    assert len(bodies) == 2 and mock.stats()["requests"] == 2
    for body in bodies:
        tools = body["tools"]
        assert {t["type"] for t in tools} == {"function"}  # no MCP entry reaches the provider
        declared = by_name(tools, lambda t: t["function"]["name"])
        assert set(declared) == DEMO_TOOLS
        add = declared["add"]["function"]
        assert add["description"] == "Add two integers."
        assert add["parameters"]["properties"]["a"]["type"] == "integer"
        assert set(add["parameters"]["required"]) == {"a", "b"}
        # A tool whose MCP name is not a valid function name is declared under a safe one.
        assert "odd.name" not in declared
        assert mcp_url not in repr(body)  # the provider is never told about the server


async def test_without_native_mcp_support_the_server_is_expanded_locally_anyway(
    mock, make_client, mcp_url
):
    # Chat completions cannot call MCP servers itself, so the server's tools are declared
    # as function tools even without force_local_mcp, as agent loops do.
    bodies: list[dict[str, Any]] = []
    mock.script("*", recorder(bodies))
    client = make_client()
    [resp] = await client.process_prompts_async(
        ["hello"], tools=[MCPServer(name="demo", url=mcp_url)]
    )

    assert not resp.is_error, resp.error_message
    [body] = bodies
    assert {t["type"] for t in body["tools"]} == {"function"}
    assert "add" in {t["function"]["name"] for t in body["tools"]}
    assert mcp_url not in repr(body)


# ---- the wire formats that can call MCP natively -------------------------------------------
async def test_responses_api_sends_the_server_natively_unless_forced_local(
    mock, make_client, mcp_url
):
    bodies: list[dict[str, Any]] = []
    mock.script("*", recorder(bodies))
    server = MCPServer(name="demo", url=mcp_url)

    native = make_client(use_responses_api=True)
    [resp] = await native.process_prompts_async(["native"], tools=[server])
    assert not resp.is_error, resp.error_message
    assert bodies[0]["tools"] == [
        {"type": "mcp", "server_label": "demo", "server_url": mcp_url, "require_approval": "never"}
    ]

    local = make_client(use_responses_api=True, force_local_mcp=True)
    [resp] = await local.process_prompts_async(["local"], tools=[server])
    assert not resp.is_error, resp.error_message
    tools = bodies[1]["tools"]
    assert {t["type"] for t in tools} == {"function"}
    assert set(by_name(tools, lambda t: t["name"])) == DEMO_TOOLS
    add = by_name(tools, lambda t: t["name"])["add"]
    assert add["parameters"]["properties"]["a"]["type"] == "integer"


async def test_anthropic_uses_the_mcp_connector_unless_forced_local(mock, make_client, mcp_url):
    bodies: list[dict[str, Any]] = []
    mock.script("*", recorder(bodies))
    server = MCPServer(name="demo", url=mcp_url)

    native = make_client("claude-4.5-haiku")
    [resp] = await native.process_prompts_async(["native"], tools=[server])
    assert not resp.is_error, resp.error_message
    assert bodies[0]["mcp_servers"] == [{"type": "url", "url": mcp_url, "name": "demo"}]
    assert "tools" not in bodies[0]

    local = make_client("claude-4.5-haiku", force_local_mcp=True)
    [resp] = await local.process_prompts_async(["local"], tools=[server])
    assert not resp.is_error, resp.error_message
    assert "mcp_servers" not in bodies[1]
    declared = by_name(bodies[1]["tools"], lambda t: t["name"])
    assert set(declared) == DEMO_TOOLS
    assert declared["weather"]["input_schema"]["required"] == ["city"]
