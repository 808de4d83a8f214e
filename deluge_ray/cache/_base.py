"""The shared get/put logic of the built-in caches, over any raw str → bytes store."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import CacheError
from ._codec import ResponseCodec
from ._keys import Fingerprinted, entry_key

if TYPE_CHECKING:
    from ..api_requests.response import APIResponse

__all__ = ["KeyValueCache"]


class KeyValueCache(ABC):
    """A response cache over a key/value store; subclasses supply raw batch reads and writes.

    Keys are ``{cache_key}:{conversation fingerprint}``, plus ``:{request_key}`` when the
    cache was built with ``include_request_params=True`` and the caller passes one. A
    ``request_key`` given to a cache built without the option is ignored, so both kinds
    of cache can be called the same way.
    """

    def __init__(self, cache_key: str = "default", *, include_request_params: bool = False) -> None:
        if not isinstance(cache_key, str):
            raise TypeError(f"cache_key must be a str, got {type(cache_key).__name__}")
        self.cache_key = cache_key
        self.include_request_params = bool(include_request_params)
        self._codec = ResponseCodec(repr(self))

    # -- what a backend provides -------------------------------------------------------
    @abstractmethod
    def _read_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Raw values for ``keys`` (``None`` where absent), in order."""

    @abstractmethod
    def _write_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Store raw ``items``."""

    # -- the cache protocol ------------------------------------------------------------
    @property
    def corrupt_entries(self) -> int:
        """How many unreadable entries this cache has turned into misses so far."""
        return self._codec.corrupt_entries

    def key_for(self, prompt: Fingerprinted, request_key: str | None = None) -> str:
        """The storage key of ``prompt`` in this cache."""
        used = request_key if self.include_request_params else None
        return entry_key(self.cache_key, prompt, used)

    def get(self, prompt: Fingerprinted, *, request_key: str | None = None) -> APIResponse | None:
        """The cached response for ``prompt`` (marked ``local_cache_hit=True``), or ``None``."""
        return self.get_many([prompt], request_key=request_key)[0]

    def put(
        self, prompt: Fingerprinted, response: APIResponse, *, request_key: str | None = None
    ) -> None:
        """Cache ``response`` for ``prompt``; error responses are not stored."""
        self.put_many([(prompt, response)], request_key=request_key)

    def get_many(
        self, prompts: Sequence[Fingerprinted], *, request_key: str | None = None
    ) -> list[APIResponse | None]:
        """The cached response (or ``None``) for each prompt, in order, in one store read."""
        keys = [self.key_for(p, request_key) for p in prompts]
        return self._decode_all(prompts, keys, self._read_many(keys) if keys else [])

    def put_many(
        self,
        items: Sequence[tuple[Fingerprinted, APIResponse]],
        *,
        request_key: str | None = None,
    ) -> None:
        """Cache every successful ``(prompt, response)`` pair in one store write."""
        rows = self._encode_all(items, request_key)
        if rows:
            self._write_many(rows)

    # -- helpers shared with the async variants ------------------------------------------
    def _decode_all(
        self,
        prompts: Sequence[Fingerprinted],
        keys: Sequence[str],
        values: Sequence[bytes | None],
    ) -> list[APIResponse | None]:
        if len(values) != len(keys):
            raise CacheError(f"{self!r}: store returned {len(values)} values for {len(keys)} keys")
        return [
            self._codec.decode(v, key=k, prompt=p)
            for p, k, v in zip(prompts, keys, values, strict=True)
        ]

    def _encode_all(
        self, items: Sequence[tuple[Fingerprinted, APIResponse]], request_key: str | None
    ) -> list[tuple[str, bytes]]:
        rows: dict[str, bytes] = {}  # a later duplicate prompt wins, as sequential puts would
        for prompt, response in items:
            data = self._codec.encode(response)
            if data is not None:
                rows[self.key_for(prompt, request_key)] = data
        return list(rows.items())
