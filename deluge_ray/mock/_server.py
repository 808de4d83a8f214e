"""``MockProvider``: start and stop the mock server, and the in-process control API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from aiohttp import web

from .._constants import API_KEY_ENV_VARS, BASE_URL_ENV_VARS, SDK_BASE_URL_ENV_VARS
from ..errors import ConfigurationError
from ._app import build_app
from ._behaviour import ScriptEntry
from ._config import Limits, MockConfig
from ._core import MockCore

__all__ = ["MockProvider", "use_mock"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Connections the kernel may queue before the server accepts them (capped by the system's
# net.core.somaxconn). aiohttp's default of 128 drops the excess of a burst of new
# connections, and a dropped connect is retried by the client's kernel only after a
# second: a swarm of 1,000 agents opening their connections at once saw some of its loops
# finish a second late. A provider's front end takes such bursts; so does the mock.
LISTEN_BACKLOG = 4096


class MockProvider:
    """A local server speaking the OpenAI, Anthropic, Gemini and Cohere wire formats.

    Use it from async code::

        async with MockProvider(MockConfig(limits=Limits(rpm=600))) as mock:
            client = openai.AsyncOpenAI(base_url=mock.openai_base_url, api_key="k")

    or from sync code, notebooks and Ray-based tests (it then runs on a background thread
    with its own event loop)::

        with MockProvider() as mock:
            with use_mock(mock):
                ...  # OPENAI_BASE_URL etc. now point at the mock

    It binds to a loopback address only. ``port=0`` picks a free port.
    """

    def __init__(
        self, config: MockConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if host not in _LOOPBACK:
            raise ConfigurationError(
                f"MockProvider binds to loopback only (got host={host!r}); use '127.0.0.1'."
            )
        self.host = host
        self.port = port
        self._core = MockCore(config or MockConfig())
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- addresses ------------------------------------------------------------------
    @property
    def config(self) -> MockConfig:
        return self._core.config

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the root; the Anthropic SDK takes this as base_url)."""
        if self._runner is None:
            raise ConfigurationError("The mock provider is not running; call start() first.")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """``…/v1``, following deluge_ray's base-URL convention (``DEFAULT_BASE_URLS``).

        The official ``anthropic`` SDK appends ``/v1`` itself: give it ``mock.url`` (which is
        what :meth:`environment` puts in ``ANTHROPIC_BASE_URL``; deluge_ray reads both).
        """
        return f"{self.url}/v1"

    @property
    def gemini_base_url(self) -> str:
        return f"{self.url}/v1beta"

    @property
    def cohere_base_url(self) -> str:
        return f"{self.url}/v1"

    # -- async lifecycle -----------------------------------------------------------
    async def start_async(self) -> MockProvider:
        """Start serving on the running event loop."""
        if self._runner is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        runner = web.AppRunner(
            build_app(self._core), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await runner.setup()
        await web.SockSite(runner, sock, backlog=LISTEN_BACKLOG).start()
        self._runner = runner
        return self

    async def stop_async(self) -> None:
        """Stop serving (in-flight requests are cut off)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> MockProvider:
        return await self.start_async()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_async()

    # -- background-thread lifecycle -------------------------------------------------
    def start(self) -> MockProvider:
        """Serve on a background thread with its own event loop; returns once listening."""
        if self._runner is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # hand the bind error to the caller
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name="deluge-ray-mock", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = self._loop = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop the background server started by :meth:`start`."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> MockProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control API ------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Counters since start (or the last :meth:`reset_stats`); also ``GET /_mock/stats``.

        Keys: ``requests``, ``by_endpoint``, ``by_model``, ``by_key`` (key fingerprints),
        ``by_status`` (``"0"`` = connection dropped by a fault), ``rate_limited``,
        ``faults``, ``tokens_in``, ``tokens_out``, ``in_flight``, ``peak_concurrency``,
        ``per_second`` (unix second -> requests received).
        """
        return self._core.stats.snapshot()

    def reset_stats(self) -> None:
        """Zero the counters (rate-limit buckets are left as they are)."""
        self._core.stats.reset()

    def set_limits(
        self, limits: Limits | None = None, *, model: str | None = None, **fields: Any
    ) -> None:
        """Change rate limits while running: a whole :class:`Limits` or single fields.

        ``model`` restricts the change to one model name. Buckets restart full.

        >>> mock = MockProvider()
        >>> mock.set_limits(rpm=600, max_concurrent=8)
        >>> mock.config.limits.rpm
        600
        """
        config = self._core.config
        current = config.limits_for(model) if model else config.limits
        new = replace(limits or current, **fields)
        if model:
            config.model_limits = {**config.model_limits, model: new}
        else:
            config.limits = new

    def script(self, model: str, replies: ScriptEntry | Iterable[ScriptEntry]) -> None:
        """Queue scripted replies for ``model`` (``"*"`` for every model); see ``Reply``."""
        self._core.scripts.add(model, replies)

    def clear_scripts(self, model: str | None = None) -> None:
        """Drop scripted replies (of one model, or all)."""
        self._core.scripts.clear(model)

    def environment(self) -> dict[str, str]:
        """Environment variables pointing every provider family at this mock.

        The ``*_BASE_URL`` variables (names in ``_constants.BASE_URL_ENV_VARS`` and
        ``SDK_BASE_URL_ENV_VARS``) always, each in the form the provider's official SDK
        expects, so the SDKs and deluge_ray reach the mock from the same environment:
        ``OPENAI_BASE_URL`` ends in ``/v1``, ``ANTHROPIC_BASE_URL`` is the bare ``url``, and
        so are google-genai's ``GOOGLE_GEMINI_BASE_URL`` and cohere's ``CO_API_URL``. Also a
        placeholder key for each ``*_API_KEY`` variable that is unset. ``ProviderCaller``
        actors run in other processes with their own environment, which is why the client
        resolves base URLs on the driver and ships them to the actors.
        """
        urls = {
            "openai": self.openai_base_url,
            "anthropic": self.url,
            "gemini": self.gemini_base_url,
            "cohere": self.cohere_base_url,
        }
        env = {BASE_URL_ENV_VARS[family]: url for family, url in urls.items()}
        env.update({name: self.url for name in SDK_BASE_URL_ENV_VARS.values()})
        for family, var in API_KEY_ENV_VARS.items():
            if not os.environ.get(var):
                env[var] = f"mock-{family}-key"
        return env


@contextlib.contextmanager
def use_mock(mock: MockProvider) -> Iterator[dict[str, str]]:
    """Set ``mock.environment()`` in ``os.environ`` for the block, then restore it.

    >>> with MockProvider() as mock, use_mock(mock) as env:
    ...     os.environ["OPENAI_BASE_URL"] == mock.openai_base_url
    True
    """
    env = mock.environment()
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
