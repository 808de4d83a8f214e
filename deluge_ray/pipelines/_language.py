"""Offline language detection: writing systems first, then stop-word overlap.

No model download and no network: enough to tell English from other languages for
:func:`~deluge_ray.pipelines.translate`, which is all it is used for.

    >>> detect_language("The cat is on the table and it is happy.")
    'en'
    >>> detect_language("El gato está en la mesa y es muy feliz.")
    'es'
    >>> detect_language("猫はテーブルの上にいます")
    'ja'
"""

from __future__ import annotations

import re

__all__ = ["detect_language", "is_english"]

# Scripts that identify a language (or family) on their own, checked in this order.
_SCRIPTS: list[tuple[str, re.Pattern[str]]] = [
    ("ja", re.compile(r"[\u3040-\u30ff]")),  # hiragana / katakana before shared kanji
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
]

_STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the and is are was were of to in that it for on with as this be have has not you "
        "i he she we they but or at by from what which there their an will would can".split()
    ),
    "es": frozenset(
        "el la los las de que y en un una es por con para no se del al lo como más pero "
        "sus le ya o este está muy también son fue".split()
    ),
    "fr": frozenset(
        "le la les de des et est un une du en que qui dans pour pas sur au avec ce il elle "
        "nous vous ils sont être mais très cette".split()
    ),
    "de": frozenset(
        "der die das und ist nicht ein eine zu den mit von sich des auf für im dem ich sie "
        "es wir auch sind war aber sehr".split()
    ),
    "it": frozenset(
        "il lo la gli le di che e è un una per non sono con del della nel questo ma anche "
        "molto come più".split()
    ),
    "pt": frozenset(
        "o a os as de que e é um uma do da em para com não se por mais mas como está são "
        "muito também foi".split()
    ),
    "nl": frozenset(
        "de het een en is van in dat niet op te zijn met voor ik je die er maar ook wat "
        "heel".split()
    ),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the most likely language of ``text``, or ``None`` if unknown."""
    if not text or not text.strip():
        return None
    letters = [c for c in text if c.isalpha()]
    for code, pattern in _SCRIPTS:
        hits = len(pattern.findall(text))
        if letters and hits / len(letters) > 0.3:
            return code
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return None
    scores = {code: sum(w in stop for w in words) for code, stop in _STOP_WORDS.items()}
    best = max(scores, key=lambda code: scores[code])
    if scores[best] == 0:
        # No stop words (a name, a single term): Latin script text is taken as English.
        return "en" if all(ord(c) < 128 for c in letters) else None
    return best


def is_english(text: str, low_memory: bool = True) -> bool:
    """True when ``text`` looks English (or is too short to tell from English).

    ``low_memory`` is 0.0.168's switch between a small and a large fastText model; the
    offline detector here is always small, so either value gives the same answer.
    """
    return detect_language(text) in ("en", None)
