"""Fixtures for the agent tests: a real mock provider, clients that clean up, MCP servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deluge_ray.client import LLMClient
from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock
from tests.support.mcp import demo_mcp_over_http, demo_stdio_command


@pytest.fixture(scope="module")
def mock_server():
    """One mock provider per test module; tests reset its stats and scripts."""
    with MockProvider(MockConfig(latency=Latency.fixed(2))) as server:
        yield server


@pytest.fixture
def mock(mock_server):
    """The module's mock with fresh stats and no scripts, and the env pointing at it."""
    mock_server.reset_stats()
    mock_server.clear_scripts()
    with use_mock(mock_server):
        yield mock_server
    mock_server.clear_scripts()


@pytest.fixture
def make_client(ray_cluster):
    """Build LLMClients (generous limits, one caller) shut down at the end of the test."""
    clients: list[LLMClient] = []

    def build(model_names="gpt-4.1-mini", **kwargs) -> LLMClient:
        kwargs.setdefault("progress", "manual")
        kwargs.setdefault("num_callers", 1)
        kwargs.setdefault("max_attempts", 3)
        kwargs.setdefault("max_requests_per_minute", 600_000)
        kwargs.setdefault("max_tokens_per_minute", 100_000_000)
        client = LLMClient(model_names, **kwargs)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.shutdown()


@pytest.fixture(scope="module")
def mcp_http_url() -> Iterator[str]:
    """URL of the demo MCP server started as a subprocess speaking streamable HTTP."""
    with demo_mcp_over_http() as url:
        yield url


@pytest.fixture(scope="module")
def stdio_command() -> tuple[str, list[str]]:
    """Command and args that launch the demo MCP server over stdio."""
    return demo_stdio_command()
