"""SqliteCache: responses in one SQLite file, shared safely by processes and runs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ._base import KeyValueCache
from ._sqlite_kv import SqliteKV

__all__ = ["SqliteCache"]


class SqliteCache(KeyValueCache):
    """Cache responses in the SQLite file at ``path`` (created with its folder if missing).

    The file is in WAL mode with a busy timeout and a retry on "database is locked", so
    several processes (notebooks, Ray tasks on one machine, successive runs) can read and
    write it at once. Values are compact msgpack. Use it as a context manager or call
    :meth:`close`.

    >>> import os, tempfile
    >>> from deluge_ray.cache import SqliteCache
    >>> with SqliteCache(os.path.join(tempfile.mkdtemp(), "llm.sqlite"), "evals") as cache:
    ...     cache.cache_key
    'evals'
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        cache_key: str = "default",
        *,
        include_request_params: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        super().__init__(cache_key, include_request_params=include_request_params)
        self._kv = SqliteKV(self.path)

    def _read_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return self._kv.get_many(keys)

    def _write_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        self._kv.put_many(items)

    def __len__(self) -> int:
        """Entries in the file, across every ``cache_key`` namespace."""
        return len(self._kv)

    def close(self) -> None:
        """Close the file; the cache cannot be used afterwards. Safe to call twice."""
        self._kv.close()

    def __enter__(self) -> SqliteCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteCache({self.path!r}, cache_key={self.cache_key!r})"

    # Pickling would copy an open connection; reopen the same file in the new process.
    def __reduce__(self) -> Any:
        return (
            _reopen_sqlite,
            (self.path, self.cache_key, self.include_request_params),
        )


def _reopen_sqlite(path: str, cache_key: str, include_request_params: bool) -> SqliteCache:
    return SqliteCache(path, cache_key, include_request_params=include_request_params)
