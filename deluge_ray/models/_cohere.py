"""Cohere's rerank models (``POST {base}/rerank``), used by :mod:`deluge_ray.rerank`.

Cohere bills rerank per *search* (one query with up to 100 documents; list price $2.00 per
1,000 searches for these models), not per token. The registry prices tokens, so the
per-token prices here are zero: reranking costs are not included in deluge_ray's cost
totals. Authentication is a bearer token, as for OpenAI, hence ``api_spec="openai"``.
"""

from __future__ import annotations

from typing import Any

_RERANK = {
    "supports_json": False,
    "supports_tools": False,
    "supports_images": False,
    "is_rerank": True,
}

# USD per 1,000 searches, for reference (see the module docstring).
RERANK_PRICE_PER_1K_SEARCHES = 2.0

COHERE_RERANK_MODELS: dict[str, dict[str, Any]] = {
    "rerank-v3.5": {"name": "rerank-v3.5", **_RERANK},
    "rerank-english-v3.0": {"name": "rerank-english-v3.0", **_RERANK},
    "rerank-multilingual-v3.0": {"name": "rerank-multilingual-v3.0", **_RERANK},
}
