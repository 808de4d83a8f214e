"""The CacheActor: LRU + SQLite persistence without Ray, then as a shared, restartable Ray actor."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from deluge_ray.actors.cache_actor import CacheActor, cache_file_path, get_cache_actor
from deluge_ray.cache import DistributedDictCache
from deluge_ray.cache._sqlite_kv import SqliteKV

from .helpers import assert_same_response, conversation, response

REPO = Path(__file__).resolve().parents[2]


# -- the actor class itself, driven directly on the test's event loop ---------------------


async def test_restarted_store_reloads_every_entry_and_evictions_leave_the_disk(tmp_path):
    path = str(tmp_path / "a.sqlite")
    first = CacheActor("t", path, max_entries=3)
    await first.put_many([("a", b"1"), ("b", b"2"), ("c", b"3")])
    assert await first.get_many(["a"]) == [b"1"]  # "a" is now the most recently used
    await first.put("d", b"4")  # evicts "b", the least recently used
    stats = await first.stats()
    assert (stats["entries"], stats["evictions"], stats["hits"], stats["calls"]) == (3, 1, 1, 3)
    assert stats["bytes"] == 3 * 2
    first._disk.shutdown()  # all writes were awaited, so nothing is pending

    on_disk = SqliteKV(path)
    assert sorted(k for k, _ in on_disk.items()) == ["a", "c", "d"]
    on_disk.close()

    second = CacheActor("t", path, max_entries=3)
    assert await second.get_many(["a", "b", "c", "d"]) == [b"1", None, b"3", b"4"]
    assert (await second.stats())["loaded"] == 3


async def test_a_smaller_bound_on_reload_drops_the_oldest_writes_from_disk(tmp_path):
    path = str(tmp_path / "a.sqlite")
    big = CacheActor("t", path)
    await big.put_many([(f"k{i}", b"x") for i in range(5)])
    small = CacheActor("t", path, max_entries=2)
    assert await small.get_many([f"k{i}" for i in range(5)]) == [None, None, None, b"x", b"x"]
    kv = SqliteKV(path)
    assert len(kv) == 2
    kv.close()


async def test_a_batch_larger_than_the_bound_keeps_only_its_newest_entries(tmp_path):
    path = str(tmp_path / "a.sqlite")
    store = CacheActor("t", path, max_entries=2)
    await store.put_many([("a", b"1"), ("b", b"2"), ("a", b"3"), ("c", b"4")])
    assert await store.get_many(["a", "b", "c"]) == [b"3", None, b"4"]
    kv = SqliteKV(path)
    assert dict(kv.items()) == {"a": b"3", "c": b"4"}
    kv.close()


async def test_clear_empties_memory_and_disk(tmp_path):
    path = str(tmp_path / "a.sqlite")
    store = CacheActor("t", path)
    await store.put_many([("a", b"1")])
    await store.clear()
    assert await store.get("a") is None
    assert await CacheActor("t", path).get("a") is None


def test_default_file_lives_in_the_user_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("DELUGE_RAY_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_file_path("evals") == str(tmp_path / "deluge_ray" / "cache-evals.sqlite")
    monkeypatch.setenv("DELUGE_RAY_CACHE_DIR", str(tmp_path / "mine"))
    odd = cache_file_path("team/a b")
    assert os.path.dirname(odd) == str(tmp_path / "mine")
    assert "/" not in os.path.basename(odd) and odd != cache_file_path("team_a_b")


# -- as a Ray actor ---------------------------------------------------------------------------


@pytest.fixture
def actor_name():
    return f"test-{uuid.uuid4().hex[:8]}"


def test_get_many_of_ten_thousand_prompts_is_one_actor_call(ray_cluster, tmp_path, actor_name):
    handle = get_cache_actor(actor_name, path=tmp_path / "c.sqlite", detached=False)
    cache = DistributedDictCache(handle, "bulk")
    prompts = [conversation(i) for i in range(10_000)]
    template = response(0)
    before = ray_cluster.get(handle.stats.remote())["calls"]
    cache.put_many([(p, template) for p in prompts])
    hits = cache.get_many(prompts)
    stats = ray_cluster.get(handle.stats.remote())
    assert stats["calls"] - before == 2  # one put_many + one get_many
    assert stats["entries"] == 10_000 and stats["hits"] == 10_000
    assert all(h is not None and h.local_cache_hit for h in hits)
    assert hits[1234].prompt is prompts[1234]
    ray_cluster.kill(handle)


def test_same_name_is_the_same_actor(ray_cluster, tmp_path, actor_name):
    a = get_cache_actor(actor_name, path=tmp_path / "c.sqlite", detached=False)
    b = get_cache_actor(actor_name, detached=False)  # options of a later call are ignored
    ray_cluster.get(a.put.remote("k", b"v"))
    assert ray_cluster.get(b.get.remote("k")) == b"v"
    assert ray_cluster.get(b.stats.remote())["path"] == str(tmp_path / "c.sqlite")
    ray_cluster.kill(a)


def _pid(ray, handle) -> int:
    return ray.get(handle.__ray_call__.remote(lambda self: os.getpid()))


def _wait_for_new_process(ray, handle, old_pid: int) -> int:
    """ray.kill is asynchronous: calls may still reach the old process until it is gone."""
    for _ in range(10_000):  # each call blocks while the actor restarts, so this rarely loops
        pid = _pid(ray, handle)
        if pid != old_pid:
            return pid
    raise AssertionError("the actor was never restarted")


def test_killed_mid_run_the_restarted_actor_has_every_entry(ray_cluster, tmp_path, actor_name):
    handle = get_cache_actor(actor_name, path=tmp_path / "c.sqlite", detached=False)
    first_pid = _pid(ray_cluster, handle)
    batches = [[(f"k{b}-{i}", f"v{b}-{i}".encode()) for i in range(100)] for b in range(20)]
    refs = []
    for number, batch in enumerate(batches):
        refs.append(handle.put_many.remote(batch))
        if number == 10:  # writes are in flight on both sides of the kill
            ray_cluster.kill(handle, no_restart=False)
    ray_cluster.get(refs)  # calls caught by the restart are retried on the new actor
    second_pid = _wait_for_new_process(ray_cluster, handle, first_pid)
    keys = [key for batch in batches for key, _ in batch]
    expected = [value for batch in batches for _, value in batch]
    assert ray_cluster.get(handle.get_many.remote(keys)) == expected
    # a kill with no writes in flight: the new process rebuilds everything from its file
    ray_cluster.kill(handle, no_restart=False)
    _wait_for_new_process(ray_cluster, handle, second_pid)
    stats = ray_cluster.get(handle.stats.remote())
    assert stats["loaded"] == 2000 and stats["entries"] == 2000
    assert ray_cluster.get(handle.get_many.remote(keys)) == expected
    ray_cluster.kill(handle)


SECOND_DRIVER = textwrap.dedent(
    """
    import sys
    import ray
    from deluge_ray.actors.cache_actor import get_cache_actor
    from deluge_ray.cache import DistributedDictCache
    from tests.cache.helpers import conversation, response

    address, name = sys.argv[1], sys.argv[2]
    ray.init(address=address, namespace="deluge_ray", log_to_driver=False)
    cache = DistributedDictCache(get_cache_actor(name, detached=False), "shared")
    seen = cache.get_many([conversation(i) for i in range(100)])
    cache.put_many([(conversation(i), response(i)) for i in range(100, 200)])
    print("HITS", sum(r is not None and r.id == i for i, r in enumerate(seen)))
    """
)


def test_two_driver_processes_share_one_cache(ray_cluster, tmp_path, actor_name):
    handle = get_cache_actor(actor_name, path=tmp_path / "c.sqlite", detached=False)
    mine = DistributedDictCache(handle, "shared")
    mine.put_many([(conversation(i), response(i)) for i in range(100)])
    address = ray_cluster.get_runtime_context().gcs_address
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0"}
    done = subprocess.run(
        [sys.executable, "-c", SECOND_DRIVER, address, actor_name],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HITS 100" in done.stdout  # the other driver saw every entry this one wrote
    theirs = mine.get_many([conversation(i) for i in range(100, 200)])
    for i, hit in enumerate(theirs, start=100):
        assert_same_response(hit, response(i), hit.prompt)
        assert hit.prompt.fingerprint == conversation(i).fingerprint
    ray_cluster.kill(handle)


async def test_async_variants_await_the_actor_in_one_call_each(ray_cluster, tmp_path, actor_name):
    handle = get_cache_actor(actor_name, path=tmp_path / "c.sqlite", detached=False)
    cache = DistributedDictCache(handle, "async")
    prompts = [conversation(i) for i in range(50)]
    await cache.aput_many([(p, response(i)) for i, p in enumerate(prompts)])
    hits = await cache.aget_many([*prompts, conversation(999)])
    stats = await handle.stats.remote()
    assert stats["calls"] == 2 and stats["hits"] == 50 and stats["misses"] == 1
    assert hits[-1] is None
    assert_same_response(hits[7], response(7), prompts[7])
    # the blocking variant still works from a coroutine, but says once that it blocks the loop
    with pytest.warns(RuntimeWarning, match="aget_many"):
        assert cache.get(prompts[0]) is not None
    ray_cluster.kill(handle)
