"""The SQLite key/value layer: batch reads and writes, write order, sharing between processes."""

from __future__ import annotations

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
