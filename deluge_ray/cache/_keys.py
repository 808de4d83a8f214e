"""Cache keys: a namespace, the conversation's fingerprint and, optionally, a request key.

The reference keys a cached response by the conversation content alone, so changing the
temperature or ``max_new_tokens`` still hits the same entry. Built-in caches keep that
default; with ``include_request_params=True`` the client also passes a *request key*
(:func:`make_request_key` over the model names and sampling parameters) and entries made
with different settings stay apart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["Fingerprinted", "entry_key", "make_request_key"]


class Fingerprinted(Protocol):
    """Anything with a content fingerprint; :class:`deluge_ray.prompt.Conversation` is one."""

    @property
    def fingerprint(self) -> str: ...


def entry_key(namespace: str, prompt: Fingerprinted, request_key: str | None = None) -> str:
    """The storage key of ``prompt`` inside the ``namespace`` (a cache's ``cache_key``).

    >>> class P:
    ...     fingerprint = "ab12"
    >>> entry_key("evals", P())
    'evals:ab12'
    >>> entry_key("evals", P(), "9f")
    'evals:ab12:9f'
    """
    fingerprint = prompt.fingerprint
    if not isinstance(fingerprint, str) or not fingerprint:
        raise TypeError(f"cache prompts need a non-empty str fingerprint, got {fingerprint!r}")
    if request_key is None:
        return f"{namespace}:{fingerprint}"
    return f"{namespace}:{fingerprint}:{request_key}"


def _plain(value: Any) -> Any:
    """A JSON-able, order-independent view of sampling parameters and similar objects."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)  # pydantic models
    if callable(dump):
        return _plain(dump())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def make_request_key(model_names: Iterable[str], sampling_params: Iterable[Any] = ()) -> str:
    """A short stable hash of the model names and sampling parameters of a request.

    The client computes this once per ``LLMClient`` and passes it as ``request_key`` when
    the cache was built with ``include_request_params=True``. Dataclasses, pydantic models,
    dicts and plain values are all accepted as sampling parameters.

    >>> a = make_request_key(["gpt-4.1-mini"], [{"temperature": 0.0}])
    >>> a == make_request_key(["gpt-4.1-mini"], [{"temperature": 0.0}])
    True
    >>> a == make_request_key(["gpt-4.1-mini"], [{"temperature": 1.0}])
    False
    """
    payload = {"models": list(model_names), "sampling": [_plain(p) for p in sampling_params]}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
