"""What every pipeline shares: the client protocol and JSON recovery from completions."""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

__all__ = ["PromptClient", "parse_json_completion"]


class PromptClient(Protocol):
    """The part of :class:`~deluge_ray.LLMClient` the pipelines use."""

    async def process_prompts_async(self, prompts: Any, **kwargs: Any) -> list[Any]: ...


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def parse_json_completion(text: str | None) -> Any:
    """The JSON value in a completion, tolerating code fences and surrounding prose.

    Raises ``ValueError`` when no JSON object or array can be found.

    >>> parse_json_completion('Sure! ```json\\n{"a": 1}\\n```')
    {'a': 1}
    """
    if text is None:
        raise ValueError("the model returned no text")
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for candidate in candidates:
        try:
            return json.loads(candidate.strip())
        except ValueError:
            pass
    # Last resort: the outermost {...} (or [...]) span inside prose.
    for open_, close in (("{", "}"), ("[", "]")):
        start, end = text.find(open_), text.rfind(close)
        if 0 <= start < end:
            try:
                return json.loads(text[start : end + 1])
            except ValueError:
                pass
    raise ValueError(f"no JSON found in the completion: {text[:120]!r}")
