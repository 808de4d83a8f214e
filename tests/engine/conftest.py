"""Fixtures for the engine tests: a real mock provider and clients that clean up after themselves."""

from __future__ import annotations

import pytest

from deluge_ray.mock import Latency, MockConfig, MockProvider
from tests.support.clients import client_builder, fresh_mock

MINI = "gpt-4.1-mini"
MINI_WIRE = "gpt-4.1-mini-2025-04-14"
NANO = "gpt-4.1-nano"
NANO_WIRE = "gpt-4.1-nano-2025-04-14"


@pytest.fixture(scope="module")
def mock_server():
    """One mock provider per test module; tests reset its stats and scripts."""
    with MockProvider(MockConfig(latency=Latency.fixed(5))) as server:
        yield server


@pytest.fixture
def mock(mock_server):
    """The module's mock with fresh stats and no scripts, and the env pointing at it."""
    yield from fresh_mock(mock_server)


@pytest.fixture
def make_client(ray_cluster):
    """Build LLMClients that are shut down (actors killed) at the end of the test."""
    # Generous limits: the shared limiter paces sends, and these tests are not about pace.
    yield from client_builder(
        MINI, max_requests_per_minute=60_000, max_tokens_per_minute=50_000_000
    )
