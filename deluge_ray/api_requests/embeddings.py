"""OpenAI embeddings (``POST {base}/embeddings``): pure build and parse.

>>> from deluge_ray.models import get_model
>>> spec = build_embedding_request(get_model("text-embedding-3-small"), ["a", "b"], api_key=None)
>>> (spec.url, spec.json["input"])
('https://api.openai.com/v1/embeddings', ['a', 'b'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError
from ..models import APIModel
from ._common import ApiKey, auth_headers, cost_of, deep_merge, finish_headers, load_json
from ._errors import classify_error
from ._types import ErrorInfo, RequestSpec
from .response import Usage

__all__ = ["EmbeddingResult", "build_embedding_request", "parse_embedding_response"]

# OpenAI's per-request limit on the number of inputs.
MAX_INPUTS = 2048


@dataclass
class EmbeddingResult:
    """Vectors in input order, with usage and cost; or ``error`` when the call failed."""

    embeddings: list[list[float]] | None = None
    usage: Usage | None = None
    cost: float | None = None
    error: ErrorInfo | None = None

    @property
    def is_error(self) -> bool:
        """True when the request failed."""
        return self.error is not None


def build_embedding_request(
    model: APIModel,
    texts: list[str],
    *,
    dimensions: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
    extra_body: Mapping[str, Any] | None = None,
    api_key: ApiKey,
    base_url: str | None = None,
) -> RequestSpec:
    """One embeddings request for up to 2048 non-empty ``texts``."""
    if model.api_spec != "openai":
        raise ConfigurationError(
            f"Embeddings use the OpenAI wire format; {model.id} speaks {model.api_spec!r}."
        )
    if not texts or len(texts) > MAX_INPUTS:
        raise ConfigurationError(
            f"An embeddings request takes 1 to {MAX_INPUTS} texts, got {len(texts)}; split the batch."
        )
    empty = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t]
    if empty:
        raise ConfigurationError(
            f"Embedding inputs must be non-empty strings; bad items at indexes {empty[:10]}."
        )
    body: dict[str, Any] = {"model": model.name, "input": list(texts), "encoding_format": "float"}
    if dimensions is not None:
        body["dimensions"] = dimensions
    url = f"{(base_url or model.resolved_base_url()).rstrip('/')}/embeddings"
    headers = finish_headers(auth_headers("openai", api_key), [], extra_headers)
    return RequestSpec("POST", url, headers, deep_merge(body, extra_body))


def parse_embedding_response(
    model: APIModel, status: int, headers: Mapping[str, str] | None, body: bytes
) -> EmbeddingResult:
    """Vectors (sorted back into input order by their ``index``), usage and cost."""
    data = load_json(body) if 200 <= status < 300 else None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return EmbeddingResult(error=classify_error(status, headers, body))
    ordered = sorted(items, key=lambda item: item.get("index", 0))
    usage = Usage(input_tokens=int((data.get("usage") or {}).get("prompt_tokens") or 0))
    return EmbeddingResult(
        embeddings=[item["embedding"] for item in ordered],
        usage=usage,
        cost=cost_of(model, usage),
    )
