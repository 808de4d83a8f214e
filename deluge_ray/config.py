"""Decoding options shared by every provider: :class:`SamplingParams`.

The fields mirror lm-deluge's ``SamplingParams`` one for one, so configurations written
for it keep working. Every field is checked when the object is built *and* when a field
is reassigned later, so a bad value is reported where it was written, not deep inside a
request builder running on another machine.

    >>> sp = SamplingParams(temperature=0.2, max_new_tokens=256)
    >>> sp.max_new_tokens
    256
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ConfigurationError

__all__ = ["EFFORT_LEVELS", "GLOBAL_EFFORT_LEVELS", "SamplingParams"]

ReasoningEffort = Literal["low", "medium", "high", "minimal", "none"]
GlobalEffort = Literal["low", "medium", "high"]

EFFORT_LEVELS: tuple[str, ...] = ("low", "medium", "high", "minimal", "none")
GLOBAL_EFFORT_LEVELS: tuple[str, ...] = ("low", "medium", "high")
# OpenAI accepts at most 20 alternatives per token position.
MAX_TOP_LOGPROBS = 20


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_temperature(value: Any) -> None:
    if not _is_number(value) or not 0.0 <= value <= 2.0:
        raise ConfigurationError(
            f"temperature must be a number between 0 and 2 inclusive, got {value!r}."
        )


def _check_top_p(value: Any) -> None:
    if not _is_number(value) or not 0.0 < value <= 1.0:
        raise ConfigurationError(
            f"top_p must be a number greater than 0 and at most 1, got {value!r}."
        )


def _check_max_new_tokens(value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigurationError(
            f"max_new_tokens must be a positive integer, got {value!r}; "
            "it caps how many tokens the model may generate."
        )


def _check_global_effort(value: Any) -> None:
    if value not in GLOBAL_EFFORT_LEVELS:
        raise ConfigurationError(
            f"global_effort must be one of {list(GLOBAL_EFFORT_LEVELS)}, got {value!r}."
        )


def _check_reasoning_effort(value: Any) -> None:
    if value is not None and value not in EFFORT_LEVELS:
        raise ConfigurationError(
            f"reasoning_effort must be one of {list(EFFORT_LEVELS)} or None, got {value!r}."
        )


def _check_thinking_budget(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigurationError(
            f"thinking_budget must be a non-negative integer or None, got {value!r}."
        )


def _check_bool(name: str) -> Any:
    def check(value: Any) -> None:
        if not isinstance(value, bool):
            raise ConfigurationError(f"{name} must be True or False, got {value!r}.")

    return check


def _check_top_logprobs(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TOP_LOGPROBS:
        raise ConfigurationError(
            f"top_logprobs must be an integer from 0 to {MAX_TOP_LOGPROBS} or None, got {value!r}."
        )


_CHECKS = {
    "temperature": _check_temperature,
    "top_p": _check_top_p,
    "json_mode": _check_bool("json_mode"),
    "max_new_tokens": _check_max_new_tokens,
    "global_effort": _check_global_effort,
    "reasoning_effort": _check_reasoning_effort,
    "thinking_budget": _check_thinking_budget,
    "logprobs": _check_bool("logprobs"),
    "top_logprobs": _check_top_logprobs,
    "strict_tools": _check_bool("strict_tools"),
}


@dataclass
class SamplingParams:
    """How to decode: temperature, nucleus sampling, output length and reasoning options.

    Args:
        temperature: 0 to 2; lower is more deterministic.
        top_p: nucleus-sampling mass, in (0, 1].
        json_mode: ask the provider for a JSON object (OpenAI ``response_format``,
            Gemini ``responseMimeType``).
        max_new_tokens: cap on generated tokens (positive).
        global_effort: Anthropic's output effort for claude-4.5-opus.
        reasoning_effort: effort for reasoning models; on Anthropic and Gemini it is
            turned into a thinking budget.
        thinking_budget: explicit thinking tokens for Anthropic or Gemini; wins over
            ``reasoning_effort`` (with a warning) when both are set.
        logprobs, top_logprobs: return token log-probabilities (OpenAI); top_logprobs 0..20.
        strict_tools: send tool definitions in strict mode where the provider allows it.

    Invalid values raise :class:`~deluge_ray.errors.ConfigurationError`:

    >>> SamplingParams(temperature=3)
    Traceback (most recent call last):
    ...
    deluge_ray.errors.ConfigurationError: temperature must be a number between 0 and 2 inclusive, got 3.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    json_mode: bool = False
    max_new_tokens: int = 2_048
    global_effort: GlobalEffort = "high"
    reasoning_effort: ReasoningEffort | None = None
    thinking_budget: int | None = None
    logprobs: bool = False
    top_logprobs: int | None = None
    strict_tools: bool = True

    def __setattr__(self, name: str, value: Any) -> None:
        # Validating on every assignment (including the ones __init__ makes) keeps an
        # object valid for its whole life, not just at construction.
        check = _CHECKS.get(name)
        if check is not None:
            check(value)
        object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain JSON-safe dict (``SamplingParams(**d)`` rebuilds it)."""
        return dataclasses.asdict(self)

    def copy(self, **changes: Any) -> SamplingParams:
        """A validated copy with ``changes`` applied.

        >>> SamplingParams().copy(temperature=0.0).temperature
        0.0
        """
        return dataclasses.replace(self, **changes)

    def to_vllm(self) -> Any:
        """This configuration as a ``vllm.SamplingParams`` for local inference.

        Raises ``ImportError`` naming the missing package when vllm is not installed.
        """
        try:
            import vllm  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ImportError(
                "SamplingParams.to_vllm() needs the 'vllm' package; install it with "
                "`pip install vllm`."
            ) from exc
        return vllm.SamplingParams(
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_new_tokens,
            logprobs=self.top_logprobs if self.logprobs else None,
        )
