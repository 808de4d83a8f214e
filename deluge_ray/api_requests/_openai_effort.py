"""What OpenAI-format requests say about effort: ``reasoning_effort`` and ``verbosity``.

The rules are lm-deluge 0.0.168's, so a request built here asks a model for what the same
request from 0.0.168 asks: an effort the model does not take is lowered to the nearest one
it does (``max`` → ``xhigh`` → ``high``, ``none``/``minimal`` → ``low``), a reasoning model
asked for nothing gets ``low``, and the output effort (``verbosity`` / ``global_effort``,
one setting) is sent as OpenAI's three-level ``verbosity`` to the models that take it.

    >>> from deluge_ray.models import get_model
    >>> reasoning_effort_for(get_model("o3"), SamplingParams(reasoning_effort="max"))
    'high'
    >>> reasoning_effort_for(get_model("gpt-5.2"), SamplingParams(reasoning_effort="max"))
    'xhigh'
    >>> verbosity_for(get_model("gpt-5"), SamplingParams(global_effort="max"))
    'high'
"""

from __future__ import annotations

import warnings
from typing import Any

from ..config import SamplingParams
from ..models import APIModel

__all__ = ["openai_sampling_fields", "reasoning_effort_for", "verbosity_for"]

# OpenAI's verbosity has three levels; the seven output-effort levels fold onto them.
_VERBOSITY = {
    "none": "low",
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}


def _lowered(model: APIModel, asked: str, sent: str) -> str:
    if sent != asked:
        warnings.warn(
            f"reasoning_effort={asked!r} is not supported by {model.id}; sending {sent!r}.",
            UserWarning,
            stacklevel=4,
        )
    return sent


def _supported_effort(model: APIModel, effort: str) -> str:
    """``effort`` lowered to one ``model`` takes."""
    if effort == "none" and not model.supports_reasoning_none:
        return _lowered(model, effort, "low")
    if effort == "minimal" and not model.supports_minimal_reasoning:
        if model.supports_reasoning_none:
            return _lowered(model, effort, "none")
        # 0.0.168 leaves "minimal" alone for any gpt-5 id (the family introduced it).
        if "gpt-5" not in model.id:
            return _lowered(model, effort, "low")
    if effort == "xhigh" and not model.supports_xhigh:
        return _lowered(model, effort, "high")
    if effort == "max" and not model.supports_max_reasoning:
        return _lowered(model, effort, "xhigh" if model.supports_xhigh else "high")
    return effort


def reasoning_effort_for(model: APIModel, sp: SamplingParams, *, chat: bool = True) -> str | None:
    """The reasoning effort to send to reasoning ``model``, or ``None`` to send none.

    No effort asked for means ``"low"``, unless the model was registered with
    ``omit_default_reasoning_effort``. Gemini models behind an OpenAI-compatible endpoint
    get ``"none"`` for no effort, and Inception's Mercury (chat completions) ``"instant"``.
    """
    asked = sp.reasoning_effort
    if asked is None and model.omit_default_reasoning_effort:
        return None
    if "gemini" in model.id and asked in (None, "none"):
        return "none"
    if chat and "mercury" in model.id and asked in (None, "none", "minimal"):
        return "instant"
    if asked is None:
        return "low"
    return _supported_effort(model, asked)


def verbosity_for(model: APIModel, sp: SamplingParams) -> str | None:
    """OpenAI's ``verbosity`` for the output effort asked for, or ``None`` to send none."""
    asked = sp.verbosity or sp.global_effort
    if asked is None:
        return None
    if not model.supports_verbosity:
        warnings.warn(
            f"verbosity={asked!r} ignored: {model.id} does not take OpenAI's verbosity.",
            UserWarning,
            stacklevel=3,
        )
        return None
    return _VERBOSITY[asked]


def openai_sampling_fields(
    model: APIModel, sp: SamplingParams, *, chat: bool = True
) -> tuple[dict[str, Any], str | None]:
    """``(temperature/top_p fields, reasoning effort or None)`` for an OpenAI-format body.

    A reasoning model that takes ``xhigh`` (GPT-5.2 and later) refuses temperature and
    top_p while it reasons, so they are left out; other reasoning models get both at 1.0
    (the only values they accept). ``omit_default_sampling_params`` leaves out a value of
    exactly 1.0 and keeps any other the caller set, for servers that reject the fields.
    """
    fields: dict[str, Any] = {"temperature": sp.temperature, "top_p": sp.top_p}
    if model.omit_default_sampling_params:
        fields = {name: value for name, value in fields.items() if value != 1.0}
    effort = None
    if model.reasoning_model:
        effort = reasoning_effort_for(model, sp, chat=chat)
        if model.supports_xhigh and effort not in (None, "none"):
            fields = {}
        elif not model.omit_default_sampling_params:
            fields = {"temperature": 1.0, "top_p": 1.0}
    elif sp.reasoning_effort not in (None, "none"):
        warnings.warn(
            f"reasoning_effort={sp.reasoning_effort!r} ignored: {model.id} is not a "
            "reasoning model.",
            UserWarning,
            stacklevel=3,
        )
    return fields, effort
