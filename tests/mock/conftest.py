"""Fixtures for the mock-provider tests: servers run on each test's own event loop."""

from __future__ import annotations

import pytest

from deluge_ray.mock import MockConfig, MockProvider


@pytest.fixture
async def mock():
    """A running mock provider with default (unlimited, zero-latency) behaviour."""
    async with MockProvider(MockConfig(seed=7)) as server:
        yield server


@pytest.fixture
async def make_mock():
    """Start mock providers with a given config; every one is stopped after the test."""
    started: list[MockProvider] = []

    async def start(config: MockConfig | None = None) -> MockProvider:
        server = await MockProvider(config or MockConfig(seed=7)).start_async()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop_async()
