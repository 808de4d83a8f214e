"""A str → bytes store in one SQLite file that several processes can share.

Used by :class:`SqliteCache` and by the CacheActor's persistence. The file is in WAL
mode, so readers never wait for a writer; writers take the lock up front
(``BEGIN IMMEDIATE``) and wait for each other through SQLite's busy timeout, with a
bounded retry on top because some "database is locked" errors skip the busy handler
(e.g. while another process switches the file to WAL).
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from ..errors import CacheError

__all__ = ["SqliteKV"]

T = TypeVar("T")

# SQLite's default limit on host parameters was 999 before 3.32; stay under it everywhere.
_CHUNK = 500
_BUSY_TIMEOUT_S = 10.0
_LOCK_RETRIES = 20


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class SqliteKV:
    """Keys and values in table ``cache`` of the SQLite file at ``path``.

    Thread-safe (one connection behind a lock) and process-safe (SQLite file locking).
    Each ``put_many`` is a single transaction; rows come back from :meth:`items` in the
    order they were last written, which the CacheActor uses to rebuild its LRU order.

    >>> import tempfile, os
    >>> kv = SqliteKV(os.path.join(tempfile.mkdtemp(), "kv.sqlite"))
    >>> kv.put_many([("a", b"1"), ("b", b"2")])
    >>> kv.get_many(["a", "zz", "b"])
    [b'1', None, b'2']
    >>> kv.close()
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so each write is
            # exactly one transaction; check_same_thread=False: guarded by self._lock.
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path,
                timeout=_BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"cannot open SQLite cache file {self.path!r}: {exc}") from exc
        try:
            self._retry(self._setup)
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        conn = self._connection()
        conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable against process crashes in WAL mode (only an OS crash can lose
        # the last commits), and far cheaper than FULL's fsync per transaction.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value BLOB NOT NULL)")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise CacheError(f"SQLite cache {self.path!r} is closed")
        return self._conn

    def _retry(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` under the lock, retrying "database is locked" with backoff."""
        delay = 0.01
        for attempt in range(_LOCK_RETRIES + 1):
            try:
                with self._lock:
                    return operation()
            except sqlite3.OperationalError as exc:
                if not _is_lock_error(exc) or attempt == _LOCK_RETRIES:
                    raise CacheError(f"SQLite cache {self.path!r}: {exc}") from exc
            except sqlite3.Error as exc:
                raise CacheError(f"SQLite cache {self.path!r}: {exc}") from exc
            # Jitter keeps several processes that collided from colliding again in step.
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The value of each key (``None`` where absent), in the order of ``keys``."""
        if not keys:
            return []

        def read() -> dict[str, bytes]:
            conn = self._connection()
            found: dict[str, bytes] = {}
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(f"SELECT key, value FROM cache WHERE key IN ({marks})", chunk)
                found.update(rows)
            return found

        found = self._retry(read)
        return [found.get(k) for k in keys]

    def put_many(self, items: Iterable[tuple[str, bytes]], delete: Iterable[str] = ()) -> None:
        """Write ``items`` and remove the keys in ``delete``, all in one transaction."""
        rows = list(items)
        gone = [(k,) for k in delete]
        if not rows and not gone:
            return

        def write() -> None:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                if rows:
                    conn.executemany(
                        "INSERT OR REPLACE INTO cache (key, value) VALUES (?, ?)", rows
                    )
                if gone:
                    conn.executemany("DELETE FROM cache WHERE key = ?", gone)
                conn.execute("COMMIT")
            except BaseException:
                # Leave no transaction open: the retry (or the next caller) starts afresh.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        self._retry(write)

    def items(self) -> Iterator[tuple[str, bytes]]:
        """Every (key, value), oldest write first (REPLACE gives a rewritten row a new rowid)."""
        rows = self._retry(
            lambda: (
                self._connection().execute("SELECT key, value FROM cache ORDER BY rowid").fetchall()
            )
        )
        return iter(rows)

    def __len__(self) -> int:
        return self._retry(
            lambda: self._connection().execute("SELECT COUNT(*) FROM cache").fetchone()[0]
        )

    def close(self) -> None:
        """Close the connection; further use raises :class:`CacheError`. Idempotent."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._conn is None
