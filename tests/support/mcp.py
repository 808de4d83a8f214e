"""The demo MCP server (tests/tool/mcp_servers/demo_server.py) started for a test module."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

DEMO_SERVER = Path(__file__).resolve().parents[1] / "tool" / "mcp_servers" / "demo_server.py"


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


@contextlib.contextmanager
def demo_mcp_over_http() -> Iterator[str]:
    """Run the demo server as a subprocess speaking streamable HTTP; yield its URL."""
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


def demo_stdio_command() -> tuple[str, list[str]]:
    """Command and args that launch the demo MCP server over stdio."""
    return sys.executable, [str(DEMO_SERVER)]
