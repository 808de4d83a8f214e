"""WirePool, the hot path's HTTP/1.1 client, against real servers.

aiohttp servers where a well-behaved server will do (framing, compression, TLS, reuse);
raw asyncio servers where the test needs an answer aiohttp would never send (close-framed,
interim 1xx, a close without an answer, a server that never answers).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from deluge_ray.transport._session import HTTP_CLIENT_ENV, ProviderTransport
from deluge_ray.transport._wire import DNS_TTL_SECONDS, KEEPALIVE_SECONDS, WireError, WirePool

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Seen:
    """What the server saw: each request's headers and body, and the client ports used."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.ports: list[int] = []


async def _serve(handler: Handler, ssl_context: ssl.SSLContext | None = None):
    seen = _Seen()

    async def record(request: web.Request) -> web.StreamResponse:
        seen.requests.append((dict(request.headers), await request.read()))
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.ports.append(peer[1] if peer else -1)
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port, seen


@pytest.fixture
async def echo() -> AsyncIterator[tuple[str, _Seen]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        return web.json_response(
            {"echo": json.loads(body) if body else None, "path": request.path_qs},
            headers={"X-Trace": "T1"},
        )

    runner, port, seen = await _serve(handler)
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_a_json_post_arrives_whole_and_its_answer_comes_back_parsed_by_nothing(echo):
    base, seen = echo
    pool = WirePool()
    status, headers, body = await pool.send(
        "POST", f"{base}/v1/chat?x=1", {"Content-Type": "application/json"}, {"q": "é"}, 5.0
    )
    assert status == 200
    assert headers["x-trace"] == "T1" and headers["content-type"].startswith("application/json")
    assert json.loads(body) == {"echo": {"q": "é"}, "path": "/v1/chat?x=1"}
    sent_headers, sent_body = seen.requests[0]
    assert json.loads(sent_body) == {"q": "é"}
    assert sent_headers["Host"] == base.removeprefix("http://")
    assert sent_headers["Content-Length"] == str(len(sent_body))
    await pool.close()


async def test_sequential_requests_reuse_one_connection(echo):
    base, seen = echo
    pool = WirePool()
    for i in range(3):
        status, _, _ = await pool.send("POST", f"{base}/a", {}, {"i": i}, 5.0)
        assert status == 200
    assert len(set(seen.ports)) == 1
    assert pool.idle_connections() == 1
    await pool.close()


async def test_a_connection_idle_past_the_keepalive_is_not_reused(echo):
    base, seen = echo
    now = [100.0]
    pool = WirePool(clock=lambda: now[0])
    await pool.send("POST", f"{base}/a", {}, {}, 5.0)
    now[0] += KEEPALIVE_SECONDS - 1
    await pool.send("POST", f"{base}/a", {}, {}, 5.0)
    now[0] += KEEPALIVE_SECONDS + 1
    await pool.send("POST", f"{base}/a", {}, {}, 5.0)
    assert seen.ports[0] == seen.ports[1] != seen.ports[2]
    await pool.close()


async def test_chunked_and_gzip_answers_are_decoded():
    payload = json.dumps({"text": "x" * 5000}).encode()

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == "/gzip":
            return web.Response(body=gzip.compress(payload), headers={"Content-Encoding": "gzip"})
        reply = web.StreamResponse()
        reply.enable_chunked_encoding()
        await reply.prepare(request)
        for i in range(0, len(payload), 700):
            await reply.write(payload[i : i + 700])
        await reply.write_eof()
        return reply

    runner, port, seen = await _serve(handler)
    pool = WirePool()
    for path in ("/chunked", "/gzip", "/chunked"):
        status, _, body = await pool.send("POST", f"http://127.0.0.1:{port}{path}", {}, {}, 5.0)
        assert (status, body) == (200, payload)
    assert len(set(seen.ports)) == 1  # both framings leave the connection reusable
    await pool.close()
    await runner.cleanup()


async def _raw_server(
    script: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> tuple[asyncio.AbstractServer, str, list[int]]:
    """A TCP server running ``script`` per connection; also returns its connection count."""
    connections: list[int] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await script(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1/x", connections


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return await reader.readexactly(length)


async def test_an_answer_framed_by_the_close_is_read_whole_and_its_connection_dropped():
    async def script(reader, writer):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # an interim answer, skipped
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.write(b'{"late": "part"}')
        await writer.drain()

    server, url, connections = await _raw_server(script)
    pool = WirePool()
    for _ in range(2):
        status, headers, body = await pool.send("POST", url, {}, {"a": 1}, 5.0)
        assert (status, body) == (200, b'{"late": "part"}')
        assert headers["connection"] == "close"
    assert len(connections) == 2 and pool.idle_connections() == 0
    await pool.close()
    server.close()


async def test_a_close_without_an_answer_and_a_malformed_answer_raise_wire_errors():
    answers = [b"", b"SMTP ready\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]

    async def script(reader, writer):
        await _read_request(reader)
        writer.write(answers.pop(0))
        await writer.drain()

    server, url, _ = await _raw_server(script)
    pool = WirePool()
    for expected in ("without answering", "not an HTTP/1.1 answer", "before its answer"):
        with pytest.raises(WireError, match=expected):
            await pool.send("POST", url, {}, {}, 5.0)
    assert pool.idle_connections() == 0
    await pool.close()
    server.close()


async def test_a_server_that_never_answers_times_out_and_its_connection_is_not_kept():
    release = asyncio.Event()

    async def script(reader, writer):
        await _read_request(reader)
        await release.wait()

    server, url, _ = await _raw_server(script)
    pool = WirePool()
    with pytest.raises(asyncio.TimeoutError):
        await pool.send("POST", url, {}, {}, 0.05)
    assert pool.idle_connections() == 0
    release.set()
    await pool.close()
    server.close()


async def test_a_line_break_in_a_header_is_refused_before_anything_is_sent(echo):
    base, seen = echo
    pool = WirePool()
    with pytest.raises(ValueError, match="X-Evil"):
        await pool.send("POST", f"{base}/a", {"X-Evil": "a\r\nInjected: 1"}, {}, 5.0)
    with pytest.raises(ValueError, match="scheme"):
        await pool.send("POST", "ftp://127.0.0.1/a", {}, {}, 5.0)
    assert seen.requests == []
    await pool.close()


async def test_a_refused_connection_says_where_it_tried():
    server, url, _ = await _raw_server(_read_request)  # type: ignore[arg-type]
    server.close()
    await server.wait_closed()
    with pytest.raises(WireError, match=r"cannot connect to 127\.0\.0\.1:\d+"):
        await WirePool().send("POST", url, {}, {}, 5.0)


async def test_https_with_a_trusted_certificate(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"secure": request.secure})

    runner, port, seen = await _serve(handler, ssl_context=server_tls)
    trusting = WirePool(ssl_context=ssl.create_default_context(cafile=str(cert)))
    for _ in range(2):
        status, _, body = await trusting.send("POST", f"https://localhost:{port}/", {}, {}, 5.0)
        assert (status, json.loads(body)) == (200, {"secure": True})
    assert len(set(seen.ports)) == 1
    # The system trust store does not know this certificate: refused, not sent.
    with pytest.raises(WireError, match="CERTIFICATE_VERIFY_FAILED"):
        await WirePool().send("POST", f"https://localhost:{port}/", {}, {}, 5.0)
    assert len(seen.requests) == 2
    await trusting.close()
    await runner.cleanup()


@pytest.mark.parametrize("setting", ["", "aiohttp"])
async def test_the_transport_sends_through_the_wire_pool_unless_told_aiohttp(
    echo, monkeypatch, setting
):
    base, seen = echo
    monkeypatch.setenv(HTTP_CLIENT_ENV, setting)
    transport = ProviderTransport("t")

    class Request:
        method, url, headers, json = "POST", f"{base}/v1/chat", {"Authorization": "k"}, {"n": 1}

    status, _, body = await transport.send(Request, 5.0)
    assert status == 200 and json.loads(body)["echo"] == {"n": 1}
    agent = seen.requests[0][0]["User-Agent"]
    assert ("aiohttp" in agent) == (setting == "aiohttp")
    await transport.close()


def test_the_actor_processes_do_not_import_aiohttp_until_they_need_it():
    # Every ProviderCaller and SubAgent process imports these modules as it starts, and a
    # pool's second caller starts while a batch runs: aiohttp's import (~0.08 s of CPU)
    # would be paid there. Streams, background polling and uploads import it when used.
    code = (
        "import sys, actors.provider_caller, actors.sub_agent, actors.rate_limiter\n"
        "print(sorted(m for m in sys.modules if m == 'aiohttp' or m.startswith('aiohttp.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_a_burst_of_new_connections_shares_one_lookup_until_it_expires(echo):
    base, seen = echo
    port = int(base.rsplit(":", 1)[1])
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        await asyncio.sleep(0)  # the burst's other requests arrive while this one waits
        return ["127.0.0.1"]

    now = [0.0]
    pool = WirePool(resolver=resolver, clock=lambda: now[0])
    url = f"http://provider.invalid:{port}/v1/chat"
    await asyncio.gather(*(pool.send("POST", url, {}, {"i": i}, 5.0) for i in range(20)))
    assert lookups == ["provider.invalid"]
    assert all(headers["Host"] == f"provider.invalid:{port}" for headers, _ in seen.requests)
    now[0] += DNS_TTL_SECONDS
    pool._idle_by_origin.clear()  # force a new connection, hence a lookup
    await pool.send("POST", url, {}, {}, 5.0)
    assert lookups == ["provider.invalid"] * 2
    await pool.close()


async def test_a_failed_lookup_is_a_wire_error_and_is_not_cached(echo):
    base, _ = echo
    port = int(base.rsplit(":", 1)[1])
    answers: list[list[str] | OSError] = [OSError(-2, "Name or service not known"), ["127.0.0.1"]]

    async def resolver(host: str, port: int) -> list[str]:
        answer = answers.pop(0)
        if isinstance(answer, OSError):
            raise answer
        return answer

    pool = WirePool(resolver=resolver)
    url = f"http://provider.invalid:{port}/v1/chat"
    with pytest.raises(WireError, match=r"cannot resolve provider\.invalid: Name or service"):
        await pool.send("POST", url, {}, {}, 5.0)
    status, _, _ = await pool.send("POST", url, {}, {}, 5.0)
    assert status == 200
    await pool.close()


async def test_connections_left_idle_by_a_burst_are_closed_once_past_the_keepalive(echo):
    base, seen = echo
    now = [0.0]
    pool = WirePool(clock=lambda: now[0])
    await asyncio.gather(*(pool.send("POST", f"{base}/a", {}, {}, 5.0) for _ in range(5)))
    assert pool.idle_connections() == 5
    # Lighter demand afterwards keeps reusing the most recent connection; the other four
    # stay at the bottom of the stack, where no checkout reaches them.
    for _ in range(2):
        now[0] += KEEPALIVE_SECONDS - 1
        await pool.send("POST", f"{base}/a", {}, {}, 5.0)
    assert pool.idle_connections() == 1
    assert len(set(seen.ports)) == 5
    await pool.close()


async def test_bytes_a_server_sends_on_an_idle_connection_are_never_read_as_the_next_answer():
    parting = asyncio.Event()

    async def script(reader, writer):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
        await writer.drain()
        await parting.wait()
        writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.read()  # held open: only the bytes tell the client not to reuse it

    server, url, connections = await _raw_server(script)
    pool = WirePool()
    assert (await pool.send("POST", url, {}, {}, 5.0))[2] == b"first"
    idle = next(iter(pool._idle_by_origin.values()))[0]
    parting.set()
    while not idle.buffer:  # until the parting answer has arrived
        await asyncio.sleep(0.01)
    status, _, body = await pool.send("POST", url, {}, {}, 5.0)
    assert (status, body) == (200, b"first") and len(connections) == 2
    await pool.close()
    server.close()
