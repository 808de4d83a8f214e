"""A fresh mock provider per test, on the test's event loop, with the env pointed at it."""

from __future__ import annotations

import pytest

from deluge_ray.mock import MockProvider, use_mock


@pytest.fixture
async def mock():
    async with MockProvider() as server:
        with use_mock(server):
            yield server
