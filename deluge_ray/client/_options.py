"""Check an LLMClient's non-model constructor arguments, and read a config mapping.

Each bad value raises :class:`~deluge_ray.errors.ConfigurationError` naming the argument
and what it must be, before the client does anything.

    >>> check_client_options(max_attempts=0, request_timeout=30, background=False,
    ...                      use_responses_api=False, progress="rich", num_callers=None,
    ...                      postprocess=None)
    Traceback (most recent call last):
    ...
    deluge_ray.errors.ConfigurationError: max_attempts must be an integer >= 1, got 0.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..config import EFFORT_LEVELS, SamplingParams
from ..errors import ConfigurationError
from ._driver_callers import callers_for

__all__ = [
    "CACHE_TTLS",
    "PROGRESS_STYLES",
    "SERVICE_TIERS",
    "THINKING_PREFIX_BEHAVIOURS",
    "check_client_options",
    "check_service_tier",
    "check_unsendable_options",
    "client_kwargs",
    "default_num_callers",
    "output_effort",
    "read_config_file",
]

SERVICE_TIERS = ("auto", "default", "flex", "priority")
PROGRESS_STYLES = ("rich", "tqdm", "manual")
CACHE_TTLS = ("5m", "1h")
THINKING_PREFIX_BEHAVIOURS = ("error", "drop_block")


def check_client_options(
    *,
    max_attempts: Any,
    request_timeout: Any,
    background: bool,
    use_responses_api: bool,
    progress: Any,
    num_callers: Any,
    postprocess: Any,
) -> None:
    """Refuse a bad constructor argument with a message naming it (see the module doc)."""
    if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or max_attempts < 1:
        raise ConfigurationError(f"max_attempts must be an integer >= 1, got {max_attempts!r}.")
    if not isinstance(request_timeout, (int, float)) or request_timeout <= 0:
        raise ConfigurationError(
            f"request_timeout must be a positive number of seconds, got {request_timeout!r}."
        )
    if background and not use_responses_api:
        raise ConfigurationError(
            "background=True needs use_responses_api=True (background jobs exist only in "
            "OpenAI's Responses API)."
        )
    if progress not in PROGRESS_STYLES:
        raise ConfigurationError(
            f"progress must be one of {list(PROGRESS_STYLES)}, got {progress!r}."
        )
    if num_callers is not None and (
        not isinstance(num_callers, int) or isinstance(num_callers, bool) or num_callers < 1
    ):
        raise ConfigurationError(f"num_callers must be a positive integer, got {num_callers!r}.")
    if postprocess is not None and not callable(postprocess):
        raise ConfigurationError("postprocess must be a callable taking an APIResponse.")


def output_effort(global_effort: Any, verbosity: Any) -> str | None:
    """The one output-effort level that ``global_effort`` and its alias ``verbosity`` name.

    >>> output_effort(None, "low")
    'low'
    """
    for name, value in (("global_effort", global_effort), ("verbosity", verbosity)):
        if value is not None and value not in EFFORT_LEVELS:
            raise ConfigurationError(
                f"{name} must be one of {list(EFFORT_LEVELS)} or None, got {value!r}."
            )
    if global_effort is not None and verbosity is not None and global_effort != verbosity:
        raise ConfigurationError(
            f"global_effort={global_effort!r} and verbosity={verbosity!r} disagree; they are "
            "one setting under two names, so give only one of them."
        )
    return global_effort if global_effort is not None else verbosity


def _unsupported(name: str, value: Any, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"{name}={value!r} is not supported by deluge_ray: {why}. Leave {name} at its default."
    )


def check_unsendable_options(
    *,
    cache_ttl: Any,
    stateless_responses: Any,
    use_responses_api: bool,
    thinking_prefix_mismatch: Any,
    task_budget: Any,
) -> None:
    """Refuse the 0.0.168 arguments deluge_ray cannot honour, rather than drop them.

    Each is accepted at its 0.0.168 default (which is what deluge_ray does anyway); any
    other value raises :class:`ConfigurationError` naming the argument.
    """
    if cache_ttl is not None:
        if cache_ttl not in CACHE_TTLS:
            raise ConfigurationError(
                f"cache_ttl must be one of {list(CACHE_TTLS)} or None, got {cache_ttl!r}."
            )
        raise _unsupported(
            "cache_ttl", cache_ttl, "Anthropic cache breakpoints are sent with the default TTL"
        )
    if stateless_responses is not None:
        if not use_responses_api:
            raise ConfigurationError(
                "stateless_responses is only valid with use_responses_api=True "
                f"(got stateless_responses={stateless_responses!r})."
            )
        raise _unsupported(
            "stateless_responses",
            stateless_responses,
            "Responses requests to reasoning models are always stateless (store=False, "
            "encrypted reasoning replayed) and others are stored",
        )
    if thinking_prefix_mismatch not in THINKING_PREFIX_BEHAVIOURS:
        raise ConfigurationError(
            f"thinking_prefix_mismatch must be one of {list(THINKING_PREFIX_BEHAVIOURS)}, "
            f"got {thinking_prefix_mismatch!r}."
        )
    if thinking_prefix_mismatch != "error":
        raise _unsupported(
            "thinking_prefix_mismatch",
            thinking_prefix_mismatch,
            "an Anthropic thinking-prefix rejection is returned as an error response",
        )
    if task_budget is not None:
        raise _unsupported(
            "task_budget", task_budget, "Anthropic's agentic task budget is not sent yet"
        )


def check_service_tier(service_tier: Any) -> None:
    """Refuse a ``service_tier`` that is not one of :data:`SERVICE_TIERS` or ``None``."""
    if service_tier is not None and service_tier not in SERVICE_TIERS:
        raise ConfigurationError(
            f"service_tier must be one of {list(SERVICE_TIERS)} or None, got {service_tier!r}."
        )


def client_kwargs(config_dict: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """``(model_names, other arguments)`` from a config mapping; ``sampling_params`` may be
    dicts (one or a list), as in a YAML file."""
    config = dict(config_dict)
    model_names = config.pop("model_names", "gpt-4.1-mini")
    sp = config.get("sampling_params")
    if isinstance(sp, dict):
        config["sampling_params"] = [SamplingParams(**sp)]
    elif isinstance(sp, list):
        config["sampling_params"] = [SamplingParams(**p) if isinstance(p, dict) else p for p in sp]
    return model_names, config


def read_config_file(file_path: str) -> dict[str, Any]:
    """The mapping of constructor arguments in the YAML file ``file_path``."""
    with open(file_path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    if not isinstance(config, dict):
        raise ConfigurationError(f"{file_path} must hold a mapping of LLMClient arguments.")
    return config


def default_num_callers(max_concurrent_requests: int) -> int:
    """ProviderCaller actors for a client that did not choose (the rule: ``callers_for``)."""
    return callers_for(max_concurrent_requests)
