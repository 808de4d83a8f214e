"""APIResponse ⇄ bytes for cache storage, and the tolerant decoder caches read with.

Values are msgpack of :meth:`APIResponse.to_dict` behind a one-byte format tag, so a
future layout change can be told apart from a damaged entry. The prompt is left out: an
entry is only ever found through a prompt with the same fingerprint, so the reader puts
back the conversation it asked with (images included) and entries stay small. Reading never raises into a
user's batch: an entry that cannot be decoded is a miss, counted, and reported with one
:class:`CorruptCacheEntryWarning` per cache instance (a bad file would otherwise print
one warning per prompt of a million-prompt run).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING, Any

import msgpack

from ..errors import CacheError

if TYPE_CHECKING:
    from ..api_requests.response import APIResponse

__all__ = [
    "CorruptCacheEntryWarning",
    "ResponseCodec",
    "decode_response",
    "encode_response",
    "is_storable",
]

# Bumped whenever the stored layout changes; older tags then read as misses, not garbage.
_FORMAT_TAG = b"\x01"


class CorruptCacheEntryWarning(RuntimeWarning):
    """A cache entry could not be decoded; it was treated as a miss."""


def is_storable(response: Any) -> bool:
    """Only successful responses are cached: errors must be retried on the next run."""
    return response is not None and not getattr(response, "is_error", False)


def encode_response(response: APIResponse) -> bytes:
    """The stored bytes of ``response`` (msgpack of ``to_dict()`` behind a format tag)."""
    try:
        # An empty dict stands in for the prompt so to_dict does not serialise it for nothing;
        # images in the reply are kept so a hit equals the original response.
        fields = dataclasses.replace(response, prompt={}).to_dict(keep_images=True)
        fields["prompt"] = None
        body = msgpack.packb(fields, use_bin_type=True)
    except (TypeError, ValueError) as exc:
        raise CacheError(f"cannot encode response for the cache: {exc}") from exc
    return _FORMAT_TAG + body


def decode_response(data: bytes, prompt: Any = None) -> APIResponse:
    """The response stored as ``data`` for ``prompt``, marked ``local_cache_hit=True``.

    Raises :class:`CacheError` when ``data`` is not a valid entry.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CacheError(f"cache entry is {type(data).__name__}, expected bytes")
    raw = bytes(data)
    if not raw.startswith(_FORMAT_TAG):
        raise CacheError("cache entry has an unknown format tag")
    # Imported here: the response model imports the prompt model, which caches need only
    # when they actually decode something.
    from ..api_requests.response import APIResponse

    try:
        fields = msgpack.unpackb(raw[len(_FORMAT_TAG) :], raw=False, strict_map_key=False)
        response = APIResponse.from_dict(fields)
    except Exception as exc:  # any damage in the bytes or the dict is a bad entry
        raise CacheError(f"cache entry cannot be decoded: {exc!r}") from exc
    response.local_cache_hit = True
    response.prompt = prompt
    return response


class ResponseCodec:
    """Per-cache encoder/decoder that turns damaged entries into misses, warning once.

    >>> codec = ResponseCodec("SqliteCache('x.db')")
    >>> codec.decode(b"not an entry", key="k") is None
    True
    >>> codec.corrupt_entries
    1
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.corrupt_entries = 0
        self._warned = False

    def encode(self, response: APIResponse) -> bytes | None:
        """Bytes to store, or ``None`` when the response must not be cached (an error)."""
        return encode_response(response) if is_storable(response) else None

    def decode(self, data: bytes | None, *, key: str, prompt: Any = None) -> APIResponse | None:
        """The cached response for ``prompt``, or ``None`` for a miss or an unreadable entry."""
        if data is None:
            return None
        try:
            return decode_response(data, prompt)
        except CacheError as exc:
            self.corrupt_entries += 1
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"{self.owner}: unreadable cache entry {key!r} treated as a miss ({exc}); "
                    "further unreadable entries in this cache are counted in "
                    "corrupt_entries but not reported again",
                    CorruptCacheEntryWarning,
                    stacklevel=3,
                )
            return None
