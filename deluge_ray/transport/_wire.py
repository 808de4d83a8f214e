"""A lean HTTP/1.1 client for the hot path: one JSON request, one buffered answer.

Every model call a ProviderCaller or SubAgent makes goes through :meth:`WirePool.send`.
aiohttp's general-purpose request path (cookies, redirects, tracing, multidicts, per-request
URL objects) costs about 120 µs of CPU per call against the mock; this one about 70 µs
(``benchmarks/bench_overhead.py`` and ``bench_agents.py`` measure the whole path). Streams,
background polling, uploads and the driver's control-plane calls keep aiohttp.

What it speaks:

* HTTP/1.1 over TCP, or TLS with the system's default trust store (aiohttp's default too);
* keep-alive connections pooled per origin, most recently used first; one idle longer than
  :data:`KEEPALIVE_SECONDS`, or closed by the server, is dropped instead of reused;
* answers framed by ``Content-Length``, by chunked transfer coding, or by the server closing
  the connection; ``gzip``/``deflate`` content coding; ``1xx`` interim answers skipped.

Not proxies (the aiohttp session does not read proxy settings either), redirects (API
endpoints answer a POST where it was sent) or HTTP/2.

A connection the server closed while idle is seen by the event loop and never reused. A
failure raises :class:`WireError` (or :class:`asyncio.TimeoutError` past ``timeout``); the
request runner retries it with backoff like any dropped connection, counting the attempt,
because the server may have seen the request. ``DELUGE_RAY_HTTP=aiohttp`` sends through aiohttp
instead (see :class:`~deluge_ray.transport._session.ProviderTransport`).
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import sys
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DNS_TTL_SECONDS", "KEEPALIVE_SECONDS", "WireError", "WirePool"]

Resolver = Callable[[str, int], Awaitable[list[str]]]

KEEPALIVE_SECONDS = 15.0
"""Idle seconds after which a pooled connection is closed rather than reused.

Below the idle timeouts of common front ends (nginx 75 s, AWS ALB 60 s, Cloudflare 900 s),
so reuse rarely meets a connection the server is closing.
"""

DNS_TTL_SECONDS = 10.0
"""How long a host's resolved addresses are reused (aiohttp's default too)."""

_MAX_HEAD_BYTES = 64 * 1024  # an answer's status line and headers together
_URL_CACHE_SIZE = 256
_USER_AGENT = "deluge-ray"


class WireError(ConnectionError):
    """The connection failed or the server's answer was not valid HTTP/1.1."""


class _Origin:
    """Where a URL's requests go: scheme, host, port and the ``Host`` header."""

    __slots__ = ("host", "host_header", "port", "tls")

    def __init__(self, scheme: str, host: str, port: int | None) -> None:
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported URL scheme {scheme!r}: use http:// or https://")
        self.tls = scheme == "https"
        self.host = host
        default = 443 if self.tls else 80
        self.port = port or default
        shown = f"[{host}]" if ":" in host else host
        self.host_header = shown if self.port == default else f"{shown}:{self.port}"


