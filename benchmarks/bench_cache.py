"""Cache throughput: get/put entries per second for each cache, and the CacheActor's batching.

Run:  python benchmarks/bench_cache.py [--entries 5000] [--out benchmarks/results/cache.json]

For SqliteCache, LevelDBCache, DistributedDictCache over a dict and over a CacheActor it
times ``put_many``/``get_many`` of the whole set (the client's path) and one-at-a-time
``put``/``get`` over a slice. For the CacheActor alone it compares one ``get_many`` of a
batch of keys with one actor call per key (awaited one by one, and all submitted at once).
Times include encoding/decoding full responses (text, a tool call, thinking, usage).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from deluge_ray.api_requests.response import APIResponse, Usage
from deluge_ray.cache import DistributedDictCache, LevelDBCache, SqliteCache
from deluge_ray.config import SamplingParams
from deluge_ray.prompt import Conversation, Message, Text, Thinking, ToolCall


def make_items(n: int) -> list[tuple[Conversation, APIResponse]]:
    """``n`` distinct prompts with realistic responses (about 600 bytes stored each)."""
    items = []
    for i in range(n):
        prompt = Conversation.system("Answer briefly.").user(f"Summarise document {i}.")
        content = Message(
            "assistant",
            [
                Thinking(f"Document {i} is about caching.", signature=f"sig{i}"),
                Text(f"Document {i} explains why the second run is free."),
                ToolCall(f"call_{i}", "save_summary", {"doc": i, "tags": ["cache", "ray"]}),
            ],
        )
        response = APIResponse(
            id=i,
            model_internal="gpt-4.1-mini",
            prompt=prompt,
            sampling_params=SamplingParams(),
            status_code=200,
            is_error=False,
            error_message=None,
            usage=Usage(input_tokens=42, output_tokens=17),
            content=content,
            finish_reason="stop",
            cost=0.00004,
        )
        items.append((prompt, response))
    return items


def rate(count: int, run: Callable[[], Any]) -> float:
    """Entries per second of ``run``, which handles ``count`` entries."""
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def bench_cache(cache: Any, items: list[tuple[Conversation, APIResponse]], single: int) -> dict:
    prompts = [p for p, _ in items]
    out = {
        "put_many_per_s": rate(len(items), lambda: cache.put_many(items)),
        "get_many_per_s": rate(len(items), lambda: cache.get_many(prompts)),
    }
    hits = cache.get_many(prompts)
    assert all(h is not None for h in hits), "benchmark cache lost entries"
    fresh = make_items(len(items) + single)[len(items) :]

    def put_each() -> None:
        for p, r in fresh:
            cache.put(p, r)

    def get_each() -> None:
        for p in prompts[:single]:
            cache.get(p)

    out["put_one_at_a_time_per_s"] = rate(single, put_each)
    out["get_one_at_a_time_per_s"] = rate(single, get_each)
    return {k: round(v) for k, v in out.items()}


def bench_actor_batching(ray: Any, handle: Any, keys: int) -> dict:
    """Per-key cost of one batched call versus one call per key."""
    names = [f"k{i}" for i in range(keys)]
    ray.get(handle.put_many.remote([(k, b"x" * 600) for k in names]))

    start = time.perf_counter()
    ray.get(handle.get_many.remote(names))
    batched = time.perf_counter() - start

    start = time.perf_counter()
    for k in names:
        ray.get(handle.get.remote(k))
    sequential = time.perf_counter() - start

    start = time.perf_counter()
    ray.get([handle.get.remote(k) for k in names])
    pipelined = time.perf_counter() - start
    return {
        "keys": keys,
        "batched_get_many_total_ms": round(batched * 1000, 2),
        "batched_us_per_key": round(batched / keys * 1e6, 2),
        "unbatched_awaited_each_us_per_key": round(sequential / keys * 1e6, 2),
        "unbatched_all_submitted_us_per_key": round(pipelined / keys * 1e6, 2),
        "speedup_batched_vs_awaited_each": round(sequential / batched, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--single", type=int, default=500, help="entries for one-at-a-time runs")
    parser.add_argument("--actor-keys", type=int, default=2000)
    parser.add_argument("--out", default=os.path.join("benchmarks", "results", "cache.json"))
    args = parser.parse_args()

    import ray

    from deluge_ray.actors.cache_actor import get_cache_actor

    items = make_items(args.entries)
    workdir = tempfile.mkdtemp(prefix="bench-cache-")
    results: dict[str, Any] = {}
    try:
        with SqliteCache(os.path.join(workdir, "c.sqlite")) as cache:
            results["SqliteCache"] = bench_cache(cache, items, args.single)
        with LevelDBCache(os.path.join(workdir, "leveldb")) as cache:
            results["LevelDBCache"] = bench_cache(cache, items, args.single)
        results["DistributedDictCache(dict)"] = bench_cache(
            DistributedDictCache({}), items, args.single
        )

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="deluge_ray")
        handle = get_cache_actor(
            f"bench-{uuid.uuid4().hex[:6]}", path=os.path.join(workdir, "a.sqlite"), detached=False
        )
        results["DistributedDictCache(CacheActor)"] = bench_cache(
            DistributedDictCache(handle), items, args.single
        )
        ray.kill(handle)
        raw = get_cache_actor(
            f"bench-raw-{uuid.uuid4().hex[:6]}",
            path=os.path.join(workdir, "b.sqlite"),
            detached=False,
        )
        results["CacheActor_batching"] = bench_actor_batching(ray, raw, args.actor_keys)
        ray.kill(raw)
        ray.shutdown()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    report = {
        "benchmark": "bench_cache",
        "entries": args.entries,
        "one_at_a_time_entries": args.single,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "note": "entries/s include msgpack encode/decode of full APIResponses; "
        "the machine was shared with other jobs while this ran",
        "results": results,
    }
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
