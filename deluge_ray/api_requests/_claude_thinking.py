"""How a Claude request asks for thinking and effort, following lm-deluge 0.0.168.

Two settings reach Claude. The output effort (``global_effort`` / ``verbosity``) becomes
``output_config.effort`` on the models that take one. Thinking is either an explicit
``budget_tokens`` (Claude 4.5 and older, and Claude 4.6 when given a ``thinking_budget``)
or *adaptive* thinking at an effort (Claude 4.6 and later, see
``APIModel.thinking_style``): there ``reasoning_effort`` is sent as the effort, and on the
models that reject a budget a ``thinking_budget`` is turned into the nearest effort.
Effort levels Claude lacks are mapped as 0.0.168 maps them: ``minimal`` → ``low``, and
``xhigh`` → ``max`` before Claude Opus 4.7.
"""

from __future__ import annotations

from typing import Any

from ..config import SamplingParams
from ..models import APIModel

__all__ = ["adaptive_thinking", "claude_effort", "output_effort"]

# A thinking budget below each bound is sent as this effort (0.0.168's translation).
_BUDGET_EFFORTS = ((2_048, "low"), (8_192, "medium"), (32_768, "high"))


def _takes_xhigh(model: APIModel) -> bool:
    # 0.0.168's registry marks Claude 5 and later; Opus 4.7/4.8 only by their style.
    return model.supports_xhigh or model.thinking_style == "adaptive_summarized"


def claude_effort(model: APIModel, effort: str) -> str | None:
    """``effort`` as a level Claude has (``None`` for ``"none"``, which it lacks)."""
    if effort == "none":
        return None
    if effort == "minimal":
        return "low"
    if effort == "xhigh" and not _takes_xhigh(model):
        return "max"
    return effort


def output_effort(model: APIModel, asked: str | None) -> str | None:
    """The ``output_config.effort`` for output effort ``asked``, on models that take one.

    >>> from deluge_ray.models import get_model
    >>> output_effort(get_model("claude-4.6-sonnet"), "xhigh")
    'max'
    >>> output_effort(get_model("claude-4.7-opus"), "xhigh")
    'xhigh'
    """
    if asked is None or not model.supports_effort:
        return None
    return claude_effort(model, asked)


def adaptive_thinking(model: APIModel, sp: SamplingParams) -> tuple[dict[str, Any], str] | None:
    """``(thinking, effort)`` for a model that thinks adaptively, or ``None`` when the
    request does not ask for thinking this way (no effort asked, ``"none"``, a budget on a
    model that still takes budgets, or an older model).

    >>> from deluge_ray.models import get_model
    >>> adaptive_thinking(get_model("claude-4.7-opus"), SamplingParams(thinking_budget=10_000))
    ({'type': 'adaptive', 'display': 'summarized'}, 'high')
    """
    style = model.thinking_style
    if style == "budget" or not model.reasoning_model:
        return None
    if sp.thinking_budget is None:
        wanted = sp.reasoning_effort
    elif style == "adaptive" or sp.thinking_budget <= 0:
        return None
    else:
        bands = (e for bound, e in _BUDGET_EFFORTS if sp.thinking_budget < bound)
        wanted = next(bands, "xhigh")
    effort = claude_effort(model, wanted) if wanted is not None else None
    if effort is None:
        return None
    thinking: dict[str, Any] = {"type": "adaptive"}
    if style == "adaptive_summarized":
        thinking["display"] = "summarized"  # so the thinking can be read as well as replayed
    return thinking, effort
