"""The registry of known models: :data:`registry`, :func:`get_model`, :func:`register_model`."""

from __future__ import annotations

import dataclasses
import difflib
import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .._constants import API_KEY_ENV_VARS, DEFAULT_BASE_URLS
from ..errors import ConfigurationError, UnknownModelError
from ._anthropic import ANTHROPIC_ALIASES, ANTHROPIC_MODELS
from ._cohere import COHERE_RERANK_MODELS
from ._gemini import GEMINI_MODELS
from ._gen_index import GENERATED
from ._model import APIModel
from ._openai import OPENAI_EMBEDDING_MODELS, OPENAI_MODELS

__all__ = ["get_model", "register_model", "registry"]

API_SPECS = ("openai", "anthropic", "gemini")

_models: dict[str, APIModel] = {}
# register_model may be called from several threads of one driver (notebooks do that).
_lock = threading.Lock()

#: Every known model by id, read-only. ``register_model`` adds to it.
registry: Mapping[str, APIModel] = MappingProxyType(_models)


class _Unset:
    """Marks an argument the caller did not pass (``None`` is a meaningful value)."""

    def __repr__(self) -> str:
        return "<provider default>"


_UNSET: Any = _Unset()


def get_model(name: str) -> APIModel:
    """The model registered as ``name``.

    Raises :class:`~deluge_ray.errors.UnknownModelError` listing the closest known names.

    >>> get_model("gpt-4.1-mini").provider
    'openai'
    """
    model = _models.get(name)
    if model is not None:
        return model
    suggestions = difflib.get_close_matches(str(name), list(_models), n=3, cutoff=0.6)
    raise UnknownModelError(str(name), suggestions)


def register_model(
    id: str,
    *,
    name: str | None = None,
    provider: str = "openai",
    api_spec: str | None = None,
    base_url: str | None = None,
    api_key_env_var: str | None = _UNSET,
    input_cost: float = 0.0,
    cached_input_cost: float | None = None,
    cache_write_cost: float = 0.0,
    output_cost: float = 0.0,
    supports_json: bool = True,
    supports_tools: bool = True,
    supports_images: bool = True,
    supports_logprobs: bool = False,
    reasoning_model: bool = False,
    supports_responses: bool = False,
    supports_effort: bool = False,
    is_embedding: bool = False,
    is_rerank: bool = False,
    min_thinking_budget: int = 0,
    supports_minimal_reasoning: bool = False,
    supports_xhigh: bool = False,
    supports_max_reasoning: bool = False,
    supports_reasoning_none: bool = False,
    supports_verbosity: bool = False,
    omit_default_sampling_params: bool = False,
    omit_default_reasoning_effort: bool = False,
    stateless_responses: bool = False,
    requires_stateless_responses: bool = False,
    regions: list[str] | Mapping[str, int] | None = None,
    aliases: list[str] | None = None,
    api_base: str | None = None,
    api_key_env_var_fallbacks: list[str] | None = None,
) -> APIModel:
    """Add (or replace) a model, e.g. an OpenAI-compatible server, and return it.

    ``name`` defaults to ``id``; ``api_spec`` defaults to the provider's own format (or
    ``"openai"`` for any other provider); ``base_url`` defaults to the provider's public
    URL; ``api_key_env_var`` defaults to the provider's variable and ``None`` means the
    server needs no key; ``cached_input_cost`` defaults to ``input_cost``. As in
    lm-deluge 0.0.168, ``api_base`` is another name for ``base_url`` and every name in
    ``aliases`` also finds the model.

    Also as in 0.0.168: ``api_key_env_var_fallbacks`` are read, in order, when
    ``api_key_env_var`` is unset; ``omit_default_sampling_params`` leaves temperature and
    top_p out of OpenAI-format requests when they are 1.0, and
    ``omit_default_reasoning_effort`` leaves the reasoning effort out when none was asked
    for; ``stateless_responses`` (or ``requires_stateless_responses``) sends every
    Responses-API request with ``store: false`` and the encrypted reasoning included.
    ``regions`` is stored but unused (0.0.168 uses it for Bedrock only).

    >>> m = register_model("my-vllm", name="meta-llama/Llama-3.1-8B-Instruct",
    ...                    provider="vllm", base_url="http://localhost:8000/v1",
    ...                    api_key_env_var=None)
    >>> (m.api_spec, m.api_key_env_var, get_model("my-vllm") is m)
    ('openai', None, True)
    """
    if not id or not isinstance(id, str):
        raise ConfigurationError(f"register_model needs a non-empty string id, got {id!r}.")
    if api_base is not None and base_url is not None and api_base != base_url:
        raise ConfigurationError(
            f"register_model({id!r}): base_url={base_url!r} and api_base={api_base!r} "
            "disagree; pass one of them (api_base is lm-deluge's name for base_url)."
        )
    base_url = base_url or api_base
    spec = api_spec or (provider if provider in API_SPECS else "openai")
    if spec not in API_SPECS:
        raise ConfigurationError(
            f"api_spec must be one of {list(API_SPECS)}, got {spec!r}; use 'openai' for "
            "OpenAI-compatible servers (vLLM, llama.cpp, ...)."
        )
    url = base_url or DEFAULT_BASE_URLS.get(provider)
    if not url:
        raise ConfigurationError(
            f"register_model({id!r}): provider {provider!r} has no default base URL; "
            "pass base_url='http://host:port/v1'."
        )
    if api_key_env_var is _UNSET:
        api_key_env_var = API_KEY_ENV_VARS.get(provider)
    for label, price in (
        ("input_cost", input_cost),
        ("cache_write_cost", cache_write_cost),
        ("output_cost", output_cost),
        ("cached_input_cost", cached_input_cost or 0.0),
    ):
        if price < 0:
            raise ConfigurationError(f"{label} must be >= 0 (USD per million tokens), got {price}.")
    fallbacks = _key_fallbacks(id, api_key_env_var_fallbacks)
    model = APIModel(
        id=id,
        name=name or id,
        provider=provider,
        api_spec=spec,
        api_key_env_var=api_key_env_var,
        base_url=url.rstrip("/"),
        input_cost=input_cost,
        cached_input_cost=input_cost if cached_input_cost is None else cached_input_cost,
        cache_write_cost=cache_write_cost,
        output_cost=output_cost,
        supports_json=supports_json,
        supports_tools=supports_tools,
        supports_images=supports_images,
        supports_logprobs=supports_logprobs,
        reasoning_model=reasoning_model,
        supports_responses=supports_responses,
        supports_effort=supports_effort,
        is_embedding=is_embedding,
        is_rerank=is_rerank,
        min_thinking_budget=min_thinking_budget,
        supports_minimal_reasoning=supports_minimal_reasoning,
        supports_xhigh=supports_xhigh,
        supports_max_reasoning=supports_max_reasoning,
        supports_reasoning_none=supports_reasoning_none,
        supports_verbosity=supports_verbosity,
        api_key_env_var_fallbacks=fallbacks,
        omit_default_sampling_params=omit_default_sampling_params,
        omit_default_reasoning_effort=omit_default_reasoning_effort,
        stateless_responses=stateless_responses,
        requires_stateless_responses=requires_stateless_responses,
        regions=_regions(id, regions),
    )
    with _lock:
        _models[id] = model
        for alias in aliases or ():
            _models[alias] = model
    return model


