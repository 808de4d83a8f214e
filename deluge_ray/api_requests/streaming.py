"""Streaming: per-provider accumulators, and :func:`stream_chat`, an async generator.

Each accumulator eats decoded SSE events of one wire format, returns the text deltas they
carry, and at the end rebuilds the provider's *non-streamed* answer, which the provider
module's own ``parse_response`` turns into content, usage and cost. One parser per wire
format, whether the answer came streamed or not, so the two cannot drift apart.

* :class:`OpenAIChatStream`: ``chat.completion.chunk`` objects, tool-call deltas merged by
  ``index``, the final usage chunk (``stream_options.include_usage``), ``[DONE]``.
* :class:`AnthropicStream`: ``message_start``, ``content_block_start/delta/stop`` (text,
  thinking + signature, ``tool_use`` with ``input_json_delta``), ``message_delta``,
  ``message_stop``, ``ping`` and ``error`` frames.
* :class:`GeminiStream`: ``streamGenerateContent?alt=sse`` partial responses.

    >>> from deluge_ray.models import get_model
    >>> acc = OpenAIChatStream(get_model("gpt-4.1-mini"))
    >>> acc.feed(SSEEvent("message", '{"choices":[{"index":0,"delta":{"content":"Hi"}}]}'))
    ['Hi']
    >>> acc.finish().content.completion
    'Hi'
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import aiohttp

from ..config import SamplingParams
from ..errors import ConfigurationError
from ..models import APIModel, get_model
from ..prompt import Conversation, prompts_to_conversations
from . import anthropic as anthropic_api
from . import gemini as gemini_api
from . import openai as openai_api
from . import openai_responses as openai_responses_api
from ._errors import classify_error, credentials_in, redact_error, with_called_url
from ._sse import SSEEvent, aiter_sse
from ._types import ErrorInfo, ErrorKind, ParsedResponse, RequestSpec
from .response import APIResponse

__all__ = [
    "AnthropicStream",
    "GeminiStream",
    "OpenAIChatStream",
    "OpenAIResponsesStream",
    "StreamAccumulator",
    "StreamGate",
    "accumulator_for",
    "build_stream_request",
    "stream_chat",
]

_STREAMING_SPECS = ("openai", "anthropic", "gemini")


class StreamAccumulator(Protocol):
    """What every accumulator offers: feed events, get deltas, finish into a result."""

    done: bool

    def feed(self, event: SSEEvent) -> list[str]: ...

    def finish(self, headers: Mapping[str, str] | None = None) -> ParsedResponse: ...


def _json(event: SSEEvent) -> Any:
    try:
        return event.json()
    except ValueError:
        return None


def _stream_error(message: str, kind: ErrorKind = ErrorKind.RETRY) -> ParsedResponse:
    return ParsedResponse(error=ErrorInfo(kind, message, None, 200))


def _body_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


class OpenAIChatStream:
    """Accumulates a chat-completions stream into a ``chat.completion`` object."""

    def __init__(self, model: APIModel) -> None:
        self.model = model
        self.done = False
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, dict[str, Any]] = {}  # tool calls arrive in pieces, by index
        self._logprobs: list[Any] = []
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None
        self._id: str | None = None
        self._error: dict[str, Any] | None = None

    def feed(self, event: SSEEvent) -> list[str]:
        """Merge one ``data:`` chunk; return the text it adds."""
        if event.done:
            self.done = True
            return []
        chunk = _json(event)
        if not isinstance(chunk, dict):
            return []
        if isinstance(chunk.get("error"), dict):
            self._error, self.done = chunk, True
            return []
        self._id = chunk.get("id") or self._id
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        deltas: list[str] = []
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue  # n > 1 is not supported by the client; keep the first choice
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str):
                self._reasoning.append(reasoning)
            if isinstance(delta.get("content"), str) and delta["content"]:
                self._text.append(delta["content"])
                deltas.append(delta["content"])
            for call in delta.get("tool_calls") or []:
                slot = self._calls.setdefault(
                    call.get("index", 0), {"id": "", "name": "", "arguments": ""}
                )
                fn = call.get("function") or {}
                slot["id"] = call.get("id") or slot["id"]
                slot["name"] = fn.get("name") or slot["name"]
                slot["arguments"] += fn.get("arguments") or ""
            self._logprobs += (choice.get("logprobs") or {}).get("content") or []
            self._finish = choice.get("finish_reason") or self._finish
        return deltas

    def finish(self, headers: Mapping[str, str] | None = None) -> ParsedResponse:
        """The result; an error when the stream broke off before its end."""
        if self._error is not None:
            return openai_api.parse_response(self.model, 400, headers, _body_bytes(self._error))
        if self._finish is None:
            return _stream_error("The stream ended before a finish_reason arrived (truncated).")
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self._text) or None}
        if self._reasoning:
            message["reasoning_content"] = "".join(self._reasoning)
        if self._calls:
            message["tool_calls"] = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for _, c in sorted(self._calls.items())
            ]
        choice = {
            "index": 0,
            "message": message,
            "finish_reason": self._finish,
            "logprobs": {"content": self._logprobs} if self._logprobs else None,
        }
        body = {"id": self._id, "choices": [choice], "usage": self._usage or {}}
        return openai_api.parse_response(self.model, 200, headers, _body_bytes(body))


class AnthropicStream:
    """Accumulates Anthropic's event frames into a ``message`` object."""

    def __init__(self, model: APIModel) -> None:
        self.model = model
        self.done = False
        self._message: dict[str, Any] = {}
        self._blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, list[str]] = {}  # tool_use input arrives as JSON fragments
        self._error: dict[str, Any] | None = None

    def feed(self, event: SSEEvent) -> list[str]:
        """Apply one frame; return the text it adds (thinking is kept, not yielded)."""
        data = _json(event)
        if not isinstance(data, dict):
            return []
        kind = data.get("type") or event.event
        if kind == "message_start":
            self._message = dict(data.get("message") or {})
        elif kind == "content_block_start":
            self._blocks[data.get("index", 0)] = dict(data.get("content_block") or {})
        elif kind == "content_block_delta":
            return self._delta(data.get("index", 0), data.get("delta") or {})
        elif kind == "content_block_stop":
            index = data.get("index", 0)
            if index in self._json:
                block = self._blocks.get(index, {})
                block["input"] = json.loads("".join(self._json.pop(index)) or "{}")
        elif kind == "message_delta":
            self._message.update(data.get("delta") or {})
            usage = dict(self._message.get("usage") or {})
            usage.update(data.get("usage") or {})  # output_tokens here is the final count
            self._message["usage"] = usage
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            self._error, self.done = data, True
        return []

    def _delta(self, index: int, delta: dict[str, Any]) -> list[str]:
        block = self._blocks.setdefault(index, {"type": "text", "text": ""})
        kind = delta.get("type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + delta.get("text", "")
            return [delta.get("text", "")] if delta.get("text") else []
        if kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
        elif kind == "signature_delta":
            block["signature"] = delta.get("signature")
        elif kind == "input_json_delta":
            self._json.setdefault(index, []).append(delta.get("partial_json", ""))
        return []

    def finish(self, headers: Mapping[str, str] | None = None) -> ParsedResponse:
        """The result; an error for an ``error`` frame or a stream cut off early."""
        if self._error is not None:
            # Mid-stream errors (overloaded_error, api_error) are transient on Anthropic.
            body = _body_bytes(self._error)
            err_type = (self._error.get("error") or {}).get("type", "")
            status = 529 if err_type == "overloaded_error" else 500
            return anthropic_api.parse_response(self.model, status, headers, body)
        if not self.done or not self._message:
            return _stream_error("The Anthropic stream ended before message_stop (truncated).")
        body = dict(self._message, content=[b for _, b in sorted(self._blocks.items())])
        return anthropic_api.parse_response(self.model, 200, headers, _body_bytes(body))


class OpenAIResponsesStream:
    """Accumulates a Responses API stream: its text deltas, then the finished response.

    The last event (``response.completed``, ``response.incomplete`` or ``response.failed``)
    carries the whole response object, which the non-streamed parser reads; the events
    before it only serve the text as it comes.
    """

    _FINAL = ("response.completed", "response.incomplete", "response.failed")

    def __init__(self, model: APIModel) -> None:
        self.model = model
        self.done = False
        self._response: dict[str, Any] | None = None
        self._error: dict[str, Any] | None = None

    def feed(self, event: SSEEvent) -> list[str]:
        """Apply one event; return the text it adds."""
        data = _json(event)
        if not isinstance(data, dict):
            return []
        kind = data.get("type") or event.event
        if kind == "response.output_text.delta":
            delta = data.get("delta")
            return [delta] if isinstance(delta, str) and delta else []
        if kind in self._FINAL and isinstance(data.get("response"), dict):
            self._response, self.done = data["response"], True
        elif kind == "error":
            self._error, self.done = data, True
        return []

    def finish(self, headers: Mapping[str, str] | None = None) -> ParsedResponse:
        """The result; an error for an ``error`` event or a stream cut off early."""
        if self._error is not None:
            body = {"error": {k: v for k, v in self._error.items() if k != "type"}}
            return openai_responses_api.parse_response(self.model, 500, headers, _body_bytes(body))
        if self._response is None:
            return _stream_error("The Responses stream ended before its final event (truncated).")
        return openai_responses_api.parse_response(
            self.model, 200, headers, _body_bytes(self._response)
        )


class GeminiStream:
    """Accumulates ``streamGenerateContent`` partial responses into one response."""

    def __init__(self, model: APIModel) -> None:
        self.model = model
        self.done = False
        self._parts: list[dict[str, Any]] = []
        self._last: dict[str, Any] = {}
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None
        self._feedback: dict[str, Any] | None = None
        self._error: dict[str, Any] | None = None

    def feed(self, event: SSEEvent) -> list[str]:
        """Merge one partial response; return its (non-thought) text."""
        data = _json(event)
        if not isinstance(data, dict):
            return []
        if isinstance(data.get("error"), dict):
            self._error, self.done = data, True
            return []
        self._last = data
        self._usage = data.get("usageMetadata") or self._usage  # cumulative: keep the last
        self._feedback = data.get("promptFeedback") or self._feedback
        deltas: list[str] = []
        candidates = data.get("candidates") or []
        if candidates:
            candidate = candidates[0]
            for part in (candidate.get("content") or {}).get("parts") or []:
                self._merge(part)
                if "text" in part and not part.get("thought") and part["text"]:
                    deltas.append(part["text"])
            if candidate.get("finishReason"):
                self._finish = candidate["finishReason"]
                self.done = True
        elif self._feedback:
            self.done = True
        return deltas

    def _merge(self, part: dict[str, Any]) -> None:
        # Consecutive text pieces of the same kind join into one part, as generateContent
        # would have returned them; calls and signatures stay separate parts.
        prev = self._parts[-1] if self._parts else None
        joinable = "text" in part and set(part) <= {"text", "thought"}
        if (
            joinable
            and prev is not None
            and set(prev) <= {"text", "thought"}
            and bool(prev.get("thought")) == bool(part.get("thought"))
        ):
            prev["text"] = prev.get("text", "") + part["text"]
        elif not (joinable and not part["text"]):
            self._parts.append(dict(part))

    def finish(self, headers: Mapping[str, str] | None = None) -> ParsedResponse:
        """The result; an error for an error chunk or a stream without a finishReason."""
        if self._error is not None:
            status = int((self._error.get("error") or {}).get("code") or 500)
            return gemini_api.parse_response(self.model, status, headers, _body_bytes(self._error))
        if not self.done:
            return _stream_error("The Gemini stream ended before a finishReason (truncated).")
        candidate: dict[str, Any] = {
            "content": {"role": "model", "parts": self._parts},
            "finishReason": self._finish,
        }
        body: dict[str, Any] = {
            "candidates": [candidate] if self._finish else [],
            "usageMetadata": self._usage or {},
            "responseId": self._last.get("responseId"),
        }
        if self._feedback:
            body["promptFeedback"] = self._feedback
        return gemini_api.parse_response(self.model, 200, headers, _body_bytes(body))


def accumulator_for(model: APIModel, *, use_responses_api: bool = False) -> StreamAccumulator:
    """A fresh accumulator for ``model``'s wire format (the Responses API's if asked)."""
    if use_responses_api:
        return OpenAIResponsesStream(model)
    if model.api_spec == "anthropic":
        return AnthropicStream(model)
    if model.api_spec == "gemini":
        return GeminiStream(model)
    return OpenAIChatStream(model)


def check_streamable(model: APIModel) -> None:
    """Raise :class:`ConfigurationError` for a model that has no chat stream."""
    if model.is_embedding or model.api_spec not in _STREAMING_SPECS:
        raise ConfigurationError(
            f"Model {model.id!r} (provider {model.provider!r}) cannot stream: streaming is "
            "offered for OpenAI-compatible chat, Anthropic and Gemini models. Use "
            "LLMClient.process_prompts_async for it instead."
        )


def build_stream_request(
    model: APIModel,
    conversation: Conversation,
    sampling_params: SamplingParams,
    *,
    use_responses_api: bool = False,
    **kwargs: Any,
) -> RequestSpec:
    """The streaming variant of :func:`deluge_ray.api_requests.build_request`.

    Same keyword arguments (``tools``, ``output_schema``, ``cache_pattern``,
    ``extra_headers``, ``extra_body``, ``api_key``, ``base_url``, ...). OpenAI and
    Anthropic get ``"stream": true`` (OpenAI also ``stream_options.include_usage`` so the
    final chunk carries usage); Gemini switches to ``:streamGenerateContent?alt=sse``;
    with ``use_responses_api`` the Responses API request gets ``"stream": true``.
    """
    check_streamable(model)
    if use_responses_api:  # OpenAI's Responses API: typed events, the response at the end
        spec = openai_responses_api.build_request(model, conversation, sampling_params, **kwargs)
        spec.json = {**(spec.json or {}), "stream": True}
    elif model.api_spec == "anthropic":
        spec = anthropic_api.build_request(model, conversation, sampling_params, **kwargs)
        spec.json = {**(spec.json or {}), "stream": True}
    elif model.api_spec == "gemini":
        spec = gemini_api.build_request(model, conversation, sampling_params, **kwargs)
        spec.url = spec.url.replace(":generateContent", ":streamGenerateContent") + "?alt=sse"
    else:
        spec = openai_api.build_request(model, conversation, sampling_params, **kwargs)
        spec.json = {**(spec.json or {}), "stream": True, "stream_options": {"include_usage": True}}
    spec.headers = {**spec.headers, "accept": "text/event-stream"}
    return spec


class StreamGate(Protocol):
    """Rate capacity for one stream, e.g. a driver-side lease holder on the shared limiter.

    ``acquire`` waits until one request of ``tokens`` estimated tokens may be sent;
    ``report`` tells it what happened (status, response headers, actual tokens used), so
    429s and usage corrections reach the limiter like any other request's.
    """

    async def acquire(self, tokens: int) -> Any: ...

    def report(
        self, *, status: int, headers: Mapping[str, str], estimated: int, used: int | None
    ) -> None: ...


def _to_response(
    parsed: ParsedResponse,
    model: APIModel,
    prompt: Conversation,
    sp: SamplingParams,
    status: int,
) -> APIResponse:
    return APIResponse.from_parsed(
        parsed, id=0, model=model, prompt=prompt, sampling_params=sp, status_code=status
    )


async def stream_chat(
    model_name: str,
    prompt: Any,
    *,
    tools: list[Any] | None = None,
    sampling_params: SamplingParams | None = None,
    cache_pattern: str | None = None,
    output_schema: Any = None,
    extra_headers: Mapping[str, str] | None = None,
    extra_body: Mapping[str, Any] | None = None,
    request_timeout: float = 60.0,
    session: aiohttp.ClientSession | None = None,
    gate: StreamGate | None = None,
) -> AsyncIterator[str | APIResponse]:
    """Stream one prompt: yield each text delta as it arrives, then the final APIResponse.

    ``prompt`` is anything :func:`~deluge_ray.prompt.prompts_to_conversations` accepts.
    The URL comes from the registry (``get_model(model_name).resolved_base_url()``), the
    key from the model's environment variable. A provider error (including a 429) ends
    the stream with an ``APIResponse`` whose ``is_error`` is true; a stream cut off early
    likewise. ``gate`` (optional) takes rate capacity before the request is sent.

        >>> async def demo():                                   # doctest: +SKIP
        ...     async for item in stream_chat("gpt-4.1-mini", "Count to five"):
        ...         print(item if isinstance(item, str) else item.usage)
    """
    model = get_model(model_name)
    check_streamable(model)
    sp = sampling_params or SamplingParams()
    (conversation,) = prompts_to_conversations([prompt])
    spec = build_stream_request(
        model,
        conversation,
        sp,
        tools=tools,
        output_schema=output_schema,
        cache_pattern=cache_pattern,
        extra_headers=extra_headers,
        extra_body=extra_body,
        api_key=model.resolve_api_key(),
        base_url=model.resolved_base_url(),
    )
    estimated = conversation.count_tokens(sp.max_new_tokens)
    if gate is not None:
        await gate.acquire(estimated)
    own_session = session is None
    http = session or aiohttp.ClientSession()
    timeout = aiohttp.ClientTimeout(total=request_timeout)
    status, headers = 0, {}
    parsed: ParsedResponse | None = None
    try:
        async with http.request(
            spec.method, spec.url, headers=spec.headers, json=spec.json, timeout=timeout
        ) as resp:
            status, headers = resp.status, dict(resp.headers)
            if status != 200:
                error = classify_error(status, headers, await resp.read())
                parsed = ParsedResponse(error=with_called_url(error, spec.url))
            else:
                acc = accumulator_for(model)
                async for event in aiter_sse(resp.content.iter_any()):
                    for delta in acc.feed(event):
                        yield delta
                    if acc.done and event.done:
                        break
                parsed = acc.finish(headers)
    except (aiohttp.ClientError, TimeoutError) as exc:
        # The connection dropped or the timeout passed: report it, do not raise mid-stream.
        parsed = _stream_error(f"Stream failed: {type(exc).__name__}: {exc}")
    finally:
        if own_session:
            await http.close()
        if gate is not None:
            used = parsed.usage.total_tokens if parsed and parsed.usage else None
            gate.report(status=status, headers=headers, estimated=estimated, used=used)
    if parsed is not None and parsed.error is not None:
        # A provider that quotes the key it was sent must not put it in error_message.
        redacted = redact_error(parsed.error, credentials_in(spec.headers))
        parsed = dataclasses.replace(parsed, error=redacted)
    yield _to_response(parsed, model, conversation, sp, status)
