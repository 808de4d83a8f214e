"""LevelDBCache: responses in a LevelDB directory through plyvel (the ``leveldb`` extra)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

from ..errors import CacheError
from ._base import KeyValueCache

__all__ = ["LevelDBCache"]

_INSTALL_HINT = "LevelDBCache needs plyvel: pip install 'deluge-ray[leveldb]'"


def _import_plyvel() -> Any:
    try:
        import plyvel
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return plyvel


class LevelDBCache(KeyValueCache):
    """Cache responses in the LevelDB directory ``path``; ``None`` uses a temporary one.

    LevelDB allows one process at a time per directory (it holds a lock file); for a
    cache shared by processes use :class:`SqliteCache` or :class:`DistributedDictCache`.
    A temporary directory is deleted by :meth:`close`.

    >>> from deluge_ray.cache import LevelDBCache
    >>> with LevelDBCache() as cache:
    ...     os.path.isdir(cache.path)
    True
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        cache_key: str = "default",
        *,
        include_request_params: bool = False,
    ) -> None:
        plyvel = _import_plyvel()
        self._temporary = path is None
        self.path = (
            tempfile.mkdtemp(prefix="deluge_ray-leveldb-") if path is None else os.fspath(path)
        )
        super().__init__(cache_key, include_request_params=include_request_params)
        self._lock = threading.Lock()
        try:
            self._db: Any = plyvel.DB(self.path, create_if_missing=True)
        except Exception as exc:  # plyvel.IOError when another process holds the lock
            if self._temporary:
                shutil.rmtree(self.path, ignore_errors=True)
            raise CacheError(f"cannot open LevelDB cache {self.path!r}: {exc}") from exc

    def _open_db(self) -> Any:
        if self._db is None:
            raise CacheError(f"LevelDB cache {self.path!r} is closed")
        return self._db

    def _read_many(self, keys: Sequence[str]) -> list[bytes | None]:
        db = self._open_db()
        try:
            return [db.get(k.encode()) for k in keys]
        except RuntimeError as exc:  # closed by another thread meanwhile
            raise CacheError(f"LevelDB cache {self.path!r}: {exc}") from exc

    def _write_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        try:
            # A write batch is applied atomically: a crash never leaves half a batch behind.
            with self._open_db().write_batch() as batch:
                for key, value in items:
                    batch.put(key.encode(), value)
        except RuntimeError as exc:
            raise CacheError(f"LevelDB cache {self.path!r}: {exc}") from exc

    def close(self) -> None:
        """Close the database and delete it if it was temporary. Safe to call twice."""
        with self._lock:
            db, self._db = self._db, None
        if db is not None:
            db.close()
            if self._temporary:
                shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> LevelDBCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LevelDBCache({self.path!r}, cache_key={self.cache_key!r})"
