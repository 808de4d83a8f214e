"""An explicit cluster address is checked before joining: unreachable or token-protected
clusters fail at once with one line saying what to do (issue 15, item 4)."""

from __future__ import annotations

import socket
from concurrent import futures

import grpc
import pytest

from deluge_ray.client._cluster_probe import check_cluster_address, split_address
from deluge_ray.client._runtime import CONNECT_TIMEOUT_ENV, connect_timeout
from deluge_ray.errors import RuntimeUnavailableError


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def grpc_server_answering():
    """A real gRPC server on 127.0.0.1 that answers every call with the given status."""
    servers = []

    def start(code: grpc.StatusCode) -> int:
        class AnswerEverything(grpc.GenericRpcHandler):
            def service(self, handler_call_details):
                def answer(request, context):
                    context.abort(code, "answered by the test server")

                return grpc.unary_unary_rpc_method_handler(answer)

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        server.add_generic_rpc_handlers((AnswerEverything(),))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.stop(grace=None)


def test_split_address_knows_which_addresses_ray_resolves_itself() -> None:
    assert split_address("10.0.0.5:6379") == ("10.0.0.5", 6379, False)
    assert split_address("ray://head:10001") == ("head", 10001, True)
    assert split_address("[::1]:6379") == ("::1", 6379, False)
    assert split_address("auto") is None
    assert split_address("local") is None
    assert split_address("head:port") is None


def test_a_closed_port_fails_at_once_with_one_line_naming_the_address() -> None:
    address = f"127.0.0.1:{closed_port()}"
    with pytest.raises(RuntimeUnavailableError) as info:
        check_cluster_address(address, timeout=2.0)
    message = str(info.value)
    assert "\n" not in message
    assert f"Could not reach the Ray cluster at {address!r} within 2 s" in message
    assert "`ray status`" in message and "RAY_ADDRESS" in message


def test_a_silent_host_fails_after_the_timeout_saying_so() -> None:
    asked = []

    def connect_that_times_out(host, port, timeout):
        asked.append((host, port, timeout))
        raise TimeoutError("timed out")

    with pytest.raises(RuntimeUnavailableError, match=r"within 0\.5 s \(timed out\)"):
        check_cluster_address("10.1.2.3:6379", timeout=0.5, connect=connect_that_times_out)
    assert asked == [("10.1.2.3", 6379, 0.5)]


def test_a_cluster_that_wants_a_token_is_named_with_what_to_set(
    grpc_server_answering, monkeypatch
) -> None:
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    port = grpc_server_answering(grpc.StatusCode.UNAUTHENTICATED)
    with pytest.raises(RuntimeUnavailableError) as info:
        check_cluster_address(f"127.0.0.1:{port}", timeout=5.0)
    message = str(info.value)
    assert "\n" not in message
    assert "requires token authentication" in message
    assert "RAY_AUTH_MODE=token" in message and "RAY_AUTH_TOKEN" in message


def test_with_token_mode_set_the_join_is_left_to_ray(grpc_server_answering, monkeypatch) -> None:
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    port = grpc_server_answering(grpc.StatusCode.UNAUTHENTICATED)
    check_cluster_address(f"127.0.0.1:{port}", timeout=5.0)  # no error: ray.init checks it


def test_any_other_answer_is_left_to_ray(grpc_server_answering, monkeypatch) -> None:
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    port = grpc_server_answering(grpc.StatusCode.UNIMPLEMENTED)
    check_cluster_address(f"127.0.0.1:{port}", timeout=5.0)


def test_the_connect_timeout_setting_is_read_and_checked(monkeypatch) -> None:
    monkeypatch.delenv(CONNECT_TIMEOUT_ENV, raising=False)
    assert connect_timeout() == 10.0
    monkeypatch.setenv(CONNECT_TIMEOUT_ENV, "2.5")
    assert connect_timeout() == 2.5
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv(CONNECT_TIMEOUT_ENV, bad)
        with pytest.raises(RuntimeUnavailableError, match=f"{CONNECT_TIMEOUT_ENV}="):
            connect_timeout()
