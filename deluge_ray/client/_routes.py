"""Resolve a client's models into :class:`ModelRoute` records, once, on the driver.

For each model: its base URL (``resolved_base_url()`` reads this process's environment),
its API key (:func:`~deluge_ray._secrets.read_api_key`, raising
:class:`~deluge_ray.errors.MissingAPIKeyError` naming the variable *before* anything is
sent) and the shared RateLimiter for its provider and key fingerprint.

    >>> from deluge_ray.client._config import normalise_models
    >>> cfg = normalise_models("gpt-4.1-mini", model_weights="uniform",
    ...                        sampling_params=None, defaults={})
    >>> keys = read_keys(cfg)          # doctest: +SKIP  (needs OPENAI_API_KEY)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._secrets import Secret
from ..transport._work import ModelRoute
from ._config import ModelConfig

__all__ = ["LimiterLimits", "build_routes", "limiter_name", "read_keys"]

# (rpm, tpm, max_concurrent)
LimiterLimits = tuple[int, int, int]


def limiter_name(provider: str, key: Secret | None) -> str:
    """The RateLimiter actor's name: provider plus key *fingerprint*, never the key."""
    fingerprint = key.fingerprint() if key is not None else "nokey"
    return f"limiter:{provider}:{fingerprint}"


def read_keys(cfg: ModelConfig) -> list[Secret | None]:
    """Every model's key from this process's environment (MissingAPIKeyError if unset)."""
    return [m.resolve_api_key() for m in cfg.models]


def default_limiter_factory(provider: str, key: Secret | None, limits: LimiterLimits) -> Any:
    """The shared, named RateLimiter actor of ``provider`` + key (created if missing)."""
    from ..actors.rate_limiter import get_rate_limiter

    rpm, tpm, max_concurrent = limits
    fingerprint = key.fingerprint() if key is not None else "nokey"
    return get_rate_limiter(provider, fingerprint, rpm=rpm, tpm=tpm, max_concurrent=max_concurrent)


def build_routes(
    cfg: ModelConfig,
    keys: list[Secret | None],
    limits: LimiterLimits,
    limiter_factory: Callable[[str, Secret | None, LimiterLimits], Any] | None,
    tenant: Any = None,
) -> tuple[ModelRoute, ...]:
    """One route per model; models sharing a provider and key share one limiter handle.

    ``tenant`` (the client's ``ratelimit._priority.Tenant``) goes into every route.
    """
    limiters_by_name: dict[str, Any] = {}
    routes = []
    for model, params, weight, key in zip(
        cfg.models, cfg.sampling_params, cfg.weights, keys, strict=True
    ):
        name = limiter_name(model.provider, key)
        if limiter_factory is not None and name not in limiters_by_name:
            limiters_by_name[name] = limiter_factory(model.provider, key, limits)
        routes.append(
            ModelRoute(
                model=model,
                sampling_params=params,
                weight=weight,
                base_url=model.resolved_base_url(),
                api_key=key,
                limiter=limiters_by_name.get(name),
                limiter_name=name,
                tenant=tenant,
            )
        )
    return tuple(routes)
