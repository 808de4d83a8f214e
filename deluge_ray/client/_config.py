"""Normalise and validate an LLMClient's model settings: names, weights, sampling params.

:func:`normalise_models` turns what a user may write (one name or a list, one
SamplingParams or a list or none, ``"uniform"`` or explicit weights) into three aligned
tuples, or raises a :class:`~deluge_ray.errors.ConfigurationError` naming the bad argument.

    >>> cfg = normalise_models(["gpt-4.1-mini", "gpt-4.1-nano"], model_weights=[3, 1],
    ...                        sampling_params=None, defaults=dict(max_new_tokens=64))
    >>> cfg.model_names, cfg.weights, cfg.sampling_params[1].max_new_tokens
    (('gpt-4.1-mini', 'gpt-4.1-nano'), (0.75, 0.25), 64)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config import SamplingParams
from ..errors import ConfigurationError
from ..models import APIModel, get_model, split_effort_suffix, split_effort_suffixes

__all__ = ["ModelConfig", "check_limits", "fallback_ids", "normalise_models"]


@dataclass(frozen=True)
class ModelConfig:
    """Aligned per-model settings: ``models[i]`` uses ``sampling_params[i]`` with ``weights[i]``."""

    models: tuple[APIModel, ...]
    sampling_params: tuple[SamplingParams, ...]
    weights: tuple[float, ...]

    @property
    def model_names(self) -> tuple[str, ...]:
        """The registry ids, in the user's order."""
        return tuple(m.id for m in self.models)

    @property
    def max_new_tokens(self) -> int:
        """The largest ``max_new_tokens`` of any model: what one request may reserve."""
        return max(sp.max_new_tokens for sp in self.sampling_params)


def _positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")


def check_limits(rpm: Any, tpm: Any, max_concurrent: Any) -> None:
    """Raise :class:`ConfigurationError` unless all three limits are positive integers."""
    _positive_int("max_requests_per_minute", rpm)
    _positive_int("max_tokens_per_minute", tpm)
    _positive_int("max_concurrent_requests", max_concurrent)


def _weights(model_weights: Any, n: int) -> tuple[float, ...]:
    if model_weights == "uniform":
        return tuple(1.0 / n for _ in range(n))
    if model_weights == "dynamic":
        raise NotImplementedError(
            "model_weights='dynamic' is reserved for a future auto-balancing mode; "
            "use 'uniform' or a list of floats, one per model."
        )
    if not isinstance(model_weights, (list, tuple)):
        raise ConfigurationError(
            f"model_weights must be 'uniform' or a list of numbers, got {model_weights!r}."
        )
    if len(model_weights) != n:
        raise ConfigurationError(
            f"model_weights has {len(model_weights)} entries but there are {n} models; "
            "give one weight per model name, in the same order."
        )
    for w in model_weights:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
            raise ConfigurationError(
                f"model_weights must be non-negative numbers, got {list(model_weights)!r}."
            )
    total = float(sum(model_weights))
    if total <= 0:
        raise ConfigurationError("model_weights must give at least one model a positive weight.")
    return tuple(float(w) / total for w in model_weights)


def fallback_ids(fallback_models: Any) -> list[str]:
    """The registry ids of ``fallback_models`` (one name or a list), suffixes stripped,
    each once and in order."""
    if fallback_models is None:
        return []
    if isinstance(fallback_models, str):
        fallback_models = [fallback_models]
    if not isinstance(fallback_models, (list, tuple)) or not all(
        isinstance(m, str) for m in fallback_models
    ):
        raise ConfigurationError(
            f"fallback_models must be a model name or a list of them, got {fallback_models!r}."
        )
    ids: list[str] = []
    for name in fallback_models:
        model_id = split_effort_suffix(name)[0]
        if model_id not in ids:
            ids.append(model_id)
    return ids


def _with_fallbacks(
    names: list[str], fallbacks: list[str], model_weights: Any, sampling_params: Any
) -> tuple[list[str], Any, Any]:
    # As 0.0.168: fallbacks not already named join the end with weight 0, so a request
    # goes to one of them only when the weighted models cannot take it (the runner then
    # picks among the zero-weight routes). A per-model sampling list gets the first's copy.
    added = [m for m in fallbacks if m not in names]
    if not added:
        return names, model_weights, sampling_params
    if model_weights == "uniform":
        model_weights = [1.0] * len(names)
    if isinstance(model_weights, (list, tuple)) and len(model_weights) == len(names):
        model_weights = [*model_weights, *([0.0] * len(added))]
    if (
        isinstance(sampling_params, (list, tuple))
        and len(sampling_params) > 1
        and len(sampling_params) == len(names)
    ):
        sampling_params = [*sampling_params, *(sampling_params[0].copy() for _ in added)]
    return names + added, model_weights, sampling_params


def normalise_models(
    model_names: str | Sequence[str],
    *,
    model_weights: Any,
    sampling_params: SamplingParams | Sequence[SamplingParams] | None,
    defaults: dict[str, Any],
    logprobs: bool = False,
    top_logprobs: int | None = None,
    fallback_models: Sequence[str] = (),
) -> ModelConfig:
    """Validate the model settings of a client; see the module docstring.

    ``defaults`` are the SamplingParams keyword arguments used when ``sampling_params``
    is empty (the client's ``temperature``, ``top_p``, ``max_new_tokens``, ...).
    ``fallback_models`` (registry ids) are appended with weight 0 unless already named.
    """
    names, suffix_effort = split_effort_suffixes(model_names)  # "gpt-5-high" -> gpt-5, high
    if suffix_effort and defaults.get("reasoning_effort") is None:
        defaults = {**defaults, "reasoning_effort": suffix_effort}
    if not names:
        raise ConfigurationError("model_names is empty; name at least one model.")
    names, model_weights, sampling_params = _with_fallbacks(
        names, list(fallback_models), model_weights, sampling_params
    )
    models = tuple(get_model(name) for name in names)  # UnknownModelError with suggestions
    weights = _weights(model_weights, len(models))

    if sampling_params is None or (
        isinstance(sampling_params, (list, tuple)) and len(sampling_params) == 0
    ):
        params = [SamplingParams(**defaults) for _ in models]
    elif isinstance(sampling_params, SamplingParams):
        params = [sampling_params.copy() for _ in models]
    else:
        params = list(sampling_params)
        if not all(isinstance(p, SamplingParams) for p in params):
            raise ConfigurationError(
                "sampling_params must be a SamplingParams or a list of them, got "
                f"{[type(p).__name__ for p in params]}."
            )
        if len(params) == 1 and len(models) > 1:
            params = [params[0].copy() for _ in models]
        elif len(params) != len(models):
            raise ConfigurationError(
                f"sampling_params has {len(params)} entries but there are {len(models)} "
                "models; give one per model, or a single one for all."
            )

    if logprobs or any(p.logprobs for p in params):
        unsupported = [m.id for m in models if not m.supports_logprobs]
        if unsupported:
            raise ConfigurationError(
                f"logprobs=True but {unsupported} do not support logprobs; "
                "remove those models or disable logprobs."
            )
        params = [
            p.copy(logprobs=True, top_logprobs=p.top_logprobs or top_logprobs) for p in params
        ]
    return ModelConfig(models=models, sampling_params=tuple(params), weights=weights)
