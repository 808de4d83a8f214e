"""Fixtures for the agent tests: a real mock provider, clients that clean up, MCP servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clients import mock_fixtures
from tests.support.mcp import demo_mcp_over_http, demo_stdio_command

# Generous limits and one caller (client_builder's defaults).
mock_server, mock, make_client = mock_fixtures(2)


@pytest.fixture(scope="module")
def mcp_http_url() -> Iterator[str]:
    """URL of the demo MCP server started as a subprocess speaking streamable HTTP."""
    with demo_mcp_over_http() as url:
        yield url


@pytest.fixture(scope="module")
def stdio_command() -> tuple[str, list[str]]:
    """Command and args that launch the demo MCP server over stdio."""
    return demo_stdio_command()
