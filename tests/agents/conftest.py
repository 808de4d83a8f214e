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


def lm_deluge_on(mock, monkeypatch, model_id: str, **settings):
    """An lm-deluge 0.0.168 client (the oracle) whose model ``model_id`` is gpt-4.1-mini
    served by ``mock``, so both libraries meet the very same server."""
    import lm_deluge
    from lm_deluge.models import register_model

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-compat")
    register_model(
        id=model_id,
        name="gpt-4.1-mini",
        api_base=mock.openai_base_url,
        api_key_env_var="OPENAI_API_KEY",
        api_spec="openai",
        provider="openai",
        supports_responses=True,  # as gpt-4.1-mini does: use_responses_api=True takes effect
    )
    return lm_deluge.LLMClient(model_id, progress="manual", **settings)