def _key_fallbacks(model_id: str, names: Any) -> tuple[str, ...]:
    if names is None:
        return ()
    if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
        raise ConfigurationError(
            f"register_model({model_id!r}): api_key_env_var_fallbacks must be a list of "
            f"environment variable names, got {names!r}."
        )
    return tuple(names)


def _regions(model_id: str, regions: Any) -> tuple[str, ...] | Mapping[str, int]:
    if not regions:
        return ()
    if isinstance(regions, Mapping):
        return dict(regions)  # a copy; a mappingproxy would not pickle to the actors
    if isinstance(regions, str):
        raise ConfigurationError(
            f"register_model({model_id!r}): regions must be a list of region names or a "
            f"dict of region -> weight, got the string {regions!r}."
        )
    return tuple(regions)


def _builtin(
    provider: str, model_id: str, row: dict[str, Any], api_spec: str | None = None
) -> APIModel:
    return APIModel(
        id=model_id,
        provider=provider,
        api_spec=api_spec or provider,
        api_key_env_var=API_KEY_ENV_VARS[provider],
        base_url=DEFAULT_BASE_URLS[provider],
        **row,
    )


def _load_generated() -> None:
    """lm-deluge 0.0.168's models (``_gen_*`` tables); an alias shares its model's row,
    so ``get_model(alias).id`` is the model's id, as in 0.0.168."""
    for provider, table in GENERATED:
        for model_id, row in table.MODELS.items():
            _models[model_id] = APIModel(id=model_id, provider=provider, **row)
        for alias, model_id in table.ALIASES.items():
            _models[alias] = _models[model_id]


# Fields only deluge_ray's curated tables know (0.0.168 has no such facts); they are
# carried over onto the generated row of the same id.
_CURATED_ONLY = ("supports_tools", "supports_effort", "min_thinking_budget", "is_embedding")


def _merge_curated(model_id: str, curated: APIModel) -> None:
    generated = _models.get(model_id)
    if generated is None:
        _models[model_id] = curated
        return
    extras = {f: getattr(curated, f) for f in _CURATED_ONLY}
    _models[model_id] = dataclasses.replace(generated, **extras)


def _load_builtins() -> None:
    _load_generated()
    curated: list[tuple[str, APIModel]] = []
    for provider, table in (
        ("openai", OPENAI_MODELS),
        ("openai", OPENAI_EMBEDDING_MODELS),
        ("anthropic", ANTHROPIC_MODELS),
        ("gemini", GEMINI_MODELS),
    ):
        for model_id, row in table.items():
            curated.append((model_id, _builtin(provider, model_id, row)))
    for model_id, row in COHERE_RERANK_MODELS.items():
        # Cohere authenticates with a bearer token, like OpenAI (see models/_cohere.py).
        curated.append((model_id, _builtin("cohere", model_id, row, api_spec="openai")))
    for model_id, model in curated:
        _merge_curated(model_id, model)
    for alias, target in ANTHROPIC_ALIASES.items():
        _models.setdefault(alias, _models[target])


_load_builtins()
