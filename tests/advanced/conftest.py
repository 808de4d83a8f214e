"""Fixtures for the advanced-workflow tests: a running mock provider with the environment
(``*_BASE_URL`` and placeholder keys) pointing every provider family at it."""

from __future__ import annotations

import pytest

from deluge_ray.mock import MockConfig, MockProvider, use_mock


@pytest.fixture
async def mock():
    """A fresh mock provider on this test's event loop, env vars pointed at it."""
    async with MockProvider(MockConfig(batch_seconds=0.05)) as server:
        with use_mock(server):
            yield server
