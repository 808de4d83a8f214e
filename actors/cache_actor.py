"""CacheActor: one named key/value store for a whole Ray cluster, persisted to SQLite.

It is the backend of ``DistributedDictCache``: every driver, notebook and job that asks
:func:`get_cache_actor` for the same name gets the same actor. Entries live in memory
(a least-recently-used map, optionally bounded) and every write is committed to a SQLite
file before the call returns, so an actor restarted by Ray (``max_restarts=-1``) reloads
every entry. Calls are batched: ``get_many``/``put_many`` of a whole batch of prompts is
one round trip.

Placement and shared storage. Like the RateLimiter, the actor is created on the head node
by default (``DELUGE_RAY_CONTROL_NODE`` or ``placement=`` override it, see
:mod:`deluge_ray.actors._placement`). If its node is lost anyway, Ray restarts it on
another node, where it reads its SQLite file again: on a multi-node cluster give ``path``
a directory every node mounts (NFS, EFS, Filestore, a shared ``hostPath``), or the new
instance starts empty. One actor writes the file at a time, so SQLite on NFS is safe here.

Example (needs a running Ray)::

    from deluge_ray.actors.cache_actor import get_cache_actor
    from deluge_ray.cache import DistributedDictCache

    cache = DistributedDictCache(get_cache_actor("evals"), cache_key="run-1")
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ray

from deluge_ray._constants import RAY_NAMESPACE
from deluge_ray.actors._placement import control_placement
from deluge_ray.cache._lru import LRUIndex
from deluge_ray.cache._sqlite_kv import SqliteKV

__all__ = ["CacheActor", "cache_file_path", "get_cache_actor"]

# Where actors keep their files when no path is given (read on the actor's node).
CACHE_DIR_ENV_VAR = "DELUGE_RAY_CACHE_DIR"


def cache_file_path(name: str) -> str:
    """The default SQLite file of the cache called ``name`` on this machine.

    ``$DELUGE_RAY_CACHE_DIR``, else ``$XDG_CACHE_HOME/deluge_ray``, else
    ``~/.cache/deluge_ray``; the file is ``cache-{name}.sqlite`` with unsafe characters
    replaced (and a short hash added so that different names never share a file).

    >>> cache_file_path("evals").endswith("cache-evals.sqlite")
    True
    """
    base = os.environ.get(CACHE_DIR_ENV_VAR) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "deluge_ray",
    )
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    if safe != name:
        safe = f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return os.path.join(base, f"cache-{safe}.sqlite")


class CacheActor:
    """The store behind a named cache actor (a plain class; Ray wraps it in :func:`get_cache_actor`).

    Methods are ``async`` so the actor serves many drivers at once; SQLite commits run on
    one worker thread, in the order the writes were made, so the event loop never waits
    for the disk.
    """

    def __init__(
        self,
        name: str,
        path: str | None = None,
        max_entries: int | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.name = name
        self.path = path or cache_file_path(name)
        self._index = LRUIndex(max_entries=max_entries, max_bytes=max_bytes)
        self._file = SqliteKV(self.path)
        # Reload oldest write first, so the LRU order after a restart follows write order.
        dropped = self._index.put_many(self._file.items())
        if dropped:  # the bound shrank since the file was written
            self._file.put_many([], delete=dropped)
        self._index.evictions = 0
        self._loaded = len(self._index)
        self._calls = 0
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-actor-sqlite")

    async def get(self, key: str) -> bytes | None:
        """The value stored under ``key``, or ``None``."""
        self._calls += 1
        return self._index.get_many([key])[0]

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The value (or ``None``) of each key, in order: one call for a whole batch."""
        self._calls += 1
        return self._index.get_many(keys)

    async def put(self, key: str, value: bytes) -> None:
        """Store one entry; returns once it is on disk."""
        self._calls += 1
        await self._write([(key, value)])

    async def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Store many entries in one SQLite transaction; returns once they are on disk."""
        self._calls += 1
        await self._write(items)

    async def _write(self, items: Sequence[tuple[str, bytes]]) -> None:
        # Memory first (so a get issued after this put sees it), then the disk. The single
        # worker thread applies commits in submission order, so a later eviction of a key
        # can never be overtaken by its earlier insert.
        evicted = self._index.put_many(items)
        latest = dict(items)
        keep = [(k, v) for k, v in latest.items() if k in self._index]
        gone = [k for k in dict.fromkeys(evicted) if k not in self._index]
        if keep or gone:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._disk, self._file.put_many, keep, gone)

    async def clear(self) -> None:
        """Remove every entry, from memory and from disk."""
        self._calls += 1
        self._index.clear()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._disk, self._wipe_file)

    def _wipe_file(self) -> None:
        self._file.put_many([], [k for k, _ in self._file.items()])

    async def stats(self) -> dict[str, Any]:
        """Entries, bytes, hits, misses, evictions, calls served and where the file is.

        ``calls`` counts get/get_many/put/put_many/clear calls since this actor (re)started;
        ``loaded`` is how many entries it reloaded from disk when it started.
        """
        return {
            "name": self.name,
            "path": self.path,
            "entries": len(self._index),
            "bytes": self._index.bytes,
            "hits": self._index.hits,
            "misses": self._index.misses,
            "evictions": self._index.evictions,
            "calls": self._calls,
            "loaded": self._loaded,
            "max_entries": self._index.max_entries,
            "max_bytes": self._index.max_bytes,
        }


def get_cache_actor(
    name: str,
    *,
    path: str | os.PathLike[str] | None = None,
    max_entries: int | None = None,
    max_bytes: int | None = None,
    detached: bool = True,
    placement: str | None = None,
) -> Any:
    """Get the cache actor called ``name``, creating it if no one has yet.

    The actor is named ``cache:{name}`` in the ``deluge_ray`` namespace, so every driver
    on the cluster that passes the same name shares it. ``path``, ``max_entries`` and
    ``max_bytes`` apply only when this call creates it. ``detached=True`` (the default)
    keeps it alive after this driver exits, as a cache shared by jobs should be; remove
    it with ``ray.kill(handle)``. ``placement`` (``"head"``, ``"any"``, ``"resource:NAME"`` or a node id) says
    where a new actor goes; ``None`` reads ``DELUGE_RAY_CONTROL_NODE`` (default: the head
    node). Returns an ``ActorHandle`` for
    :class:`~deluge_ray.cache.DistributedDictCache`.

    >>> handle = get_cache_actor("evals", max_entries=1_000_000)  # doctest: +SKIP
    """
    if not isinstance(name, str) or not name:
        raise TypeError("a cache actor needs a non-empty str name")
    LRUIndex(max_entries=max_entries, max_bytes=max_bytes)  # validate here, not in the actor
    # A relative path means "relative to me", not to the actor's working directory.
    resolved = os.path.abspath(os.path.expanduser(os.fspath(path))) if path is not None else None
    options: dict[str, Any] = {
        "name": f"cache:{name}",
        "namespace": RAY_NAMESPACE,
        "get_if_exists": True,
        "num_cpus": 0,
        "max_restarts": -1,
        # Calls caught by a restart are re-sent to the new actor, however long it takes
        # Ray to notice a lost node; every method is idempotent.
        "max_task_retries": -1,
        **control_placement(placement),
    }
    if detached:
        options["lifetime"] = "detached"
    return _RemoteCacheActor.options(**options).remote(name, resolved, max_entries, max_bytes)


_RemoteCacheActor = ray.remote(CacheActor)
