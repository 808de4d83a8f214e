"""Fixtures for the agent tests: a real mock provider, clients that clean up, MCP servers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deluge_ray.client import LLMClient
from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock

DEMO_SERVER = Path(__file__).parents[1] / "tool" / "mcp_servers" / "demo_server.py"


@pytest.fixture(scope="module")
def mock_server():
    """One mock provider per test module; tests reset its stats and scripts."""
    with MockProvider(MockConfig(latency=Latency.fixed(2))) as server:
        yield server


@pytest.fixture
def mock(mock_server):
    """The module's mock with fresh stats and no scripts, and the env pointing at it."""
    mock_server.reset_stats()
    mock_server.clear_scripts()
    with use_mock(mock_server):
        yield mock_server
    mock_server.clear_scripts()


@pytest.fixture
def make_client(ray_cluster):
    """Build LLMClients (generous limits, one caller) shut down at the end of the test."""
    clients: list[LLMClient] = []

    def build(model_names="gpt-4.1-mini", **kwargs) -> LLMClient:
        kwargs.setdefault("progress", "manual")
        kwargs.setdefault("num_callers", 1)
        kwargs.setdefault("max_attempts", 3)
        kwargs.setdefault("max_requests_per_minute", 600_000)
        kwargs.setdefault("max_tokens_per_minute", 100_000_000)
        client = LLMClient(model_names, **kwargs)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.shutdown()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline_s: float = 60.0) -> None:
    """Poll until the server accepts connections (readiness, not a timing assumption)."""
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        if proc.poll() is not None:
            raise RuntimeError(f"demo MCP server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"demo MCP server did not listen on port {port} in {deadline_s} s")


@pytest.fixture(scope="module")
def mcp_http_url() -> Iterator[str]:
    """URL of the demo MCP server started as a subprocess speaking streamable HTTP."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(DEMO_SERVER), "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def stdio_command() -> tuple[str, list[str]]:
    """Command and args that launch the demo MCP server over stdio."""
    return sys.executable, [str(DEMO_SERVER)]
