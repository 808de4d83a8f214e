"""How a tool's callable is run, checked and its result validated.

A tool's ``run`` may be a plain function or a coroutine function, and the caller may be
sync code or code already inside an event loop. The rules:

- :func:`call_sync` from code with no running loop runs a coroutine with
  ``asyncio.run``. From *inside* a running loop it cannot do that on this thread, so the
  coroutine runs on a fresh event loop in a worker thread while this thread waits (the
  outer loop is blocked meanwhile — prefer ``await tool.acall(...)`` there).
- :func:`call_async` awaits coroutines directly and runs plain functions with
  ``asyncio.to_thread`` so a slow tool never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema
import pydantic_core

from ..errors import ToolError

__all__ = [
    "call_async",
    "call_sync",
    "check_arguments",
    "is_async_callable",
    "malformed_arguments",
    "validate_output",
]

_SHOWN_ARGUMENTS = 200  # characters of the broken text quoted back to the model


def malformed_arguments(tool_name: str, raw: Mapping[str, Any] | None) -> str | None:
    """What to tell the model when its arguments for ``tool_name`` were not a JSON object.

    ``raw`` is the tool call's replay data: the wire parsers keep arguments text that did not
    parse to an object under ``"arguments"`` (and give the call empty arguments). Running
    the tool with those empty arguments would answer "missing required argument", which
    sends the model looking for the wrong mistake. ``None`` when the arguments parsed.

    >>> print(malformed_arguments("add", {"arguments": '[1, 2]'}))
    Error: the arguments of your call to tool 'add' are JSON but not an object (a list); you sent '[1, 2]'. Call the tool again with its arguments as one JSON object.
    """
    if not isinstance(raw, Mapping) or "arguments" not in raw:
        return None
    text = raw["arguments"]
    try:
        value = json.loads(text)
        why = f"are JSON but not an object (a {type(value).__name__})"
    except (TypeError, ValueError) as exc:
        why = f"are not valid JSON ({exc})"
    shown = text if isinstance(text, str) else repr(text)
    if len(shown) > _SHOWN_ARGUMENTS:
        shown = shown[:_SHOWN_ARGUMENTS] + "..."
    return (
        f"Error: the arguments of your call to tool {tool_name!r} {why}; you sent {shown!r}. "
        "Call the tool again with its arguments as one JSON object."
    )


def is_async_callable(func: Any) -> bool:
    """Whether calling ``func`` returns a coroutine (functions, partials, ``async __call__``)."""
    try:
        return _is_async_cached(func)
    except TypeError:  # unhashable callable: work it out each time
        return _is_async(func)


# A tool's callable is asked the same questions on every call of a swarm (thousands of
# times): its answers are kept for the last few hundred callables (strong references, so
# an id is never reused for another callable while cached).
_CALLABLES_KEPT = 256


@functools.lru_cache(maxsize=_CALLABLES_KEPT)
def _is_async_cached(func: Any) -> bool:
    return _is_async(func)


def _is_async(func: Any) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - objects with an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _run_coroutine_blocking(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # A loop is running on this thread: asyncio.run would refuse, so give the
    # coroutine its own loop on a worker thread and wait for it.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def call_sync(func: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    """Run ``func(**kwargs)`` to completion from synchronous code."""
    result = func(**kwargs)
    if inspect.isawaitable(result):
        return _run_coroutine_blocking(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


async def call_async(func: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    """Run ``func(**kwargs)`` without blocking the running event loop."""
    if is_async_callable(func):
        return await func(**kwargs)
    result = await asyncio.to_thread(functools.partial(func, **kwargs))
    if inspect.isawaitable(result):
        result = await result
    return result


def check_arguments(
    tool_name: str,
    func: Callable[..., Any],
    required: list[str],
    kwargs: Mapping[str, Any],
) -> None:
    """Raise :class:`ToolError` when ``kwargs`` cannot be a valid call.

    Checks the schema's required names, then (when the callable's signature is readable)
    that Python would accept the call, so a bad call fails with a message naming the
    tool instead of a bare ``TypeError`` from deep inside it.
    """
    missing = [name for name in required if name not in kwargs]
    if missing:
        raise ToolError(
            f"Tool {tool_name!r} is missing required argument(s) {', '.join(map(repr, missing))}; "
            f"it was called with {sorted(kwargs) or 'no arguments'}."
        )
    signature = _signature(func)
    if signature is None:
        return  # builtins and some C callables have no signature; let the call decide
    try:
        signature.bind(**kwargs)
    except TypeError as exc:
        raise ToolError(
            f"Tool {tool_name!r} cannot be called with {sorted(kwargs)}: {exc}."
        ) from exc


def _signature(func: Callable[..., Any]) -> inspect.Signature | None:
    """``func``'s signature (``None`` if it has none); ``inspect.signature`` is slow, so
    it is read once per callable, not once per call."""
    try:
        return _signature_cached(func)
    except TypeError:  # unhashable callable (or no signature): read it now
        return _read_signature(func)


@functools.lru_cache(maxsize=_CALLABLES_KEPT)
def _signature_cached(func: Callable[..., Any]) -> inspect.Signature | None:
    return _read_signature(func)


def _read_signature(func: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


def validate_output(tool_name: str, result: Any, schema: dict[str, Any] | None) -> None:
    """Raise :class:`ToolError` unless ``result`` matches ``schema`` (JSON Schema).

    The result is first turned into its JSON form (pydantic models to dicts, tuples to
    lists), since that is what the model will see.
    """
    if schema is None:
        raise ToolError(
            f"Tool {tool_name!r} has no output_schema, so validate_output=True cannot check "
            "its result. Give the function a return annotation or set output_schema."
        )
    try:
        value = pydantic_core.to_jsonable_python(result)
    except pydantic_core.PydanticSerializationError as exc:
        raise ToolError(
            f"Tool {tool_name!r} returned a value that is not JSON-like: {exc}"
        ) from exc
    validator_cls = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft202012Validator
    )
    error = jsonschema.exceptions.best_match(validator_cls(schema).iter_errors(value))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "<root>"
        raise ToolError(
            f"Tool {tool_name!r} returned a value that does not match its output_schema at "
            f"{where}: {error.message}"
        )
