"""Check a Ray cluster address before ``ray.init`` joins it, so a bad one fails in seconds.

``ray.init(address=...)`` retries an unreachable head for minutes, and against a cluster
that wants token authentication (what ``ray start`` makes since Ray 2.60) it retries
for minutes more before failing with a message that does not say what to set. This probe
answers both questions up front with one line each:

- the address must accept a TCP connection within ``timeout`` seconds;
- a GCS address (``host:port``) is asked for its cluster id over gRPC without a token;
  ``UNAUTHENTICATED`` means the cluster uses token authentication and this process does not
  (``RAY_AUTH_MODE`` is not ``token``).

Addresses Ray resolves itself (``"auto"``, ``"local"``) are not probed.

    >>> check_cluster_address("127.0.0.1:1", timeout=2.0)   # doctest: +SKIP
    Traceback (most recent call last):
    RuntimeUnavailableError: Could not reach the Ray cluster at '127.0.0.1:1' ...
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from ..errors import RuntimeUnavailableError

__all__ = ["AUTH_HELP", "check_cluster_address", "split_address"]

#: What a user joining a token-authenticated cluster must set (one line, no secrets).
AUTH_HELP = (
    "set RAY_AUTH_MODE=token and give this process the cluster's token "
    "(RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, or the file ~/.ray/auth_token from the head node)"
)


def split_address(address: str) -> tuple[str, int, bool] | None:
    """``(host, port, is_ray_client)`` of an explicit address; ``None`` if Ray resolves it."""
    text = address.strip()
    is_client = text.startswith("ray://")
    if is_client:
        text = text[len("ray://") :]
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port), is_client


def _tcp_reachable(host: str, port: int, timeout: float) -> None:
    with socket.create_connection((host, port), timeout=timeout):
        pass


def _gcs_rejects_missing_token(host: str, port: int, timeout: float) -> bool:
    """Whether the GCS at ``host:port`` answers ``UNAUTHENTICATED`` to a call without token."""
    import grpc
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    with grpc.insecure_channel(f"{host}:{port}") as channel:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        try:
            stub.GetClusterId(gcs_service_pb2.GetClusterIdRequest(), timeout=timeout)
        except grpc.RpcError as exc:
            return exc.code() == grpc.StatusCode.UNAUTHENTICATED
    return False


def check_cluster_address(
    address: str,
    *,
    timeout: float,
    connect: Callable[[str, int, float], Any] = _tcp_reachable,
    rejects_missing_token: Callable[[str, int, float], bool] = _gcs_rejects_missing_token,
) -> None:
    """Raise :class:`RuntimeUnavailableError` (one line) if ``address`` cannot be joined.

    ``connect`` and ``rejects_missing_token`` are the two checks (injectable for tests).
    """
    parts = split_address(address)
    if parts is None:
        return
    host, port, is_client = parts
    try:
        connect(host, port, timeout)
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise RuntimeUnavailableError(
            f"Could not reach the Ray cluster at {address!r} within {timeout:g} s ({reason}). "
            "Check the address and that the cluster is running (`ray status` on its head "
            "node), or give no address (and unset RAY_ADDRESS) to start a local Ray."
        ) from None
    if is_client or os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
        return  # Ray Client has its own handshake; with a token, ray.init checks it itself
    try:
        refused = rejects_missing_token(host, port, timeout)
    except Exception:  # the probe is advisory: anything else is left to ray.init
        return
    if refused:
        raise RuntimeUnavailableError(
            f"The Ray cluster at {address!r} requires token authentication: {AUTH_HELP}."
        )
