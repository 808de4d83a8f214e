"""OpenAI ``POST /v1/embeddings`` and Cohere-style ``POST /v1/rerank``.

Vectors are deterministic: the same text always maps to the same unit vector, so caches
and similarity code can be tested; different texts get (almost) orthogonal vectors.

    >>> a, b = embed_text("hi", 8), embed_text("hi", 8)
    >>> a == b and abs(sum(x * x for x in a) - 1) < 1e-6
    True
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from typing import Any

import numpy as np

from .._tokens import count_text_tokens
from ._validate import MockHTTPError, optional, positive_int, require

__all__ = ["embed_text", "embeddings", "rerank"]


def embed_text(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector of length ``dimensions`` for ``text``."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dimensions).astype(np.float32)
    vector /= np.linalg.norm(vector) or 1.0
    return vector.tolist()


def _inputs(body: dict[str, Any]) -> list[str]:
    raw = require(body, "input", (str, list))
    items = [raw] if isinstance(raw, str) else raw
    if not items:
        raise MockHTTPError(400, "'input' must not be empty.", param="input", code="empty_array")
    texts = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            texts.append(str(item))  # a pre-tokenised input (array of token ids)
        elif isinstance(item, list) and all(isinstance(t, int) for t in item):
            texts.append(" ".join(map(str, item)))
        else:
            raise MockHTTPError(
                400,
                f"Invalid type for 'input[{i}]': expected a string or an array of token ids.",
                param=f"input[{i}]",
                code="invalid_type",
            )
    if isinstance(raw, list) and all(isinstance(t, int) for t in raw):
        texts = [" ".join(map(str, raw))]
    return texts


def embeddings(body: dict[str, Any], default_dimensions: int) -> tuple[str, dict[str, Any], int]:
    """Validate an embeddings body; return ``(model, payload, input_tokens)``."""
    model = require(body, "model", str)
    texts = _inputs(body)
    dimensions = positive_int(body, "dimensions") or default_dimensions
    encoding = optional(body, "encoding_format", str) or "float"
    if encoding not in ("float", "base64"):
        raise MockHTTPError(
            400,
            f"Invalid value for 'encoding_format': {encoding!r}. Use 'float' or 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    data = []
    for index, text in enumerate(texts):
        vector: Any = embed_text(text, dimensions)
        if encoding == "base64":
            vector = base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
        data.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(count_text_tokens(t, model) for t in texts)
    payload = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return model, payload, tokens


_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def rerank(body: dict[str, Any]) -> tuple[str, dict[str, Any], int]:
    """Score documents by word overlap with the query (Jaccard); Cohere's response shape."""
    model = require(body, "model", str)
    query = require(body, "query", str)
    documents = require(body, "documents", list)
    texts = []
    for i, doc in enumerate(documents):
        if isinstance(doc, dict) and isinstance(doc.get("text"), str):
            texts.append(doc["text"])
        elif isinstance(doc, str):
            texts.append(doc)
        else:
            raise MockHTTPError(
                400,
                f"documents[{i}] must be a string or an object with a 'text' string.",
                param=f"documents[{i}]",
            )
    top_n = positive_int(body, "top_n") or len(texts)
    query_words = _words(query)
    scored = []
    for index, text in enumerate(texts):
        words = _words(text)
        union = query_words | words
        score = len(query_words & words) / len(union) if union else 0.0
        scored.append({"index": index, "relevance_score": round(score, 6)})
    scored.sort(key=lambda r: (-r["relevance_score"], r["index"]))
    tokens = count_text_tokens(query, model) + sum(count_text_tokens(t, model) for t in texts)
    payload = {
        "id": str(uuid.uuid4()),
        "results": scored[:top_n],
        "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
    }
    return model, payload, tokens
