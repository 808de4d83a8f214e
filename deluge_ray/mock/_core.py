"""The request pipeline every generation endpoint shares.

auth → JSON body → model checks → validation (wire format) → reply + usage → rate limits →
injected fault → latency → JSON or SSE response. Any :class:`MockHTTPError` on the way is
rendered in the provider's error shape, and every other exception becomes a provider-shaped
500 instead of aiohttp's HTML page, so a client never sees an unexpected shape or a hang.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ._behaviour import Generated, RequestView, ScriptBook, generate
from ._config import MockConfig
from ._headers import rate_limit_headers, retry_headers
from ._limits import RateWindows
from ._stats import MockStats, key_fingerprint
from ._validate import MockHTTPError, error_payload

__all__ = ["GenerationAPI", "MockCore"]

log = logging.getLogger("deluge_ray.mock")

_FAULT_STATUS = {"server_error": 500, "unavailable": 503, "overloaded": 529}
_FAULT_MESSAGES = {
    500: "The server had an error while processing your request (injected by the mock).",
    503: "The service is temporarily unavailable (injected by the mock).",
    529: "Overloaded (injected by the mock).",
}


@dataclass(frozen=True)
class GenerationAPI:
    """One generation endpoint: its error family, stats name and wire-format functions.

    ``stream`` turns an answer into the list of SSE frames (bytes) in order.
    """

    family: str
    endpoint: str
    parse: Callable[[dict[str, Any], str], RequestView]
    render: Callable[[RequestView, Generated], dict[str, Any]]
    stream: Callable[[RequestView, Generated], list[bytes]] | None = None


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(payload, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error_response(family: str, error: MockHTTPError) -> web.Response:
    return json_response(error_payload(family, error), error.status, error.headers)


def api_key_of(request: web.Request, family: str) -> str | None:
    """The API key the request carries, in the header(s) its provider uses."""
    headers = request.headers
    if family == "anthropic" and headers.get("x-api-key"):
        return headers["x-api-key"]
    if family == "gemini":
        key = headers.get("x-goog-api-key") or request.query.get("key")
        if key:
            return key
    auth = headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return None


class MockCore:
    """Shared state (config, limits, stats, scripts, RNG) and the generation pipeline."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.windows = RateWindows()
        self.stats = MockStats()
        self.scripts = ScriptBook()
        self.rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()

    # -- small shared steps -------------------------------------------------------------
    def authenticate(self, request: web.Request, family: str) -> str:
        """The key fingerprint, or a 401 in the provider's shape when no key is sent."""
        key = api_key_of(request, family)
        if key is None and self.config.require_auth:
            where = {
                "anthropic": "the x-api-key header",
                "gemini": "the x-goog-api-key header or the key query parameter",
            }.get(family, "an 'Authorization: Bearer <key>' header")
            raise MockHTTPError(
                401,
                f"No API key provided. Send one in {where} (the mock accepts any key).",
                code="invalid_api_key",
            )
        return key_fingerprint(key)

    @staticmethod
    async def read_json(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MockHTTPError(
                400,
                f"We could not parse the JSON body of your request ({exc}). "
                "Send a JSON object with Content-Type: application/json.",
                code="invalid_json",
            ) from None
        if not isinstance(body, dict):
            raise MockHTTPError(400, "The request body must be a JSON object.", code="invalid_json")
        return body

    def check_model(self, model: str) -> None:
        known = self.config.known_models
        if known is not None and model not in known:
            raise MockHTTPError(
                404,
                f"The model '{model}' does not exist or you do not have access to it. "
                f"This mock serves: {', '.join(sorted(known))}.",
                param="model",
                code="model_not_found",
            )

    def pick_fault(self) -> str | None:
        with self._rng_lock:
            return self.config.faults.pick(self.rng)

    def latency_seconds(self) -> float:
        with self._rng_lock:
            return self.config.latency.sample_seconds(self.rng)

    # -- the pipeline ---------------------------------------------------------------
    async def handle_generation(
        self, request: web.Request, api: GenerationAPI, path_model: str | None = None
    ) -> web.StreamResponse:
        """Serve one generation request end to end (see the module docstring)."""
        model = path_model
        key_id = "none"
        started = False
        try:
            key_id = self.authenticate(request, api.family)
            body = await self.read_json(request)
            if model is None:
                model = body.get("model")
                if not isinstance(model, str) or not model:
                    raise MockHTTPError(
                        400,
                        "Missing required parameter: 'model' (a non-empty string).",
                        param="model",
                        code="missing_required_parameter",
                    )
            self.stats.request_started(api.endpoint, model, key_id)
            started = True
            self.check_model(model)
            view = api.parse(body, model)
            if view.stream and api.stream is None:
                raise MockHTTPError(
                    400,
                    "stream=true is not supported by the mock on this endpoint.",
                    param="stream",
                )
            generated = generate(view, self.scripts.next_reply(view))
            return await self._admitted(request, api, view, generated, key_id)
        except MockHTTPError as error:
            if not started:
                self.stats.request_started(api.endpoint, model, key_id)
            self.stats.request_finished(error.status)
            return error_response(api.family, error)
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception as exc:  # a mock bug must still answer in the provider's shape
            log.exception("mock provider failed on %s", api.endpoint)
            if not started:
                self.stats.request_started(api.endpoint, model, key_id)
            self.stats.request_finished(500)
            return error_response(api.family, MockHTTPError(500, f"Mock internal error: {exc}"))

    async def handle_simple(
        self,
        request: web.Request,
        family: str,
        endpoint: str,
        compute: Callable[[dict[str, Any]], tuple[str, dict[str, Any], int]],
    ) -> web.Response:
        """Serve a non-generative endpoint (embeddings, rerank): auth, limits, faults, latency.

        ``compute(body)`` validates the body and returns ``(model, payload, input_tokens)``.
        Injected faults apply as on generation endpoints (``truncated_stream`` cuts the JSON
        body in half, like ``malformed_json``). Successful answers carry rate-limit headers.
        """
        key_id, model, started = "none", None, False
        try:
            key_id = self.authenticate(request, family)
            body = await self.read_json(request)
            model = body.get("model") if isinstance(body.get("model"), str) else None
            self.stats.request_started(endpoint, model, key_id)
            started = True
            model, payload, tokens = compute(body)
            self.check_model(model)
            decision = self.windows.admit(key_id, model, self.config.limits_for(model), tokens, 0)
            if not decision.allowed:
                raise self._rate_limited(family, model, decision)
            self.stats.request_admitted()
            try:
                fault = await self._wait_and_pick_fault()
                if fault in ("connection_reset", "hang"):
                    return await self._drop(request, fault)
            finally:
                self.windows.release(key_id, model)
            data = json.dumps(payload, separators=(",", ":")).encode()
            if fault in ("malformed_json", "truncated_stream"):
                data = data[: len(data) // 2]
            self.stats.request_finished(200, input_tokens=tokens)
            return web.Response(
                body=data,
                content_type="application/json",
                headers=rate_limit_headers(family, decision),
            )
        except MockHTTPError as error:
            if not started:
                self.stats.request_started(endpoint, model, key_id)
            self.stats.request_finished(error.status)
            return error_response(family, error)

    async def _admitted(
        self,
        request: web.Request,
        api: GenerationAPI,
        view: RequestView,
        gen: Generated,
        key_id: str,
    ) -> web.StreamResponse:
        limits = self.config.limits_for(view.model)
        decision = self.windows.admit(
            key_id, view.model, limits, gen.input_tokens, gen.output_tokens
        )
        if not decision.allowed:
            raise self._rate_limited(api.family, view.model, decision)
        self.stats.request_admitted()
        try:
            headers = rate_limit_headers(api.family, decision)
            fault = await self._wait_and_pick_fault()
            if view.stream and api.stream is not None:
                return await self._stream(request, api.stream(view, gen), gen, headers, fault)
            body = json.dumps(api.render(view, gen), separators=(",", ":")).encode()
            if fault in ("connection_reset", "hang"):
                return await self._drop(request, fault)
            if fault in ("malformed_json", "truncated_stream"):
                body = body[: len(body) // 2]
            self.stats.request_finished(
                200, input_tokens=gen.input_tokens, output_tokens=gen.output_tokens
            )
            return web.Response(body=body, content_type="application/json", headers=headers)
        finally:
            self.windows.release(key_id, view.model)

    async def _wait_and_pick_fault(self) -> str | None:
        """Choose this request's fault, wait its latency, and raise a status fault.

        Returns the fault the caller must act on itself (a dropped connection, a broken
        body), or ``None``.
        """
        fault = self.pick_fault()
        delay = self.latency_seconds()
        if delay:
            await asyncio.sleep(delay)
        if fault is not None:
            self.stats.fault_injected(fault)
            if fault in _FAULT_STATUS:
                status = _FAULT_STATUS[fault]
                raise MockHTTPError(status, _FAULT_MESSAGES[status])
        return fault

    def _rate_limited(self, family: str, model: str, decision: Any) -> MockHTTPError:
        kind = decision.reason or "requests"
        wait = decision.retry_after
        reading = decision.readings.get(kind)
        limit = f" (limit {int(reading.limit)} per minute)" if reading else ""
        return MockHTTPError(
            429,
            f"Rate limit reached for {model} on {kind.replace('_', ' ')}{limit}. "
            f"Please try again in {wait * 1000:.0f}ms.",
            code="rate_limit_exceeded",
            kind="tokens" if "tokens" in kind and family == "openai" else None,
            headers={**retry_headers(wait), **rate_limit_headers(family, decision)},
        )

    async def _drop(self, request: web.Request, fault: str) -> web.Response:
        """Close the connection without a response (after hanging, for the hang fault)."""
        if fault == "hang":
            await asyncio.sleep(self.config.faults.hang_seconds)
        self.stats.request_finished(0)
        if request.transport is not None:
            request.transport.abort()
        # The socket is gone; aiohttp discards a response for a closed transport quietly.
        return web.Response(status=204)

    async def _stream(
        self,
        request: web.Request,
        frames: list[bytes],
        gen: Generated,
        headers: dict[str, str],
        fault: str | None,
    ) -> web.StreamResponse:
        if fault in ("connection_reset", "hang"):
            return await self._drop(request, fault)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", **headers}
        )
        await response.prepare(request)
        timing = self.config.latency
        if fault == "truncated_stream":
            frames = frames[: max(1, len(frames) // 2)]
        elif fault == "malformed_json":
            frames = [*frames[: len(frames) // 2], b'data: {"choices": [{"delta": \n\n']
        for index, frame in enumerate(frames):
            pause = timing.ttft_ms if index == 0 else timing.inter_token_ms
            if pause:
                await asyncio.sleep(pause / 1000.0)
            await response.write(frame)
        if fault == "truncated_stream":
            # Cut the connection mid-stream: the client sees a body that ends early.
            self.stats.request_finished(0)
            if request.transport is not None:
                request.transport.abort()
            return response
        await response.write_eof()
        self.stats.request_finished(
            200, input_tokens=gen.input_tokens, output_tokens=gen.output_tokens
        )
        return response
