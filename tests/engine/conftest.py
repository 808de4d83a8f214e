"""Fixtures for the engine tests: a real mock provider and clients that clean up after themselves."""

from __future__ import annotations

from tests.support.clients import mock_fixtures

MINI = "gpt-4.1-mini"
MINI_WIRE = "gpt-4.1-mini-2025-04-14"
NANO = "gpt-4.1-nano"
NANO_WIRE = "gpt-4.1-nano-2025-04-14"


# Generous limits: the shared limiter paces sends, and these tests are not about pace.
mock_server, mock, make_client = mock_fixtures(
    5, model=MINI, max_requests_per_minute=60_000, max_tokens_per_minute=50_000_000
)
