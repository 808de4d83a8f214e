"""The request specs of one client's engine: one :class:`CallSpec` per distinct option set.

Prompts sent with the same tools, output schema, cache pattern and service tier share one
spec (and its id, which is what travels with each item); :class:`SpecBook` hands out those
ids and remembers how many tokens each spec's tool definitions cost per request.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..transport._work import CallSpec, ModelRoute
from ._tools import count_tool_tokens, wire_tools

if TYPE_CHECKING:
    from ..config import SamplingParams
    from ._client import LLMClient

__all__ = ["CallSettings", "SpecBook"]


@dataclass(frozen=True)
class CallSettings:
    """The client-wide part of every spec: routes, retries, timeouts, headers, API mode."""

    routes: tuple[ModelRoute, ...]
    max_attempts: int
    request_timeout: float
    extra_headers: dict[str, str] | None
    extra_body: dict[str, Any] | None
    use_responses_api: bool
    background: bool
    #: The first model's name and sampling params (what ``stream`` uses).
    first_model: str
    first_sampling_params: SamplingParams

    @classmethod
    def of(cls, client: LLMClient, routes: tuple[ModelRoute, ...]) -> CallSettings:
        """The settings of ``client``, whose engine resolved ``routes``."""
        return cls(
            routes=routes,
            max_attempts=client.max_attempts,
            request_timeout=float(client.request_timeout),
            extra_headers=client.extra_headers,
            extra_body=client.extra_body,
            use_responses_api=client.use_responses_api,
            background=client.background,
            first_model=client.model_names[0],
            first_sampling_params=client.sampling_params[0],
        )

    def spec(self, spec_id: int, tools: tuple[Any, ...] | None = None, **options: Any) -> CallSpec:
        """A :class:`CallSpec` with these settings, ``tools`` and the per-call ``options``."""
        return CallSpec(
            spec_id=spec_id,
            routes=self.routes,
            max_attempts=self.max_attempts,
            request_timeout=self.request_timeout,
            tools=tools,
            extra_headers=self.extra_headers,
            extra_body=self.extra_body,
            use_responses_api=self.use_responses_api,
            background=self.background,
            **options,
        )


class SpecBook:
    """The specs of one engine, keyed by their options; safe to use from any thread."""

    def __init__(self) -> None:
        self._by_options: dict[tuple, CallSpec] = {}
        self._tool_tokens: dict[int, int] = {}
        self._lock = threading.Lock()

    def spec_for(
        self,
        engine: Any,
        settings: CallSettings,
        *,
        tools: Sequence[Any] | None,
        output_schema: Any,
        cache: Any,
        service_tier: Any,
        expand_mcp: bool,
    ) -> CallSpec:
        """The spec for these options, created (and registered with ``engine``) if new."""
        user_tools = tuple(tools) if tools else ()
        # Identity, not equality: tools and schemas may be unhashable; the spec keeps them
        # alive, so an id cannot be reused while its entry exists.
        options = (tuple(id(t) for t in user_tools), id(output_schema), cache, service_tier)
        with self._lock:
            spec = self._by_options.get(options)
        if spec is not None:
            return spec
        tools_tuple = wire_tools(user_tools, expand_mcp=expand_mcp)
        with self._lock:
            raced = self._by_options.get(options)
            if raced is not None:  # another thread built the same spec meanwhile
                return raced
            spec = settings.spec(
                len(self._by_options),
                tools_tuple,
                output_schema=output_schema,
                cache_pattern=cache,
                service_tier=service_tier,
            )
            self._by_options[options] = spec
            self._tool_tokens[spec.spec_id] = count_tool_tokens(tools_tuple)
            engine.specs[spec.spec_id] = spec
        return spec

    def tool_tokens(self, spec_id: int) -> int:
        """Tokens the tool definitions of spec ``spec_id`` add to every request."""
        with self._lock:
            return self._tool_tokens.get(spec_id, 0)

    def clear(self) -> None:
        """Forget every spec (their ids belong to an engine that is gone)."""
        with self._lock:
            self._by_options.clear()
            self._tool_tokens.clear()
