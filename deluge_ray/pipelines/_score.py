"""Yes/no scoring with an LLM judge, optionally as probabilities from logprobs."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from ..errors import ConfigurationError
from ._common import PromptClient

__all__ = ["score_llm", "score_llm_async", "yes_probability"]


def _format(template: str, item: Any) -> str:
    if isinstance(item, dict):
        return template.format(**item)
    if isinstance(item, (tuple, list)):
        return template.format(*item)
    return template.format(item)


def yes_probability(logprobs: list[dict[str, Any]] | None, yes_token: str = "yes") -> float | None:
    """P(the answer starts with ``yes_token``) from the first generated token's logprobs.

    Uses the ``top_logprobs`` alternatives when present (summing every spelling of the
    yes token); otherwise the chosen token's own probability.

    >>> yes_probability([{"token": "Yes", "logprob": math.log(0.8), "top_logprobs": []}])
    0.8
    """
    if not logprobs:
        return None
    first = logprobs[0]
    want = yes_token.strip().lower()
    top = first.get("top_logprobs") or []
    if top:
        return min(
            1.0, sum(math.exp(t["logprob"]) for t in top if t["token"].strip().lower() == want)
        )
    p = math.exp(first["logprob"])
    return round(p, 12) if first["token"].strip().lower() == want else round(1.0 - p, 12)


def _wants_logprobs(client: Any) -> bool:
    if getattr(client, "logprobs", False):
        return True
    params = getattr(client, "sampling_params", None) or []
    return any(getattr(sp, "logprobs", False) for sp in params)


async def score_llm_async(
    scoring_prompt_template: str,
    inputs: list[Any],
    scoring_model: PromptClient,
    return_probabilities: bool = False,
    yes_token: str = "yes",
) -> list[bool | None] | list[float | None]:
    """Ask the yes/no question ``template`` (formatted with each input) of every input.

    Returns ``True``/``False`` per input (``None`` when the answer is neither or the
    request failed), or with ``return_probabilities=True`` the probability of "yes" from
    the first token's logprobs (the client must have ``logprobs=True``).
    """
    if not scoring_prompt_template:
        raise ConfigurationError("score_llm needs a scoring_prompt_template with {} placeholders.")
    if return_probabilities and not _wants_logprobs(scoring_model):
        raise ConfigurationError(
            "return_probabilities=True needs logprobs: create the client with logprobs=True "
            "(and top_logprobs=5 for calibrated probabilities) on a model that supports them."
        )
    prompts = [_format(scoring_prompt_template, item) for item in inputs]
    responses = await scoring_model.process_prompts_async(prompts, show_progress=False)
    want = yes_token.strip().lower()
    scores: list[Any] = []
    for response in responses:
        if response is None or getattr(response, "is_error", False):
            scores.append(None)
        elif return_probabilities:
            scores.append(yes_probability(response.logprobs, yes_token))
        else:
            words = (response.completion or "").strip().lower().split()
            first = words[0].strip(".,!:;\"'") if words else ""
            scores.append(True if first == want else False if first in ("no", "false") else None)
    return scores


def score_llm(
    scoring_prompt_template: str,
    inputs: list[Any],
    scoring_model: PromptClient,
    return_probabilities: bool = False,
    yes_token: str = "yes",
) -> list[bool | None] | list[float | None]:
    """:func:`score_llm_async` for synchronous code."""
    return asyncio.run(
        score_llm_async(
            scoring_prompt_template, inputs, scoring_model, return_probabilities, yes_token
        )
    )
