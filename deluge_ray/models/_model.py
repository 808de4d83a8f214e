"""The description of one model: :class:`APIModel`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._constants import (
    API_VERSION_PATHS,
    BASE_URL_ENV_VARS,
    DEFAULT_BASE_URLS,
    SDK_BASE_URL_ENV_VARS,
)
from .._secrets import Secret
from ..errors import MissingAPIKeyError

__all__ = ["APIModel"]

# Per-million-token prices are stored per million, so a cost is tokens * price / 1e6.
_PER_MILLION = 1_000_000


@dataclass(frozen=True)
class APIModel:
    """A model the client can call: where it lives, how it is billed and what it can do.

    ``id`` is the name users write (``"gpt-4.1-mini"``); ``name`` is what goes on the wire
    (``"gpt-4.1-mini-2025-04-14"``). ``api_spec`` picks the wire format (``"openai"``,
    ``"anthropic"`` or ``"gemini"``). Prices are US dollars per million tokens.

    >>> m = APIModel(id="local", name="llama", provider="openai", api_spec="openai",
    ...              api_key_env_var=None, base_url="http://localhost:8000/v1")
    >>> m.resolved_base_url()
    'http://localhost:8000/v1'
    """

    id: str
    name: str
    provider: str
    api_spec: str
    api_key_env_var: str | None
    base_url: str
    input_cost: float = 0.0
    cached_input_cost: float = 0.0
    cache_write_cost: float = 0.0
    output_cost: float = 0.0
    supports_json: bool = True
    supports_tools: bool = True
    supports_images: bool = True
    supports_logprobs: bool = False
    reasoning_model: bool = False
    supports_responses: bool = False
    # Anthropic's output effort (``output_config.effort``); only claude-4.5-opus so far.
    supports_effort: bool = False
    # An embeddings endpoint rather than a chat model.
    is_embedding: bool = False
    # A rerank endpoint (Cohere-style ``/rerank``) rather than a chat model.
    is_rerank: bool = False
    # The smallest thinking budget the model accepts; 0 means thinking can be switched
    # off. Gemini 2.5 Pro and Gemini 3 Pro always think (at least 128 tokens).
    min_thinking_budget: int = 0
    # Which reasoning efforts beyond low/medium/high the model accepts, and whether it
    # takes OpenAI's ``verbosity`` (from lm-deluge 0.0.168's registry).
    supports_minimal_reasoning: bool = False
    supports_xhigh: bool = False
    supports_max_reasoning: bool = False
    supports_reasoning_none: bool = False
    supports_verbosity: bool = False
    # How a Claude model is asked to think: "budget" (``budget_tokens``), "adaptive"
    # (Claude 4.6: adaptive thinking at an effort; a budget is still accepted),
    # "adaptive_only" (a budget is rejected, so it is turned into an effort) and
    # "adaptive_summarized" (the same, asking for summarised thinking: Opus 4.7 and later).
    thinking_style: str = "budget"
    # Variables tried, in order, when ``api_key_env_var`` is unset (0.0.168's fallbacks).
    api_key_env_var_fallbacks: tuple[str, ...] = ()
    # OpenAI wire: leave out temperature/top_p when they are 1.0, and the reasoning effort
    # when none was asked for, for servers that reject or misread the defaults.
    omit_default_sampling_params: bool = False
    omit_default_reasoning_effort: bool = False
    # Responses API: send every request stateless (``store: false``, encrypted reasoning
    # replayed); ``requires_stateless_responses`` says the server accepts nothing else.
    stateless_responses: bool = False
    requires_stateless_responses: bool = False
    # Stored as registered (a list, or a dict of region -> weight) and never used: only
    # 0.0.168's Bedrock routes spread requests over regions, and deluge_ray has no Bedrock.
    regions: tuple[str, ...] | Mapping[str, int] = field(default=(), hash=False)

    @classmethod
    def from_registry(cls, name: str) -> APIModel:
        """The registered model ``name`` (0.0.168's spelling of :func:`get_model`).

        Raises :class:`~deluge_ray.errors.UnknownModelError`, a ``ValueError`` as in 0.0.168.
        """
        # The registry module builds APIModel rows, so it can only be imported lazily here.
        from ._registry import get_model

        return get_model(name)

    @property
    def api_key_env_vars(self) -> tuple[str, ...]:
        """The variables that may hold the API key, in the order they are tried."""
        names = (self.api_key_env_var, *self.api_key_env_var_fallbacks)
        return tuple(name for name in names if name)

    def resolve_api_key(self) -> Secret | None:
        """The API key from this process's environment: the first of
        :attr:`api_key_env_vars` that is set, or ``None`` for a model that needs no key.

        Read it on the driver (actors' environments differ). Raises
        :class:`~deluge_ray.errors.MissingAPIKeyError` naming every variable tried.
        """
        if not self.api_key_env_vars:
            return None
        for name in self.api_key_env_vars:
            value = os.environ.get(name)
            if value:
                return Secret(value)
        names = self.api_key_env_vars
        error = MissingAPIKeyError(names[0], self.id)
        if len(names) > 1:
            error.args = (
                f"None of the environment variables {', '.join(names)} is set (needed by "
                f"model {self.id!r}; they are tried in that order). Export one of them in "
                f"the process that creates the LLMClient, e.g. `export {names[0]}=...`.",
            )
        raise error

    def resolved_base_url(self) -> str:
        """The base URL to call, read from the environment *now*.

        A model still on its provider's public URL follows the provider's override
        variable (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``, ...) so a whole provider can
        be pointed at a mock or a proxy. A model registered with its own URL (a local vLLM
        server, say) keeps it: the provider-wide override must not hijack it. Resolve on the
        driver and ship the result to actors, whose environment may differ.

        The variables mean what the providers' SDKs mean (see ``_constants``), so the value
        that points the official SDK at a server points deluge_ray at it too:
        ``ANTHROPIC_BASE_URL=http://host`` (the SDK's form) and ``http://host/v1`` both call
        ``http://host/v1/messages``; ``OPENAI_BASE_URL`` is used as given (it includes
        ``/v1``, as for the openai SDK); ``GOOGLE_GEMINI_BASE_URL=http://host`` (google-genai)
        calls ``http://host/v1beta/...``.
        """
        default = DEFAULT_BASE_URLS.get(self.provider)
        if self.base_url != default:
            return self.base_url.rstrip("/")
        version = API_VERSION_PATHS.get(self.provider, "")
        ours = BASE_URL_ENV_VARS.get(self.provider)
        sdk = SDK_BASE_URL_ENV_VARS.get(self.provider)
        override = os.environ.get(ours, "").strip().rstrip("/") if ours else ""
        if override:
            path = override.split("://", 1)[-1].partition("/")[2]
            if self.provider == "anthropic":
                # The SDK's form is the host (+ any proxy prefix); it appends /v1 itself.
                return override if override.endswith(version) else override + version
            if self.provider == "openai" or path:
                # As the openai SDK does: used as given. For ours, a path holds the version.
                return override
            return override + version  # a bare host: nothing else can be meant
        override = os.environ.get(sdk, "").strip().rstrip("/") if sdk else ""
        if override:
            last = override.rsplit("/", 1)[-1]
            has_version = override.count("/") > 2 and last.startswith("v") and last[1:2].isdigit()
            return override if has_version else override + version
        return self.base_url.rstrip("/")

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        *,
        cache_write_1h_tokens: int = 0,
    ) -> float:
        """Dollar cost of one call.

        ``input_tokens`` excludes the cached-read and cache-write tokens (each is priced at
        its own rate), which is how :class:`~deluge_ray.api_requests.response.Usage` counts.
        ``cache_write_1h_tokens``, the part of ``cache_write_tokens`` written with
        Anthropic's 1-hour TTL, costs twice the input price rather than the cache-write
        price (0.0.168's rule).

        >>> m = APIModel("x", "x", "openai", "openai", None, "u", input_cost=2.0, output_cost=8.0)
        >>> m.cost(1_000_000, 500_000)
        6.0
        """
        one_hour = min(cache_write_tokens, cache_write_1h_tokens)
        return (
            input_tokens * self.input_cost
            + cache_read_tokens * self.cached_input_cost
            + (cache_write_tokens - one_hour) * self.cache_write_cost
            + one_hour * self.input_cost * 2
            + output_tokens * self.output_cost
        ) / _PER_MILLION
