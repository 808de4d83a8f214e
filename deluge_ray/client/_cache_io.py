"""The client's view of a user cache: batched, async-friendly, never fatal.

Uses ``aget_many``/``aput_many`` when the cache has them, else ``get_many``/``put_many``,
else one ``get``/``put`` per prompt. ``request_key=`` is passed only to caches built with
``include_request_params=True`` (a user's two-method cache never sees it). A cache that
raises is treated as a miss (reads) or skipped (writes) with one warning, so a broken
cache never costs a batch its results.

As in lm-deluge, a cache key is the conversation alone: a cache shared by clients of two
models answers one model's prompt with the other's response. That is allowed (it is the
reference's contract) but rarely meant, so the first such hit warns once, naming both
models and the option that keys on the model too (``include_request_params=True``).

    >>> import asyncio
    >>> class DictCache:
    ...     def __init__(self): self.d = {}
    ...     def get(self, prompt): return self.d.get(prompt)
    ...     def put(self, prompt, response): self.d[prompt] = response
    >>> io = CacheIO(DictCache(), request_key="rk")
    >>> asyncio.run(io.store([("p", "r")])); asyncio.run(io.lookup(["p", "q"]))
    ['r', None]
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

__all__ = ["CacheIO"]


class CacheIO:
    """Batched reads and writes of one cache object; see the module docstring."""

    def __init__(self, cache: Any, *, request_key: str, model_names: Sequence[str] = ()) -> None:
        self._cache = cache
        keyed_on_request = getattr(cache, "include_request_params", False)
        self._kwargs = {"request_key": request_key} if keyed_on_request else {}
        self._warned = False
        # Only a content-keyed cache can hand one model's answer to another.
        self._models = set(model_names) if not keyed_on_request else set()
        self._warned_models = False

    def _check_models(self, found: Sequence[Any]) -> None:
        for response in found:
            cached_for = getattr(response, "model_internal", None)
            if cached_for is not None and cached_for not in self._models:
                self._warned_models = True
                warnings.warn(
                    f"cache {type(self._cache).__name__} answered a prompt for "
                    f"{sorted(self._models)} with a response cached for {cached_for!r}: its key "
                    "is the conversation alone (as in lm-deluge). Build the cache with "
                    "include_request_params=True to key on the model and sampling settings too.",
                    UserWarning,
                    stacklevel=4,
                )
                return

    def _warn(self, action: str, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"cache {type(self._cache).__name__} failed to {action} "
                f"({type(exc).__name__}: {exc}); continuing without it for those prompts",
                RuntimeWarning,
                stacklevel=3,
            )

    async def lookup(self, prompts: Sequence[Any]) -> list[Any]:
        """The cached response or ``None`` for each prompt, in order."""
        if not prompts:
            return []
        c = self._cache
        try:
            if hasattr(c, "aget_many"):
                found = await c.aget_many(list(prompts), **self._kwargs)
            elif hasattr(c, "get_many"):
                found = c.get_many(list(prompts), **self._kwargs)
            else:
                found = [c.get(p, **self._kwargs) for p in prompts]
        except Exception as exc:
            self._warn("read", exc)
            return [None] * len(prompts)
        found = list(found)
        if self._models and not self._warned_models:
            self._check_models(found)
        return found

    async def store(self, pairs: Sequence[tuple[Any, Any]]) -> None:
        """Write successful ``(prompt, response)`` pairs."""
        if not pairs:
            return
        c = self._cache
        try:
            if hasattr(c, "aput_many"):
                await c.aput_many(list(pairs), **self._kwargs)
            elif hasattr(c, "put_many"):
                c.put_many(list(pairs), **self._kwargs)
            else:
                for prompt, response in pairs:
                    c.put(prompt, response, **self._kwargs)
        except Exception as exc:
            self._warn("write", exc)

    @staticmethod
    def snapshot(response: Any) -> Any:
        """A private copy to cache, safe from a ``postprocess`` that edits in place."""
        return copy.deepcopy(response)
