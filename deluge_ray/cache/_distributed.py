"""DistributedDictCache: responses in any shared key/value object, or in a CacheActor."""

from __future__ import annotations

import asyncio
import inspect
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._base import KeyValueCache
from ._keys import Fingerprinted

if TYPE_CHECKING:
    from ..api_requests.response import APIResponse

__all__ = ["DistributedDictCache"]


def _is_actor_handle(obj: Any) -> bool:
    # An ActorHandle can only exist once ray is imported; avoid importing it ourselves.
    if "ray" not in sys.modules:
        return False
    from ray.actor import ActorHandle

    return isinstance(obj, ActorHandle)


async def _maybe_aio(method: Any, *args: Any) -> Any:
    """Call a backend method, through its Modal-style ``.aio`` variant when it has one."""
    aio = getattr(method, "aio", None)
    if aio is not None:
        return await aio(*args)
    result = method(*args)
    return await result if inspect.isawaitable(result) else result


class DistributedDictCache(KeyValueCache):
    """Cache responses in a shared dictionary-like object.

    ``cache`` may be:

    * a CacheActor handle from :func:`deluge_ray.actors.cache_actor.get_cache_actor` —
      every driver on the cluster naming the same cache shares it; a batch of prompts is
      one actor call (``get_many`` / ``put_many``);
    * anything with ``.get(key)`` and ``.put(key, value)`` (a Modal ``Dict``, ...), used
      with its ``get_many``/``put_many`` too when it has them;
    * a plain ``dict`` (``.get`` and item assignment).

    The synchronous methods wait for the actor with ``ray.get``, which would stall an
    event loop; async code (the ``LLMClient`` does this) calls :meth:`aget_many` and
    :meth:`aput_many`, which await the actor instead.

    >>> from deluge_ray.cache import DistributedDictCache
    >>> store = {}
    >>> cache = DistributedDictCache(store, cache_key="evals")
    >>> cache.get_many([])
    []
    """

    def __init__(
        self,
        cache: Any,
        cache_key: str = "default",
        *,
        include_request_params: bool = False,
    ) -> None:
        self.cache = cache
        self._actor = _is_actor_handle(cache)
        if not self._actor and not callable(getattr(cache, "get", None)):
            raise TypeError(
                "DistributedDictCache needs an object with .get(key) and .put(key, value) "
                f"(or a dict, or a CacheActor handle); got {type(cache).__name__}"
            )
        if not self._actor and not (hasattr(cache, "put") or hasattr(cache, "__setitem__")):
            raise TypeError(f"{type(cache).__name__} has .get but neither .put nor item assignment")
        self._warned_blocking = False
        super().__init__(cache_key, include_request_params=include_request_params)

    # -- synchronous backend access --------------------------------------------------------
    def _read_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if self._actor:
            import ray

            self._warn_if_in_event_loop()
            return ray.get(self.cache.get_many.remote(list(keys)))
        batch = getattr(self.cache, "get_many", None)
        if callable(batch):
            return list(batch(list(keys)))
        return [self.cache.get(k) for k in keys]

    def _write_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        if self._actor:
            import ray

            self._warn_if_in_event_loop()
            # Waited for, so that a put has reached the actor's file when it returns.
            ray.get(self.cache.put_many.remote(list(items)))
            return
        batch = getattr(self.cache, "put_many", None)
        if callable(batch):
            batch(list(items))
            return
        put = getattr(self.cache, "put", None)
        for key, value in items:
            if callable(put):
                put(key, value)
            else:
                self.cache[key] = value

    def _warn_if_in_event_loop(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        if not self._warned_blocking:
            self._warned_blocking = True
            warnings.warn(
                "DistributedDictCache: blocking ray.get on a CacheActor inside a running event "
                "loop; use aget_many/aput_many from async code",
                RuntimeWarning,
                stacklevel=4,
            )

    # -- asynchronous variants -----------------------------------------------------------
    async def _aread_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if self._actor:
            return await self.cache.get_many.remote(list(keys))
        batch = getattr(self.cache, "get_many", None)
        if callable(batch):
            return list(await _maybe_aio(batch, list(keys)))
        return [await _maybe_aio(self.cache.get, k) for k in keys]

    async def _awrite_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        if self._actor:
            await self.cache.put_many.remote(list(items))
            return
        batch = getattr(self.cache, "put_many", None)
        if callable(batch):
            await _maybe_aio(batch, list(items))
            return
        put = getattr(self.cache, "put", None)
        for key, value in items:
            if callable(put):
                await _maybe_aio(put, key, value)
            else:
                self.cache[key] = value

    async def aget(
        self, prompt: Fingerprinted, *, request_key: str | None = None
    ) -> APIResponse | None:
        """Async :meth:`get`: awaits the actor instead of blocking the event loop."""
        return (await self.aget_many([prompt], request_key=request_key))[0]

    async def aput(
        self, prompt: Fingerprinted, response: APIResponse, *, request_key: str | None = None
    ) -> None:
        """Async :meth:`put`."""
        await self.aput_many([(prompt, response)], request_key=request_key)

    async def aget_many(
        self, prompts: Sequence[Fingerprinted], *, request_key: str | None = None
    ) -> list[APIResponse | None]:
        """Async :meth:`get_many`: one awaited actor call for the whole batch."""
        keys = [self.key_for(p, request_key) for p in prompts]
        return self._decode_all(prompts, keys, await self._aread_many(keys) if keys else [])

    async def aput_many(
        self,
        items: Sequence[tuple[Fingerprinted, APIResponse]],
        *,
        request_key: str | None = None,
    ) -> None:
        """Async :meth:`put_many`: one awaited actor call for the whole batch."""
        rows = self._encode_all(items, request_key)
        if rows:
            await self._awrite_many(rows)

    def __repr__(self) -> str:
        return f"DistributedDictCache({type(self.cache).__name__}, cache_key={self.cache_key!r})"
