"""Fixtures for the agent tests: a real mock provider, clients that clean up, MCP servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deluge_ray.mock import Latency, MockConfig, MockProvider
from tests.support.clients import client_builder, fresh_mock
from tests.support.mcp import demo_mcp_over_http, demo_stdio_command


@pytest.fixture(scope="module")
def mock_server():
    """One mock provider per test module; tests reset its stats and scripts."""
    with MockProvider(MockConfig(latency=Latency.fixed(2))) as server:
        yield server


@pytest.fixture
def mock(mock_server):
    """The module's mock with fresh stats and no scripts, and the env pointing at it."""
    yield from fresh_mock(mock_server)


@pytest.fixture
def make_client(ray_cluster):
    """Build LLMClients (generous limits, one caller) shut down at the end of the test."""
    yield from client_builder()


@pytest.fixture(scope="module")
def mcp_http_url() -> Iterator[str]:
    """URL of the demo MCP server started as a subprocess speaking streamable HTTP."""
    with demo_mcp_over_http() as url:
        yield url


@pytest.fixture(scope="module")
def stdio_command() -> tuple[str, list[str]]:
    """Command and args that launch the demo MCP server over stdio."""
    return demo_stdio_command()
