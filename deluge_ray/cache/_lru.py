"""A size-bounded, least-recently-used map of str → bytes with hit/miss/eviction counts.

Pure and synchronous: the CacheActor keeps its entries in one of these and mirrors the
writes and evictions it reports to disk.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from ..errors import ConfigurationError

__all__ = ["LRUIndex"]


def _check_bound(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive int or None, got {value!r}")
    return value


class LRUIndex:
    """Entries in least-recently-used order, evicted past ``max_entries`` or ``max_bytes``.

    An entry's size is ``len(key) + len(value)``. Reads move an entry to the
    most-recently-used end; writes report which keys they pushed out.

    >>> lru = LRUIndex(max_entries=2)
    >>> lru.put_many([("a", b"1"), ("b", b"2")])
    []
    >>> lru.get_many(["a"])  # "a" is now the most recently used
    [b'1']
    >>> lru.put_many([("c", b"3")])
    ['b']
    """

    def __init__(self, max_entries: int | None = None, max_bytes: int | None = None) -> None:
        self.max_entries = _check_bound("max_entries", max_entries)
        self.max_bytes = _check_bound("max_bytes", max_bytes)
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The value of each key or ``None``; found keys become most recently used."""
        out: list[bytes | None] = []
        entries = self._entries
        for key in keys:
            value = entries.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
                entries.move_to_end(key)
            out.append(value)
        return out

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> list[str]:
        """Insert or replace ``items`` (newest last) and return the keys evicted to fit."""
        evicted: list[str] = []
        entries = self._entries
        for key, value in items:
            if not isinstance(key, str) or not isinstance(value, (bytes, bytearray)):
                raise TypeError("cache entries are (str, bytes) pairs")
            old = entries.pop(key, None)
            if old is not None:
                self.bytes -= len(key) + len(old)
            entries[key] = bytes(value)
            self.bytes += len(key) + len(value)
            evicted.extend(self._evict())
        return evicted

    def _evict(self) -> list[str]:
        gone: list[str] = []
        while self._entries and (
            (self.max_entries is not None and len(self._entries) > self.max_entries)
            or (self.max_bytes is not None and self.bytes > self.max_bytes)
        ):
            key, value = self._entries.popitem(last=False)
            self.bytes -= len(key) + len(value)
            self.evictions += 1
            gone.append(key)
        return gone

    def clear(self) -> None:
        """Drop every entry (counters are kept)."""
        self._entries.clear()
        self.bytes = 0
