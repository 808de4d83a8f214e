"""Shared plumbing for tests that run real clients against one mock provider per module.

Most modules (or conftests) declare their three fixtures in one line, choosing the mock's
latency and the clients' defaults::

    mock_server, mock, make_client = mock_fixtures(latency_ms=1, max_attempts=2)

Modules with other needs write their own from :func:`fresh_mock` and :func:`client_builder`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from deluge_ray import LLMClient
from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock

# Generous limits and one caller: tests are about behaviour, not pace or pool size.
CLIENT_DEFAULTS: dict[str, Any] = {
    "progress": "manual",
    "num_callers": 1,
    "max_attempts": 3,
    "max_requests_per_minute": 600_000,
    "max_tokens_per_minute": 100_000_000,
}


def fresh_mock(server: MockProvider) -> Iterator[MockProvider]:
    """The module's mock with zeroed stats and no scripts, with the env pointing at it."""
    server.reset_stats()
    server.clear_scripts()
    with use_mock(server):
        yield server
    server.clear_scripts()


def client_builder(
    model: str = "gpt-4.1-mini", **defaults: Any
) -> Iterator[Callable[..., LLMClient]]:
    """Yield ``build(model=..., **kwargs)``; every client built is shut down afterwards."""
    clients: list[LLMClient] = []
    settings = {**CLIENT_DEFAULTS, **defaults}

    def build(model_names: str | list[str] = model, **kwargs: Any) -> LLMClient:
        client = LLMClient(model_names, **{**settings, **kwargs})
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.shutdown()


def mock_fixtures(
    latency_ms: float,
    *,
    model: str = "gpt-4.1-mini",
    client_needs_mock: bool = False,
    **client_defaults: Any,
) -> tuple[Any, Any, Any]:
    """The fixtures ``mock_server`` (one MockProvider per module answering after
    ``latency_ms``), ``mock`` (it, reset, with the env pointing at it) and ``make_client``
    (:func:`client_builder`; with ``client_needs_mock`` it also brings ``mock`` in first)."""

    @pytest.fixture(scope="module")
    def mock_server() -> Iterator[MockProvider]:
        with MockProvider(MockConfig(latency=Latency.fixed(latency_ms))) as server:
            yield server

    @pytest.fixture
    def mock(mock_server: MockProvider) -> Iterator[MockProvider]:
        yield from fresh_mock(mock_server)

    if client_needs_mock:

        @pytest.fixture
        def make_client(ray_cluster: Any, mock: MockProvider) -> Iterator[Callable[..., LLMClient]]:
            yield from client_builder(model, **client_defaults)

    else:

        @pytest.fixture
        def make_client(ray_cluster: Any) -> Iterator[Callable[..., LLMClient]]:
            yield from client_builder(model, **client_defaults)

    return mock_server, mock, make_client
