"""The LRU index behind the CacheActor: order, bounds by entries and bytes, counters."""

from __future__ import annotations

import pytest

from deluge_ray.cache._lru import LRUIndex
from deluge_ray.errors import ConfigurationError


def test_reads_refresh_recency_and_the_oldest_entry_is_evicted():
    lru = LRUIndex(max_entries=3)
    assert lru.put_many([("a", b"1"), ("b", b"2"), ("c", b"3")]) == []
    assert lru.get_many(["a", "zz"]) == [b"1", None]
    assert lru.put_many([("d", b"4")]) == ["b"]
    assert lru.put_many([("e", b"5")]) == ["c"]
    assert "a" in lru and "b" not in lru
    assert (lru.hits, lru.misses, lru.evictions, len(lru)) == (1, 1, 2, 3)


def test_byte_bound_counts_keys_and_values_and_replacement_does_not_double_count():
    lru = LRUIndex(max_bytes=10)
    lru.put_many([("a", b"1234"), ("b", b"1234")])  # 5 + 5 bytes
    assert lru.bytes == 10
    assert lru.put_many([("a", b"12")]) == []  # replace: 3 + 5 bytes
    assert lru.bytes == 8
    assert lru.put_many([("c", b"123")]) == ["b"]  # 8 + 4 > 10: the oldest ("b") goes
    assert lru.bytes == 7


def test_an_entry_larger_than_the_bound_is_evicted_at_once():
    lru = LRUIndex(max_bytes=4)
    assert lru.put_many([("big", b"123456")]) == ["big"]
    assert len(lru) == 0 and lru.bytes == 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_bounds_must_be_positive_ints(bad):
    with pytest.raises(ConfigurationError):
        LRUIndex(max_entries=bad)
    with pytest.raises(ConfigurationError):
        LRUIndex(max_bytes=bad)


def test_entries_must_be_str_and_bytes():
    with pytest.raises(TypeError):
        LRUIndex().put_many([("a", "not bytes")])