class _Connection(asyncio.Protocol):
    """One socket: bytes received so far, and a future woken when more arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.idle_since = 0.0
        self._more: asyncio.Future[None] | None = None

    # asyncio.Protocol callbacks ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    # reading ----------------------------------------------------------------------------
    def _wake(self) -> None:
        if self._more is not None and not self._more.done():
            self._more.set_result(None)

    async def more(self) -> None:
        """Wait for more bytes; raise :class:`WireError` if the connection ended instead."""
        if self.closed:
            raise WireError("the server closed the connection before its answer was complete")
        self._more = asyncio.get_running_loop().create_future()
        try:
            await self._more
        finally:
            self._more = None

    def reusable(self, now: float) -> bool:
        """Whether this idle connection may carry the next request at ``now``.

        Not if the server closed it, if it sat idle past the keep-alive, or if bytes
        arrived while it was idle (a server's parting 408 is no answer to the next one).
        """
        return not self.closed and not self.buffer and now - self.idle_since < KEEPALIVE_SECONDS

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class WirePool:
    """Pooled keep-alive connections per origin, and :meth:`send` over them.

    >>> pool = WirePool()                                           # doctest: +SKIP
    >>> status, headers, body = await pool.send("POST", url, {}, {"a": 1}, 60.0)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        resolver: Resolver | None = None,
    ) -> None:
        self._ssl = ssl_context
        self._clock = clock
        self._resolver = resolver or _system_resolver
        # host -> (when resolved, a shared lookup): a burst of new connections at a swarm's
        # start waits on one lookup, not one thread-pool lookup each.
        self._addresses_by_host: dict[tuple[str, int], tuple[float, asyncio.Future[list[str]]]] = {}
        self._last_sweep = clock()
        self._idle_by_origin: dict[tuple[str, int, bool], list[_Connection]] = {}
        self._origin_by_url: dict[str, tuple[_Origin, str]] = {}
        self._closed = False

    def idle_connections(self) -> int:
        """How many connections wait in the pool for their next request."""
        return sum(len(conns) for conns in self._idle_by_origin.values())

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Any,
        timeout: float,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send ``body`` (a JSON-able value, or ``None``); ``(status, lower-cased headers, body)``."""
        if self._closed:
            raise WireError("this connection pool is closed")
        origin, target = self._split(url)
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        head = _request_head(method, target, origin.host_header, headers, payload)
        message = head + payload
        if sys.version_info < (3, 11):  # no asyncio.timeout: wait_for costs a task more
            return await asyncio.wait_for(self._send(origin, message), timeout)
        async with asyncio.timeout(timeout):
            return await self._send(origin, message)

    async def _send(self, origin: _Origin, message: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = await self._checkout(origin)
        return await self._exchange(conn, origin, message)

    async def close(self) -> None:
        """Close every pooled connection; later sends fail."""
        self._closed = True
        pools, self._idle_by_origin = self._idle_by_origin, {}
        for conns in pools.values():
            for conn in conns:
                if conn.transport is not None:
                    conn.transport.close()

    # connections --------------------------------------------------------------------------
    def _split(self, url: str) -> tuple[_Origin, str]:
        known = self._origin_by_url.get(url)
        if known is not None:
            return known
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"the URL {url!r} names no host")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        known = (_Origin(parts.scheme, parts.hostname, parts.port), target)
        if len(self._origin_by_url) >= _URL_CACHE_SIZE:
            self._origin_by_url.clear()
        self._origin_by_url[url] = known
        return known

    async def _checkout(self, origin: _Origin) -> _Connection:
        key = (origin.host, origin.port, origin.tls)
        idle = self._idle_by_origin.get(key)
        now = self._clock()
        while idle:
            conn = idle.pop()
            if conn.reusable(now):
                return conn
            conn.abort()
        tls: ssl.SSLContext | None = None
        if origin.tls:
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            tls = self._ssl
        loop = asyncio.get_running_loop()
        failure: OSError | None = None
        for address in await self._addresses(origin):
            try:
                _, conn = await loop.create_connection(
                    _Connection,
                    address,
                    origin.port,
                    ssl=tls,
                    server_hostname=origin.host if tls is not None else None,
                )
                return conn
            except OSError as exc:  # try the host's next address
                failure = exc
        detail = (failure.strerror or str(failure)) if failure else "no address"
        raise WireError(f"cannot connect to {origin.host}:{origin.port}: {detail}")

    async def _addresses(self, origin: _Origin) -> list[str]:
        key = (origin.host, origin.port)
        now = self._clock()
        known = self._addresses_by_host.get(key)
        failed = (
            known is not None
            and known[1].done()
            and (known[1].cancelled() or known[1].exception() is not None)
        )
        if known is None or failed or now - known[0] >= DNS_TTL_SECONDS:
            lookup = asyncio.ensure_future(self._resolver(origin.host, origin.port))
            known = (now, lookup)
            self._addresses_by_host[key] = known
        try:
            return await asyncio.shield(known[1])
        except OSError as exc:
            raise WireError(f"cannot resolve {origin.host}: {exc.strerror or exc}") from None

    def _checkin(self, origin: _Origin, conn: _Connection) -> None:
        if self._closed or conn.closed or conn.buffer:
            conn.abort()
            return
        now = conn.idle_since = self._clock()
        self._idle_by_origin.setdefault((origin.host, origin.port, origin.tls), []).append(conn)
        if now - self._last_sweep >= KEEPALIVE_SECONDS:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Close connections idle past the keep-alive or closed by the server.

        Checkout takes the most recently used connection, so after a burst the surplus
        would sit at the bottom of each stack, open, until the server dropped it.
        """
        self._last_sweep = now
        for key, idle in list(self._idle_by_origin.items()):
            keep = []
            for conn in idle:
                if conn.reusable(now):
                    keep.append(conn)
                else:
                    conn.abort()
            if keep:
                self._idle_by_origin[key] = keep
            else:
                del self._idle_by_origin[key]

    async def _exchange(
        self, conn: _Connection, origin: _Origin, message: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            assert conn.transport is not None
            conn.transport.write(message)
            status, headers, body, keep = await _read_answer(conn)
        except BaseException:
            conn.abort()  # a half-read answer would corrupt the next request's
            raise
        if keep:
            self._checkin(origin, conn)
        else:
            conn.abort()
        return status, headers, body


async def _system_resolver(host: str, port: int) -> list[str]:
    """``host``'s addresses, in the order the system prefers them."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _request_head(
    method: str,
    target: str,
    host: str,
    headers: Mapping[str, str],
    payload: bytes,
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    given: set[str] = set()
    for name, value in headers.items():
        value = str(value)
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} contains a line break")
        lower = name.lower()
        if lower in ("host", "content-length", "transfer-encoding", "connection"):
            continue  # framing is this client's job
        given.add(lower)
        lines.append(f"{name}: {value}")
    if "user-agent" not in given:
        lines.append(f"User-Agent: {_USER_AGENT}")
    if "accept-encoding" not in given:
        lines.append("Accept-Encoding: gzip, deflate")
    if payload or method not in ("GET", "HEAD", "DELETE"):
        lines.append(f"Content-Length: {len(payload)}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8")


async def _read_answer(conn: _Connection) -> tuple[int, dict[str, str], bytes, bool]:
    """Read one answer off ``conn``: status, headers, decoded body, and whether to reuse it."""
    while True:  # 1xx interim answers are skipped
        status, version, headers = await _read_head(conn)
        if status >= 200:
            break
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
    if status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(conn)
    elif "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise WireError(f"invalid Content-Length {headers['content-length']!r}") from None
        while len(conn.buffer) < length:
            await conn.more()
        body = bytes(conn.buffer[:length])
        del conn.buffer[:length]
    else:  # framed by the close
        while not conn.closed:
            try:
                await conn.more()
            except WireError:
                break
        body, keep = bytes(conn.buffer), False
        conn.buffer.clear()
    encoding = headers.get("content-encoding", "").lower()
    if encoding in ("gzip", "x-gzip", "deflate") and body:
        body = _decompress(body, encoding)
    return status, headers, body, keep


async def _read_head(conn: _Connection) -> tuple[int, str, dict[str, str]]:
    buffer = conn.buffer
    start = 0
    while True:
        end = buffer.find(b"\r\n\r\n", start)
        if end >= 0:
            break
        if len(buffer) > _MAX_HEAD_BYTES:
            raise WireError(f"the answer's headers exceed {_MAX_HEAD_BYTES} bytes")
        start = max(0, len(buffer) - 3)
        if not buffer and conn.closed:
            raise WireError("the server closed the connection without answering")
        await conn.more()
    text = buffer[:end].decode("latin-1")
    del buffer[: end + 4]
    status_line, *header_lines = text.split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise WireError(f"not an HTTP/1.1 answer: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise WireError(f"malformed header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), parts[0], headers


async def _read_chunked(conn: _Connection) -> bytes:
    buffer = conn.buffer
    body = bytearray()
    while True:
        while (line_end := buffer.find(b"\r\n")) < 0:
            await conn.more()
        size_text = buffer[:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise WireError(f"invalid chunk size {bytes(size_text[:20])!r}") from None
        del buffer[: line_end + 2]
        if size == 0:
            # Trailers (rare) end with an empty line, like the headers.
            while (end := buffer.find(b"\r\n")) != 0:
                if end > 0:
                    del buffer[: end + 2]
                    continue
                await conn.more()
            del buffer[:2]
            return bytes(body)
        while len(buffer) < size + 2:
            await conn.more()
        body += buffer[:size]
        del buffer[: size + 2]


def _decompress(body: bytes, encoding: str) -> bytes:
    try:
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:  # some servers send raw deflate without the zlib wrapper
                return zlib.decompress(body, -zlib.MAX_WBITS)
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    except zlib.error as exc:
        raise WireError(f"the answer's {encoding} body is corrupt: {exc}") from None
