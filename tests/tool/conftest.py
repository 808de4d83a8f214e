"""Fixtures for the tool tests: the demo MCP server over streamable HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.mcp import demo_mcp_over_http, demo_stdio_command


@pytest.fixture(scope="module")
def mcp_http_url() -> Iterator[str]:
    """URL of the demo MCP server started as a subprocess speaking streamable HTTP."""
    with demo_mcp_over_http() as url:
        yield url


@pytest.fixture(scope="module")
def stdio_command() -> tuple[str, list[str]]:
    """Command and args that launch the demo MCP server over stdio."""
    return demo_stdio_command()
