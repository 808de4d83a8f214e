"""Provider wire formats: pure functions from a conversation to an HTTP request and from an
HTTP answer back to a result. No I/O happens here; the ProviderCaller actor sends the
:class:`RequestSpec` and hands the answer to :func:`parse_response`.

    >>> from deluge_ray.prompt import Conversation
    >>> from deluge_ray.models import get_model
    >>> spec = build_request(get_model("claude-4.5-haiku"), Conversation().user("Hi"),
    ...                      SamplingParams(), api_key=None)
    >>> spec.url
    'https://api.anthropic.com/v1/messages'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import SamplingParams
from ..errors import ConfigurationError
from ..models import APIModel
from ..prompt import Conversation
from . import anthropic, gemini, openai, openai_responses
from ._common import ApiKey
from ._errors import classify_error
from ._types import ErrorInfo, ErrorKind, ParsedResponse, RequestSpec
from .embeddings import EmbeddingResult, build_embedding_request, parse_embedding_response
from .response import APIResponse, Usage

__all__ = [
    "APIResponse",
    "EmbeddingResult",
    "ErrorInfo",
    "ErrorKind",
    "ParsedResponse",
    "RequestSpec",
    "Usage",
    "build_embedding_request",
    "build_request",
    "classify_error",
    "parse_embedding_response",
    "parse_response",
    "to_api_response",
]


def _module(model: APIModel, use_responses_api: bool) -> Any:
    if model.api_spec == "openai":
        return openai_responses if use_responses_api else openai
    if use_responses_api:
        raise ConfigurationError(
            f"use_responses_api=True needs an OpenAI model; {model.id} speaks {model.api_spec!r}."
        )
    if model.api_spec == "anthropic":
        return anthropic
    if model.api_spec == "gemini":
        return gemini
    raise ConfigurationError(f"Model {model.id} has unknown api_spec {model.api_spec!r}.")


def build_request(
    model: APIModel,
    conversation: Conversation,
    sampling_params: SamplingParams,
    *,
    tools: list[Any] | None = None,
    output_schema: Any = None,
    cache_pattern: str | None = None,
    service_tier: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    extra_body: Mapping[str, Any] | None = None,
    use_responses_api: bool = False,
    background: bool = False,
    api_key: ApiKey,
    base_url: str | None = None,
) -> RequestSpec:
    """The HTTP request for ``conversation`` on ``model``'s wire format.

    ``api_key`` is a :class:`~deluge_ray._secrets.Secret` (or ``None`` for a keyless
    server); ``base_url`` defaults to ``model.resolved_base_url()``. ``background`` is only
    valid with ``use_responses_api=True``.
    """
    if background and not use_responses_api:
        raise ConfigurationError(
            "background=True is only valid with use_responses_api=True on an OpenAI model."
        )
    return _module(model, use_responses_api).build_request(
        model,
        conversation,
        sampling_params,
        tools=tools,
        output_schema=output_schema,
        cache_pattern=cache_pattern,
        service_tier=service_tier,
        extra_headers=extra_headers,
        extra_body=extra_body,
        background=background,
        api_key=api_key,
        base_url=base_url,
    )


def parse_response(
    model: APIModel,
    status: int,
    headers: Mapping[str, str] | None,
    body: bytes,
    *,
    use_responses_api: bool = False,
) -> ParsedResponse:
    """Parse any answer (success or error) from ``model``'s wire format."""
    return _module(model, use_responses_api).parse_response(model, status, headers, body)


def to_api_response(
    parsed: ParsedResponse,
    *,
    id: int,
    model: APIModel,
    prompt: Conversation,
    sampling_params: SamplingParams,
    status_code: int | None,
) -> APIResponse:
    """The :class:`APIResponse` a user sees for one parsed answer.

    Kept for its callers; it is :meth:`APIResponse.from_parsed` (where the flag rules are).
    """
    return APIResponse.from_parsed(
        parsed,
        id=id,
        model=model,
        prompt=prompt,
        sampling_params=sampling_params,
        status_code=status_code,
    )
