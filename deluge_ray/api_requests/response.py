"""The result of one request: :class:`APIResponse`, and its token counts: :class:`Usage`.

Both are plain dataclasses so they pickle across Ray processes. ``APIResponse.to_dict`` is
JSON-safe (for logs and caches) and ``APIResponse.from_dict`` rebuilds an equal object.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import SamplingParams
from ..transport._retry import BLOCKLIST_STATUSES
from ._types import ErrorKind

if TYPE_CHECKING:  # the prompt package imports nothing from here; keep it that way
    from ..models import APIModel
    from ..prompt import Conversation, Message
    from ._types import ParsedResponse

__all__ = ["APIResponse", "Usage", "apply_postprocess"]

# What an image becomes in ``to_dict`` output unless images are kept.
IMAGE_PLACEHOLDER = "[image omitted]"


@dataclass
class Usage:
    """Tokens a provider reports for one call.

    ``input_tokens`` counts only *uncached* prompt tokens on every provider: tokens read
    from the provider's prompt cache are in ``cache_read_tokens`` and tokens written to it
    in ``cache_write_tokens``, because each is billed at its own price.

    >>> u = Usage(input_tokens=10, output_tokens=5, cache_read_tokens=90)
    >>> (u.total_tokens, u.has_cache_hit)
    (105, True)
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    # Of cache_write_tokens, those written with Anthropic's 1-hour TTL; of output_tokens,
    # those spent on reasoning (0.0.168's fields; 0 when the provider does not say).
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_input_tokens(self) -> int:
        """Every prompt token: uncached, cache-read and cache-write."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        """Prompt tokens of every kind plus generated tokens."""
        return self.total_input_tokens + self.output_tokens

    @property
    def has_cache_hit(self) -> bool:
        """True when part of the prompt was served from the provider's cache."""
        return self.cache_read_tokens > 0

    @property
    def has_cache_write(self) -> bool:
        """True when part of the prompt was written to the provider's cache."""
        return self.cache_write_tokens > 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cache_write_1h_tokens + other.cache_write_1h_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        """The counts as a dict."""
        # Written out rather than dataclasses.asdict, which deep-copies and costs ~5x more
        # on the cache-write path; tests check it still covers every field.
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_write_1h_tokens": self.cache_write_1h_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        """Inverse of :meth:`to_dict`; missing counts are 0."""
        return cls(**{f.name: int(data.get(f.name) or 0) for f in dataclasses.fields(cls)})


@dataclass
class APIResponse:
    """Everything known about one request's outcome, success or failure.

    ``content`` is the assistant :class:`~deluge_ray.prompt.Message` (text, tool calls,
    thinking); ``completion`` is its text. On failure ``is_error`` is true and
    ``error_message`` says why; ``retry_with_different_model`` and
    ``give_up_if_no_other_models`` tell the client how to proceed.
    """

    id: int
    model_internal: str
    prompt: Conversation | dict
    sampling_params: SamplingParams
    status_code: int | None
    is_error: bool | None
    error_message: str | None
    usage: Usage | None = None
    content: Message | None = None
    thinking: str | None = None
    model_external: str | None = None
    region: str | None = None
    logprobs: list | None = None
    finish_reason: str | None = None
    cost: float | None = None
    cache_hit: bool = False
    local_cache_hit: bool = False
    retry_with_different_model: bool | None = False
    give_up_if_no_other_models: bool | None = False
    response_id: str | None = None
    raw_response: dict | None = None
    # deluge_ray additions, set on the final response of an agent loop: why the loop
    # stopped ("no_tool_calls", "max_rounds" or "error") and how many model calls it made.
    loop_stop_reason: str | None = None
    agent_rounds: int | None = None
    # deluge_ray addition: HTTP requests sent for this prompt (retries and 429s included);
    # ``None`` when no request was made by this client (a cache hit, a rebuilt response).
    attempts: int | None = None
    # 0.0.168's fields for Anthropic's code-execution container, its input-transformation
    # metadata and the Responses API's server-side tool loop; deluge_ray sends none of
    # those features, so they stay None.
    container_id: str | None = None
    input_transformations: list[dict] | None = None
    trajectory: Conversation | None = None

    @classmethod
    def from_parsed(
        cls,
        parsed: ParsedResponse,
        *,
        id: int,
        model: APIModel,
        prompt: Conversation | dict,
        sampling_params: SamplingParams,
        status_code: int | None,
    ) -> APIResponse:
        """The response for one parsed provider answer, success or failure.

        A failure gets the flags of :meth:`error`. A success without a cost from the
        parser is priced at ``model``'s rates; without usage it counts zero tokens.
        """
        err = parsed.error
        if err is not None:
            failed = cls.error(
                id=id,
                model=model,
                prompt=prompt,
                sampling_params=sampling_params,
                message=err.message,
                status_code=status_code,
                kind=err.kind,
            )
            failed.usage = parsed.usage
            failed.raw_response = parsed.raw
            return failed
        usage = parsed.usage or Usage()
        cost = parsed.cost
        if cost is None:
            cost = model.cost(
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
                cache_write_1h_tokens=usage.cache_write_1h_tokens,
            )
        return cls(
            id=id,
            model_internal=model.id,
            prompt=prompt,
            sampling_params=sampling_params,
            status_code=status_code,
            is_error=False,
            error_message=None,
            usage=usage,
            content=parsed.content,
            thinking=parsed.thinking,
            model_external=model.name,
            logprobs=parsed.logprobs,
            finish_reason=parsed.finish_reason,
            cost=cost,
            cache_hit=usage.has_cache_hit,
            response_id=parsed.response_id,
            raw_response=parsed.raw,
        )

    @classmethod
    def error(
        cls,
        *,
        id: int,
        model: APIModel | str,
        prompt: Conversation | dict,
        sampling_params: SamplingParams,
        message: str,
        status_code: int | None = None,
        kind: ErrorKind | None = None,
    ) -> APIResponse:
        """A failed request's response; ``model`` is the model (or its id) that was tried.

        The one rule for the flags the client acts on (lm-deluge 0.0.168's):
        ``retry_with_different_model`` when the failure is ``RETRY_OTHER_MODEL``, and
        ``give_up_if_no_other_models`` exactly for HTTP 401, 403 and 404 (the key or model
        is unusable), whichever path (caller actor, streaming, batch job) met the error.

        >>> r = APIResponse.error(id=0, model="m", prompt={}, sampling_params=SamplingParams(),
        ...                       message="HTTP 404: no such model", status_code=404)
        >>> (r.is_error, r.give_up_if_no_other_models)
        (True, True)
        """
        is_id = isinstance(model, str)
        return cls(
            id=id,
            model_internal=model if is_id else model.id,
            prompt=prompt,
            sampling_params=sampling_params,
            status_code=status_code,
            is_error=True,
            error_message=message,
            model_external=None if is_id else model.name,
            retry_with_different_model=kind is ErrorKind.RETRY_OTHER_MODEL,
            give_up_if_no_other_models=status_code in BLOCKLIST_STATUSES,
        )

    @property
    def completion(self) -> str | None:
        """The text of the reply, or ``None`` (an error, or a reply with only tool calls)."""
        return self.content.completion if self.content is not None else None

    @property
    def input_tokens(self) -> int | None:
        """Uncached prompt tokens, or ``None`` without usage."""
        return self.usage.input_tokens if self.usage else None

    @property
    def output_tokens(self) -> int | None:
        """Generated tokens, or ``None`` without usage."""
        return self.usage.output_tokens if self.usage else None

    @property
    def cache_read_tokens(self) -> int | None:
        """Prompt tokens read from the provider's cache, or ``None`` without usage."""
        return self.usage.cache_read_tokens if self.usage else None

    @property
    def cache_write_tokens(self) -> int | None:
        """Prompt tokens written to the provider's cache, or ``None`` without usage."""
        return self.usage.cache_write_tokens if self.usage else None

    def to_dict(self, *, keep_images: bool = False) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` rebuilds the response.

        Images in the prompt and content become the text ``"[image omitted]"`` so logs stay
        small; pass ``keep_images=True`` to keep them (as base64) for an exact round trip.
        The dict is built field by field (no ``dataclasses.asdict``: this is on every cache
        write); ``logprobs`` and ``raw_response`` are shared with the response, not copied.
        """
        prompt: Any = self.prompt
        if not isinstance(prompt, dict):
            prompt = prompt.to_log()
        content = self.content.to_log() if self.content is not None else None
        if not keep_images:
            prompt = _strip_images(prompt)
            content = _strip_images(content)
        usage = self.usage
        return {
            "id": self.id,
            "model_internal": self.model_internal,
            "prompt": prompt,
            "sampling_params": sampling_params_dict(self.sampling_params),
            "status_code": self.status_code,
            "is_error": self.is_error,
            "error_message": self.error_message,
            "usage": usage.to_dict() if usage is not None else None,
            "content": content,
            "thinking": self.thinking,
            "model_external": self.model_external,
            "region": self.region,
            "logprobs": self.logprobs,
            "finish_reason": self.finish_reason,
            "cost": self.cost,
            "cache_hit": self.cache_hit,
            "local_cache_hit": self.local_cache_hit,
            "retry_with_different_model": self.retry_with_different_model,
            "give_up_if_no_other_models": self.give_up_if_no_other_models,
            "response_id": self.response_id,
            "raw_response": self.raw_response,
            "loop_stop_reason": self.loop_stop_reason,
            "agent_rounds": self.agent_rounds,
            "attempts": self.attempts,
            "container_id": self.container_id,
            "input_transformations": self.input_transformations,
            "trajectory": self.trajectory.to_log() if self.trajectory is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> APIResponse:
        """Rebuild a response from :meth:`to_dict` output."""
        from ..prompt import Conversation, Message

        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in fields}
        prompt = kwargs.get("prompt")
        if isinstance(prompt, dict) and "messages" in prompt:
            kwargs["prompt"] = Conversation.from_log(prompt)
        if kwargs.get("content") is not None:
            kwargs["content"] = Message.from_log(kwargs["content"])
        if isinstance(kwargs.get("trajectory"), dict):
            kwargs["trajectory"] = Conversation.from_log(kwargs["trajectory"])
        sp = kwargs.get("sampling_params")
        kwargs["sampling_params"] = SamplingParams(**sp) if isinstance(sp, dict) else sp
        if isinstance(kwargs.get("usage"), dict):
            kwargs["usage"] = Usage.from_dict(kwargs["usage"])
        return cls(**kwargs)


def _get_raw_response(self: APIResponse) -> dict | None:
    state = self.__dict__
    # An object pickled before raw_response became a property keeps it under its own name.
    raw = state["_raw_response"] if "_raw_response" in state else state.get("raw_response")
    if isinstance(raw, bytes):
        raw = json.loads(raw)
        self.__dict__["_raw_response"] = raw
    return raw


def _set_raw_response(self: APIResponse, value: dict | None) -> None:
    self.__dict__["_raw_response"] = value


# ``raw_response`` stays a dataclass field (constructor argument, ``fields()``, equality,
# ``to_dict``), but its storage may hold the provider's undecoded JSON body, parsed on first
# read. Why: a ProviderCaller ships every response to the driver, and a body is one bytes
# object to pickle where its parsed form is a tree of a dozen dicts and lists, each one
# more object for the driver's garbage collector to scan for as long as results are held.
setattr(  # noqa: B010  (assigned after @dataclass has read the field's default)
    APIResponse,
    "raw_response",
    property(
        _get_raw_response,
        _set_raw_response,
        doc="The provider's reply as parsed JSON (decoded on first access), or ``None``.",
    ),
)


def attach_raw_body(response: APIResponse, body: bytes) -> None:
    """Store ``body`` (a JSON object's bytes) as ``response.raw_response``, decoded lazily.

    >>> r = APIResponse(id=0, model_internal="m", prompt={}, sampling_params=SamplingParams(),
    ...                 status_code=200, is_error=False, error_message=None)
    >>> attach_raw_body(r, b'{"id": "chatcmpl-1"}')
    >>> r.raw_response["id"]
    'chatcmpl-1'
    """
    response.__dict__["_raw_response"] = body if type(body) is bytes else bytes(body)


def sampling_params_dict(sp: SamplingParams) -> dict[str, Any]:
    """``SamplingParams.to_dict()`` without ``dataclasses.asdict``'s deep copy (all scalars).

    >>> sampling_params_dict(SamplingParams(temperature=0.5))["temperature"]
    0.5
    """
    return {
        "temperature": sp.temperature,
        "top_p": sp.top_p,
        "json_mode": sp.json_mode,
        "max_new_tokens": sp.max_new_tokens,
        "global_effort": sp.global_effort,
        "verbosity": sp.verbosity,
        "reasoning_effort": sp.reasoning_effort,
        "thinking_budget": sp.thinking_budget,
        "logprobs": sp.logprobs,
        "top_logprobs": sp.top_logprobs,
        "strict_tools": sp.strict_tools,
        "media_resolution": sp.media_resolution,
        "task_budget": sp.task_budget,
    }


def _strip_images(value: Any) -> Any:
    """Replace logged image parts (``{"type": "image", ...}``) by a short text part."""
    if isinstance(value, dict):
        if value.get("type") == "image":
            return {"type": "text", "text": IMAGE_PLACEHOLDER}
        return {k: _strip_images(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_images(v) for v in value]
    return value


def apply_postprocess(
    postprocess: Callable[[APIResponse], APIResponse] | None, response: APIResponse
) -> APIResponse:
    """``postprocess(response)``; if it raises, an error copy of the response saying so."""
    if postprocess is None:
        return response
    try:
        return postprocess(response)
    except Exception as exc:
        failed = copy.copy(response)
        failed.is_error = True
        failed.error_message = (
            f"postprocess raised {type(exc).__name__}: {exc} "
            f"(original status {response.status_code})"
        )
        return failed
