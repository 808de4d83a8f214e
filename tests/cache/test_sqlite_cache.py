"""SqliteCache specifics: sharing one file between processes, closing, pickling."""

from __future__ import annotations

import multiprocessing as mp
import pickle

import pytest

from deluge_ray.cache import SqliteCache
from deluge_ray.errors import CacheError

from .helpers import assert_same_response, conversation, response


def _write_entries(path: str, worker: int, count: int, start) -> None:
    cache = SqliteCache(path, "shared")
    start.wait()  # both processes write at the same time
    for i in range(count):  # one put (one transaction) per entry: the most contended pattern
        n = worker * 10_000 + i
        cache.put(conversation(n), response(n))
    cache.close()


def test_two_processes_writing_at_once_lose_no_entries(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_write_entries, args=(path, w, 500, start)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    with SqliteCache(path, "shared") as cache:
        numbers = [w * 10_000 + i for w in (1, 2) for i in range(500)]
        prompts = [conversation(n) for n in numbers]
        hits = cache.get_many(prompts)
        assert sum(h is not None for h in hits) == 1000
        assert [h.id for h in hits] == numbers
        assert len(cache) == 1000


def test_closed_cache_raises_cache_error_and_close_is_idempotent(tmp_path):
    cache = SqliteCache(tmp_path / "c.sqlite")
    cache.close()
    cache.close()
    with pytest.raises(CacheError, match="closed"):
        cache.get(conversation(1))


def test_context_manager_closes(tmp_path):
    with SqliteCache(tmp_path / "c.sqlite") as cache:
        cache.put(conversation(1), response(1))
    with pytest.raises(CacheError):
        cache.put(conversation(2), response(2))


def test_pickled_cache_reopens_the_same_file(tmp_path):
    cache = SqliteCache(tmp_path / "c.sqlite", "ns", include_request_params=True)
    prompt = conversation(5)
    cache.put(prompt, response(5), request_key="rk")
    copy = pickle.loads(pickle.dumps(cache))
    assert (copy.path, copy.cache_key, copy.include_request_params) == (cache.path, "ns", True)
    assert_same_response(copy.get(prompt, request_key="rk"), response(5), prompt)
    copy.close()
    cache.close()


def test_values_are_compact_msgpack_without_the_prompt(tmp_path):
    long_prompt = conversation(1).user("x" * 20_000)
    with SqliteCache(tmp_path / "c.sqlite") as cache:
        cache.put(long_prompt, response(1, long_prompt))
        (stored,) = cache._kv.get_many([cache.key_for(long_prompt)])
    assert len(stored) < 2_000  # the 20 kB prompt is not duplicated into the entry
