"""An LLMClient's configuration as data: build from a dict or YAML, dump, re-validate,
change the limits and switch models (lm-deluge 0.0.168's pydantic-style ``model_dump`` / ``model_validate`` and
``with_model`` / ``with_models``).

:class:`ConfigurableClient` is a mixin of :class:`~deluge_ray.client.LLMClient`; it reads
and writes the client's public settings only, plus the engine reset a model switch needs.

    >>> from deluge_ray.client import LLMClient
    >>> client = LLMClient("gpt-4.1-mini", max_new_tokens=32, progress="manual")
    >>> again = LLMClient.model_validate(client.model_dump())
    >>> again.model_names, again.sampling_params[0].max_new_tokens
    (['gpt-4.1-mini'], 32)
    >>> client.with_model("o3-high").model_names, client.sampling_params[0].reasoning_effort
    (['o3'], 'high')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from ..errors import ConfigurationError
from ..models import split_effort_suffix
from ._config import ModelConfig, check_limits, normalise_models
from ._options import client_kwargs, read_config_file
from ._sync import loop_running_in_this_thread

__all__ = ["DUMPED_FIELDS", "ConfigurableClient"]

Client = TypeVar("Client", bound="ConfigurableClient")

#: The constructor arguments :meth:`ConfigurableClient.model_dump` writes, in 0.0.168's
#: field order, then deluge_ray's two additions.
DUMPED_FIELDS: tuple[str, ...] = (
    "model_names",
    "name",
    "max_requests_per_minute",
    "max_tokens_per_minute",
    "max_concurrent_requests",
    "sampling_params",
    "model_weights",
    "fallback_models",
    "max_attempts",
    "request_timeout",
    "cache",
    "cache_ttl",
    "extra_headers",
    "extra_body",
    "thinking_prefix_mismatch",
    "use_responses_api",
    "stateless_responses",
    "background",
    "temperature",
    "top_p",
    "json_mode",
    "max_new_tokens",
    "reasoning_effort",
    "global_effort",
    "verbosity",
    "thinking_budget",
    "task_budget",
    "logprobs",
    "top_logprobs",
    "force_local_mcp",
    "progress",
    "postprocess",
    "address",
    "num_callers",
)


class ConfigurableClient:
    """Configuration round trip and model switching for :class:`LLMClient`."""

    # Set by LLMClient.__init__; declared here for readers and type checkers.
    model_names: list[str]
    sampling_params: list[Any]
    model_weights: list[float]
    fallback_models: list[str]
    reasoning_effort: Any
    logprobs: bool
    top_logprobs: int | None
    num_callers: int
    max_requests_per_minute: int
    max_tokens_per_minute: int
    max_concurrent_requests: int
    _num_callers_chosen: bool
    _models: ModelConfig
    _routes: Any
    _tracker: Any

    # ---- building ------------------------------------------------------------------------
    @classmethod
    def from_dict(cls: type[Client], config_dict: dict[str, Any]) -> Client:
        """A client from a dict of constructor arguments (``sampling_params`` as dicts).

        >>> from deluge_ray.client import LLMClient
        >>> LLMClient.from_dict({"model_names": "gpt-4.1-mini", "max_new_tokens": 32}).max_new_tokens
        32
        """
        if not isinstance(config_dict, dict):
            raise ConfigurationError(
                f"an LLMClient configuration must be a dict, got {type(config_dict).__name__}."
            )
        model_names, config = client_kwargs(config_dict)
        try:
            return cls(model_names, **config)  # type: ignore[call-arg]
        except TypeError as exc:
            raise ConfigurationError(f"invalid LLMClient configuration: {exc}") from exc

    @classmethod
    def from_yaml(cls: type[Client], file_path: str) -> Client:
        """A client from a YAML file holding the same mapping as :meth:`from_dict`."""
        return cls.from_dict(read_config_file(file_path))

    @classmethod
    def model_validate(cls: type[Client], obj: Any) -> Client:
        """A client from ``obj``: a client (returned as is) or a :meth:`model_dump` dict."""
        if isinstance(obj, cls):
            return obj
        return cls.from_dict(obj)

    def model_dump(
        self, *, include: Sequence[str] | None = None, exclude: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The constructor arguments that rebuild this client, after normalisation.

        ``model_names`` and ``model_weights`` are lists (fallbacks included), and
        ``sampling_params`` a list of dicts; ``cache`` and ``postprocess`` are the objects
        themselves. ``num_callers`` is ``None`` when the client chose its own pool size.
        """
        dumped = {name: getattr(self, name) for name in DUMPED_FIELDS}
        dumped["model_names"] = list(self.model_names)
        dumped["model_weights"] = list(self.model_weights)
        dumped["fallback_models"] = list(self.fallback_models)
        dumped["sampling_params"] = [sp.to_dict() for sp in self.sampling_params]
        dumped["num_callers"] = self.num_callers if self._num_callers_chosen else None
        if include is not None:
            dumped = {k: v for k, v in dumped.items() if k in include}
        if exclude is not None:
            dumped = {k: v for k, v in dumped.items() if k not in exclude}
        return dumped

    # ---- limits -------------------------------------------------------------------------
    def with_limits(
        self: Client,
        max_requests_per_minute: int | None = None,
        max_tokens_per_minute: int | None = None,
        max_concurrent_requests: int | None = None,
    ) -> Client:
        """Change the limits (and the shared limiter's, if already created); returns self."""
        rpm = max_requests_per_minute or self.max_requests_per_minute
        tpm = max_tokens_per_minute or self.max_tokens_per_minute
        conc = max_concurrent_requests or self.max_concurrent_requests
        check_limits(rpm, tpm, conc)
        self.max_requests_per_minute, self.max_tokens_per_minute = rpm, tpm
        self.max_concurrent_requests = conc
        if self._tracker is not None:
            self._tracker.set_limits(rpm, tpm, conc)
        limiters = {id(r.limiter): r.limiter for r in self._routes or () if r.limiter}
        applied = [
            h.set_limits.remote(rpm=rpm, tpm=tpm, max_concurrent=conc) for h in limiters.values()
        ]
        if applied and not loop_running_in_this_thread():
            # Wait, so the next request is paced by the new limits; inside a running loop
            # (a notebook) the update lands in the background instead of blocking it.
            import ray

            ray.get(applied)
        return self

    # ---- switching models ----------------------------------------------------------------
    def with_model(self: Client, model: str) -> Client:
        """Use ``model`` (an effort suffix such as ``-high`` is honoured) from now on;
        returns self. The fallback models stay."""
        return self.with_models([model])

    def with_models(self: Client, models: Sequence[str]) -> Client:
        """Use ``models`` from now on, uniformly weighted, fallbacks kept; returns self.

        The first sampling params are copied to every model unless there is already one
        per model. A model-name effort suffix sets that model's ``reasoning_effort``
        (and the client's, if it had none and the suffixes agree), as in 0.0.168.
        """
        if isinstance(models, str) or not models:
            raise ConfigurationError(
                f"with_models takes a non-empty list of model names, got {models!r}."
            )
        split = [split_effort_suffix(m) for m in models]
        names = [name for name, _ in split]
        efforts = [effort for _, effort in split]
        if self.reasoning_effort is None and None not in efforts and len(set(efforts)) == 1:
            self.reasoning_effort = efforts[0]
        # One sampling params per model, fallbacks included, as 0.0.168 aligns them: the
        # current list if it already has that length, else copies of its first entry.
        total = len(names) + len([m for m in self.fallback_models if m not in names])
        current = list(self.sampling_params)
        if len(current) == total:
            params = [sp.copy() for sp in current]
        else:
            params = [current[0].copy() for _ in range(total)]
        efforts += [None] * (total - len(efforts))
        for sp, effort in zip(params, efforts, strict=True):
            effort = self.reasoning_effort or effort
            if effort is not None:
                sp.reasoning_effort = effort
        config = normalise_models(
            names,
            model_weights="uniform",
            sampling_params=params,
            defaults={},
            logprobs=self.logprobs,
            top_logprobs=self.top_logprobs,
            fallback_models=self.fallback_models,
        )
        self._reset_engine()
        self._use_models(config)
        return self

    def _use_models(self, config: ModelConfig) -> None:
        self._models = config
        self.model_names = list(config.model_names)
        self.sampling_params = list(config.sampling_params)
        self.model_weights = list(config.weights)

    def _reset_engine(self) -> None:
        """Drop the engine and routes built for the old models (rebuilt on the next call)."""
        self.shutdown()  # type: ignore[attr-defined]
        self._routes = None
