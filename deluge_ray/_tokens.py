"""Token counting for scheduling and for the mock provider's usage figures.

The count decides how much token-per-minute capacity a request leases, so it must be
cheap and must never fail. tiktoken supplies exact counts when its encoding files can
be loaded; they are downloaded on first use, which fails on machines without internet
(these build machines among them). When the encoding is unavailable we fall back to an
estimate and warn once per process:

    tokens ≈ ceil(len(text) / FALLBACK_CHARS_PER_TOKEN)      (4 characters per token)

which is within ~20% of real BPE counts for English prose and code. The estimate only
sizes rate-limit leases; the limiter corrects itself with the usage each response
reports, so a rough estimate costs a little pacing accuracy, never correctness.

Set ``DELUGE_RAY_TOKENIZER=estimate`` to skip tiktoken entirely (useful on machines where
a download attempt would hang instead of failing fast).
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from typing import Any, Protocol

from ._constants import FALLBACK_CHARS_PER_TOKEN

__all__ = [
    "Encoder",
    "count_text_tokens",
    "encoding_name_for_model",
    "estimate_tokens",
    "get_encoder",
    "set_encoder",
]


class Encoder(Protocol):
    """Anything with tiktoken's ``encode`` signature."""

    def encode(self, text: str, *, disallowed_special: Any = ...) -> list[int]: ...


# Models whose tokenizer is o200k_base; everything else that is OpenAI uses cl100k_base.
# Anthropic and Gemini publish no tokenizer, so o200k_base is our best public proxy for them.
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "text-embedding")

_lock = threading.Lock()
_encoders: dict[str, Encoder | None] = {}
_warned = False


def encoding_name_for_model(model: str | None) -> str:
    """Return the tiktoken encoding name used to count tokens for ``model``."""
    name = (model or "").lower()
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


def _load_encoding(name: str) -> Encoder | None:
    if os.environ.get("DELUGE_RAY_TOKENIZER", "").lower() == "estimate":
        return None
    try:
        import tiktoken

        return tiktoken.get_encoding(name)
    except Exception as exc:  # network failure, missing cache, corrupt file: all mean "estimate"
        _warn_once(name, exc)
        return None


def _warn_once(name: str, exc: BaseException) -> None:
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(
        f"tiktoken encoding {name!r} is unavailable ({type(exc).__name__}); token counts are "
        f"estimated as len(text)/{FALLBACK_CHARS_PER_TOKEN:g}. Pre-download the encoding "
        "(TIKTOKEN_CACHE_DIR) for exact counts, or set DELUGE_RAY_TOKENIZER=estimate to "
        "silence this warning.",
        RuntimeWarning,
        stacklevel=3,
    )


def get_encoder(model: str | None = None) -> Encoder | None:
    """Return the tiktoken encoder for ``model``, or ``None`` when it cannot be loaded.

    Loading is attempted once per encoding per process; the outcome is remembered.
    """
    name = encoding_name_for_model(model)
    with _lock:
        if name not in _encoders:
            _encoders[name] = _load_encoding(name)
        return _encoders[name]


def set_encoder(name: str, encoder: Encoder | None) -> None:
    """Install ``encoder`` for the encoding ``name`` (tests, or machines with custom files)."""
    with _lock:
        _encoders[name] = encoder


def estimate_tokens(text: str) -> int:
    """The documented fallback: one token per ``FALLBACK_CHARS_PER_TOKEN`` characters."""
    if not text:
        return 0
    return math.ceil(len(text) / FALLBACK_CHARS_PER_TOKEN)


def count_text_tokens(text: str, model: str | None = None) -> int:
    """Count the tokens of ``text`` as ``model`` would, exactly when possible.

    >>> count_text_tokens("") == 0
    True
    """
    if not text:
        return 0
    encoder = get_encoder(model)
    if encoder is None:
        return estimate_tokens(text)
    return len(encoder.encode(text, disallowed_special=()))
