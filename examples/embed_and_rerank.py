"""Semantic search in two stages: embeddings for recall, a reranker for precision.

Runs against the built-in mock provider unless OPENAI_API_KEY and COHERE_API_KEY are set.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import numpy as np

from deluge_ray.embed import embed_parallel_async, stack_results
from deluge_ray.mock import MockProvider, use_mock
from deluge_ray.rerank import rerank_parallel_async

DOCUMENTS = [
    "Ray actors keep state between calls.",
    "Rate limits are enforced per minute by providers.",
    "Embeddings map text to vectors.",
    "A reranker orders documents by relevance to a query.",
    "Bananas are rich in potassium.",
    "Vectors of similar texts point in similar directions.",
]
QUERY = "how do embeddings turn text into vectors"


async def main() -> int:
    real = bool(os.environ.get("OPENAI_API_KEY") and os.environ.get("COHERE_API_KEY"))
    with contextlib.ExitStack() as stack:
        if not real:
            mock = stack.enter_context(MockProvider())
            stack.enter_context(use_mock(mock))
        vectors = np.asarray(
            stack_results(await embed_parallel_async([*DOCUMENTS, QUERY], batch_size=4))
        )
        docs, query = vectors[:-1], vectors[-1]
        similarity = docs @ query / (np.linalg.norm(docs, axis=1) * np.linalg.norm(query))
        candidates = [DOCUMENTS[i] for i in np.argsort(-similarity)[:4]]
        print("embedding recall:", *candidates, sep="\n  ")
        (ranked,) = await rerank_parallel_async([QUERY], [candidates], top_k=2)
    print("reranked top 2:", *ranked.ranked_documents, sep="\n  ")
    return 0 if ranked.ranked_documents else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
