"""Shared plumbing for tests that run real clients against one mock provider per module.

Each test module keeps its own fixtures (latency, client defaults), written with these:

    @pytest.fixture
    def mock(mock_server):
        yield from fresh_mock(mock_server)

    @pytest.fixture
    def make_client(ray_cluster):
        yield from client_builder(max_attempts=2)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from deluge_ray import LLMClient
from deluge_ray.mock import MockProvider, use_mock

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
