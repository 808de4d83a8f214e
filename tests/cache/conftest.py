"""One fixture per cache backend, so every contract test runs against all of them."""

from __future__ import annotations

import uuid

import pytest

from deluge_ray.cache import DistributedDictCache, LevelDBCache, SqliteCache
from deluge_ray.cache._sqlite_kv import SqliteKV


class SqliteBackend:
    def __init__(self, tmp_path):
        self.path = tmp_path / "responses.sqlite"
        self.opened: list[SqliteCache] = []

    def open(self, cache_key="default", include_request_params=False):
        cache = SqliteCache(self.path, cache_key, include_request_params=include_request_params)
        self.opened.append(cache)
        return cache

    def write_raw(self, cache, key, data):
        kv = SqliteKV(self.path)  # a second connection, as another process would write
        kv.put_many([(key, data)])
        kv.close()

    def teardown(self):
        for cache in self.opened:
            cache.close()


class LevelDBBackend:
    """LevelDB allows one open handle per directory: opening a new view closes the last."""

    def __init__(self, tmp_path):
        self.path = tmp_path / "leveldb"
        self.current: LevelDBCache | None = None

    def open(self, cache_key="default", include_request_params=False):
        self.teardown()
        self.current = LevelDBCache(
            self.path, cache_key, include_request_params=include_request_params
        )
        return self.current

    def write_raw(self, cache, key, data):
        cache._db.put(key.encode(), data)

    def teardown(self):
        if self.current is not None:
            self.current.close()


class DictBackend:
    def __init__(self, tmp_path):
        self.store: dict[str, bytes] = {}

    def open(self, cache_key="default", include_request_params=False):
        return DistributedDictCache(
            self.store, cache_key, include_request_params=include_request_params
        )

    def write_raw(self, cache, key, data):
        self.store[key] = data

    def teardown(self):
        pass


class ActorBackend:
    def __init__(self, tmp_path, ray):
        from deluge_ray.actors.cache_actor import get_cache_actor

        self.ray = ray
        self.handle = get_cache_actor(
            f"test-{uuid.uuid4().hex[:8]}", path=tmp_path / "actor.sqlite", detached=False
        )

    def open(self, cache_key="default", include_request_params=False):
        return DistributedDictCache(
            self.handle, cache_key, include_request_params=include_request_params
        )

    def write_raw(self, cache, key, data):
        self.ray.get(self.handle.put.remote(key, data))

    def teardown(self):
        self.ray.kill(self.handle)


@pytest.fixture(params=["sqlite", "leveldb", "dict", "actor"])
def backend(request, tmp_path):
    """A factory of caches over one storage: ``backend.open(cache_key, include_request_params)``."""
    if request.param == "actor":
        made = ActorBackend(tmp_path, request.getfixturevalue("ray_cluster"))
    else:
        made = {"sqlite": SqliteBackend, "leveldb": LevelDBBackend, "dict": DictBackend}[
            request.param
        ](tmp_path)
    yield made
    made.teardown()
