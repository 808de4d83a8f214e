"""The SQLite key/value layer: batch reads and writes, write order, sharing between processes."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest

from deluge_ray.cache._sqlite_kv import SqliteKV
from deluge_ray.errors import CacheError


def test_put_many_then_get_many_keeps_order_and_reports_misses(tmp_path):
    kv = SqliteKV(tmp_path / "kv.sqlite")
    kv.put_many([(f"k{i}", str(i).encode()) for i in range(1200)])  # spans several IN(...) chunks
    keys = ["missing", "k5", "k1199", "k5", "k0"]
    assert kv.get_many(keys) == [None, b"5", b"1199", b"5", b"0"]
    assert len(kv) == 1200
    kv.close()


def test_file_is_in_wal_mode_and_survives_reopen(tmp_path):
    path = tmp_path / "sub" / "kv.sqlite"  # the folder is created
    kv = SqliteKV(path)
    kv.put_many([("a", b"1")])
    kv.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = SqliteKV(path)
    assert again.get_many(["a"]) == [b"1"]
    again.close()


def test_items_come_back_oldest_write_first_and_deletes_apply(tmp_path):
    kv = SqliteKV(tmp_path / "kv.sqlite")
    kv.put_many([("a", b"1"), ("b", b"2"), ("c", b"3")])
    kv.put_many([("a", b"4")], delete=["b"])  # rewriting "a" makes it the newest
    assert list(kv.items()) == [("c", b"3"), ("a", b"4")]
    kv.close()


def test_closed_store_raises_cache_error(tmp_path):
    kv = SqliteKV(tmp_path / "kv.sqlite")
    kv.close()
    kv.close()  # idempotent
    with pytest.raises(CacheError, match="closed"):
        kv.get_many(["a"])


def test_unopenable_path_raises_cache_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CacheError):
        SqliteKV(blocker / "kv.sqlite")  # parent is a file


def _writer(path: str, worker: int, count: int, start) -> None:
    kv = SqliteKV(path)
    start.wait()
    for i in range(count):  # one transaction per entry: the most contended pattern
        kv.put_many([(f"w{worker}-{i}", f"{worker}:{i}".encode())])
    kv.close()


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(path, w, 500, start)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    kv = SqliteKV(path)
    keys = [f"w{w}-{i}" for w in range(2) for i in range(500)]
    values = kv.get_many(keys)
    assert values == [f"{w}:{i}".encode() for w in range(2) for i in range(500)]
    assert len(kv) == 1000
    kv.close()
