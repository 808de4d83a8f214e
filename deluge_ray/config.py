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

__all__ = ["EFFORT_LEVELS", "GLOBAL_EFFORT_LEVELS", "MEDIA_RESOLUTIONS", "SamplingParams"]

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
GlobalEffort = ReasoningEffort
MediaResolution = Literal[
    "media_resolution_low", "media_resolution_medium", "media_resolution_high"
]

# The levels lm-deluge 0.0.168 accepts, for reasoning and for output effort alike.
EFFORT_LEVELS: tuple[str, ...] = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
GLOBAL_EFFORT_LEVELS: tuple[str, ...] = EFFORT_LEVELS
MEDIA_RESOLUTIONS: tuple[str, ...] = (
    "media_resolution_low",
    "media_resolution_medium",
    "media_resolution_high",
)
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


def _check_output_effort(name: str) -> Any:
    def check(value: Any) -> None:
        if value is not None and value not in GLOBAL_EFFORT_LEVELS:
            raise ConfigurationError(
                f"{name} must be one of {list(GLOBAL_EFFORT_LEVELS)} or None, got {value!r}."
            )

    return check


def _check_not_sent(name: str, what: str) -> Any:
    # Accepted by name for lm-deluge compatibility, but no request builder here sends it:
    # refusing a value is better than dropping it without a word.
    def check(value: Any) -> None:
        if value is not None:
            raise ConfigurationError(
                f"{name}={value!r} is not supported by deluge_ray ({what} is not sent to "
                f"any provider yet); leave {name} as None."
            )

    return check


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
    "global_effort": _check_output_effort("global_effort"),
    "verbosity": _check_output_effort("verbosity"),
    "reasoning_effort": _check_reasoning_effort,
    "thinking_budget": _check_thinking_budget,
    "logprobs": _check_bool("logprobs"),
    "top_logprobs": _check_top_logprobs,
    "strict_tools": _check_bool("strict_tools"),
    "media_resolution": _check_not_sent("media_resolution", "Gemini 3's media resolution"),
    "task_budget": _check_not_sent("task_budget", "Anthropic's agentic task budget"),
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
        global_effort: output effort (Anthropic's ``effort`` for the models that take it).
        verbosity: the same setting under OpenAI's name; setting one sets the other, and
            setting both to different values is an error.
        reasoning_effort: effort for reasoning models; on Anthropic and Gemini it is
            turned into a thinking budget.
        thinking_budget: explicit thinking tokens for Anthropic or Gemini; wins over
            ``reasoning_effort`` (with a warning) when both are set.
        logprobs, top_logprobs: return token log-probabilities (OpenAI); top_logprobs 0..20.
        strict_tools: send tool definitions in strict mode where the provider allows it.
        media_resolution, task_budget: accepted for lm-deluge compatibility; only ``None``
            is allowed, since deluge_ray does not send them yet.

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
    global_effort: GlobalEffort | None = None
    verbosity: GlobalEffort | None = None
    reasoning_effort: ReasoningEffort | None = None
    thinking_budget: int | None = None
    logprobs: bool = False
    top_logprobs: int | None = None
    strict_tools: bool = True
    media_resolution: MediaResolution | None = None
    task_budget: int | None = None

    def __post_init__(self) -> None:
        # verbosity and global_effort are one setting under two names (as in 0.0.168).
        if self.verbosity is not None and self.global_effort is not None:
            if self.verbosity != self.global_effort:
                raise ConfigurationError(
                    f"verbosity={self.verbosity!r} and global_effort={self.global_effort!r} "
                    "disagree; they are one setting, so give only one of them."
                )
        elif self.verbosity is not None:
            self.global_effort = self.verbosity
        elif self.global_effort is not None:
            self.verbosity = self.global_effort

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
        # Changing one name of the output effort changes the other (they are one setting).
        if "global_effort" in changes and "verbosity" not in changes:
            changes["verbosity"] = changes["global_effort"]
        elif "verbosity" in changes and "global_effort" not in changes:
            changes["global_effort"] = changes["verbosity"]
        return dataclasses.replace(self, **changes)

    def model_dump(self) -> dict[str, Any]:
        """:meth:`to_dict` under pydantic's name (lm-deluge's SamplingParams is a pydantic model)."""
        return self.to_dict()

    def model_copy(
        self, *, update: dict[str, Any] | None = None, deep: bool = False
    ) -> SamplingParams:
        """:meth:`copy` under pydantic's name; every field is a scalar, so ``deep`` changes nothing."""
        return self.copy(**(update or {}))

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
