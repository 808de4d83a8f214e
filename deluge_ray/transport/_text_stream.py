"""One model call whose text is passed on as it arrives (``on_text_delta``).

A :class:`RequestRunner` built by :func:`streaming_runner` is the ordinary runner (same
model choice, leases on the shared RateLimiter, retry policy, fallback and blocklist)
with two seams swapped: the request is built streamed where the model streams, and
``send`` reads the server-sent events as they come, hands each piece of visible text to a
:class:`TextSink`, and returns the answer already parsed (the stream's accumulator rebuilds
the non-streamed answer, so usage, cost, tool calls and errors read exactly as from a plain
request). The events a sink gets, as in lm-deluge 0.0.168:

* ``text(model, piece)`` for each piece of visible text of the attempt;
* ``reset(model)`` after **every** failed attempt (an error status, a stream cut off, a
  timeout, a refused connection), so a UI drops that attempt's partial text; the retry
  then streams again from the start.

Which models stream, as in 0.0.168: Anthropic, Gemini, and OpenAI's own chat completions
and Responses API. Other OpenAI-compatible providers are sent ordinary requests (0.0.168
alike), and so is background mode, which is polled: no text events, only a reset if the
attempt fails. A streamed request's
``request_timeout`` bounds the wait for each next chunk (connect and read), not the whole
generation, so a long answer that keeps arriving is not cut off.

If the sink raises, the stream stops, the attempt is not retried, and the runner answers
with a ``GIVE_UP`` error; the sink keeps the exception (:attr:`TextSink.failure`) for the
caller to raise, as 0.0.168 raises the callback's exception out of the loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from ..api_requests import ErrorInfo, ErrorKind, build_request, parse_response
from ..api_requests._sse import aiter_sse
from ..api_requests._types import ParsedResponse
from ..api_requests.streaming import accumulator_for, build_stream_request
from ..ratelimit._headers import read_rate_limit_headers
from ._retry import lower_headers
from ._runner import RequestRunner
from ._session import ProviderTransport

__all__ = ["TextSink", "streaming_runner", "streams_text"]


class TextSink(Protocol):
    """Where a streamed call's text goes (``model`` is the attempt's registry name)."""

    #: The exception the sink raised, if any (the call then ended without a retry).
    failure: BaseException | None

    async def text(self, model: str, piece: str) -> None: ...

    async def reset(self, model: str) -> None: ...


def streams_text(model: Any, *, use_responses_api: bool = False, background: bool = False) -> bool:
    """Whether a request to ``model`` is sent streamed when text is wanted as it arrives."""
    if background or model.is_embedding:
        return False
    if model.api_spec == "openai":
        return model.provider == "openai"  # other OpenAI-compatible servers: plain requests
    if use_responses_api:
        return False  # only OpenAI's own models speak the Responses API
    return model.api_spec in ("anthropic", "gemini")


@dataclass
class _Outgoing:
    """A built request and what ``send`` needs to read its answer."""

    spec: Any
    model: Any
    streamed: bool
    use_responses_api: bool

    @property
    def url(self) -> str:
        return self.spec.url  # the runner names the URL in error messages


class _SinkFailed(Exception):
    """The sink raised: stop this call, never retry it."""


def _build(model: Any, conversation: Any, sampling_params: Any, **options: Any) -> _Outgoing:
    streamed = streams_text(
        model,
        use_responses_api=options.get("use_responses_api", False),
        background=options.get("background", False),
    )
    responses_api = bool(options.get("use_responses_api", False))
    if streamed:
        options = {k: v for k, v in options.items() if k not in ("use_responses_api", "background")}
        spec = build_stream_request(
            model, conversation, sampling_params, use_responses_api=responses_api, **options
        )
    else:
        spec = build_request(model, conversation, sampling_params, **options)
    return _Outgoing(spec, model, streamed, responses_api)


def _already_parsed(
    model: Any, status: int, headers: Any, body: Any, *, use_responses_api: bool = False
) -> ParsedResponse:
    return body  # ``send`` below parsed it (streamed or not) to know whether to reset


def streaming_runner(transport: ProviderTransport, sink: TextSink) -> RequestRunner:
    """A runner on ``transport``'s session and leases whose text goes to ``sink``."""

    async def send(request: _Outgoing, timeout: float) -> tuple[int, dict[str, str], Any]:
        model_id = request.model.id
        try:
            status, headers, parsed = await _exchange(transport, request, timeout, sink)
        except _SinkFailed:
            error = ErrorInfo(
                ErrorKind.GIVE_UP, f"on_text_delta raised {sink.failure!r}", None, None
            )
            return 0, {}, ParsedResponse(error=error)
        except Exception:
            await _reset_quietly(sink, model_id)  # a timeout, a refused connection
            raise
        if parsed.error is not None:
            await _reset_quietly(sink, model_id)
        return status, headers, parsed

    async def send_background(model: Any, request: _Outgoing, timeout: float) -> Any:
        # Polled to its end: no text to pass on, only the reset of a failed attempt.
        try:
            status, headers, parsed = await transport.send_background(model, request.spec, timeout)
        except Exception:
            await _reset_quietly(sink, model.id)
            raise
        if parsed.error is not None:
            await _reset_quietly(sink, model.id)
        return status, headers, parsed

    return RequestRunner(
        send=send,
        lease_for=transport.lease_for,
        build_request=_build,
        parse_response=_already_parsed,
        read_headers=read_rate_limit_headers,
        send_background=send_background,
    )


async def _reset_quietly(sink: TextSink, model_id: str) -> None:
    # A sink that fails on a reset already has its failure noted; the attempt is over.
    if sink.failure is None:
        try:
            await sink.reset(model_id)
        except Exception as exc:
            sink.failure = exc


async def _exchange(
    transport: ProviderTransport, request: _Outgoing, timeout: float, sink: TextSink
) -> tuple[int, dict[str, str], ParsedResponse]:
    """Send ``request`` and read its answer; text pieces go to ``sink`` as they arrive."""
    spec, model = request.spec, request.model
    if not request.streamed:
        status, headers, body = await transport.send(spec, timeout)
        parsed = parse_response(
            model, status, headers, body, use_responses_api=request.use_responses_api
        )
        return status, headers, parsed
    # Each chunk must come within the timeout; the whole answer may take longer.
    limit = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
    async with transport.session().request(
        spec.method, spec.url, headers=spec.headers, json=spec.json, timeout=limit
    ) as reply:
        status, headers = reply.status, lower_headers(reply.headers)
        if status != 200:
            body = await reply.read()
            parsed = parse_response(
                model, status, headers, body, use_responses_api=request.use_responses_api
            )
            return status, headers, parsed
        accumulator = accumulator_for(model, use_responses_api=request.use_responses_api)
        async for event in aiter_sse(reply.content.iter_any()):
            for piece in accumulator.feed(event):
                try:
                    await sink.text(model.id, piece)
                except Exception as exc:
                    sink.failure = exc
                    raise _SinkFailed from exc
            if accumulator.done and event.done:
                break
        return status, headers, accumulator.finish(headers)
