"""The shape of a cache the client accepts, as structural (duck-typed) protocols."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..api_requests.response import APIResponse
    from ..prompt import Conversation

__all__ = ["AsyncBatchCache", "BatchCache", "Cache"]


@runtime_checkable
class Cache(Protocol):
    """Any object with ``get`` and ``put`` works as ``LLMClient(cache=...)``.

    The client passes ``request_key=`` only to caches whose ``include_request_params`` is
    true, so a user's two-method cache ``get(prompt)`` / ``put(prompt, response)`` fits.

    >>> from deluge_ray.cache import Cache
    >>> class Mine:
    ...     def get(self, prompt): return None
    ...     def put(self, prompt, response): pass
    >>> isinstance(Mine(), Cache)
    True
    """

    def get(self, prompt: Conversation) -> APIResponse | None: ...

    def put(self, prompt: Conversation, response: APIResponse) -> None: ...


@runtime_checkable
class BatchCache(Cache, Protocol):
    """A cache that also reads and writes whole batches; the client prefers these methods."""

    def get_many(self, prompts: Sequence[Conversation]) -> list[APIResponse | None]: ...

    def put_many(self, items: Sequence[tuple[Conversation, APIResponse]]) -> None: ...


@runtime_checkable
class AsyncBatchCache(BatchCache, Protocol):
    """A batch cache with awaitable variants; async client code must use these."""

    async def aget_many(self, prompts: Sequence[Conversation]) -> list[APIResponse | None]: ...

    async def aput_many(self, items: Sequence[tuple[Conversation, APIResponse]]) -> None: ...
