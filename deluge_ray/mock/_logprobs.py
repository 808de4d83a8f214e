"""Deterministic token log-probabilities for the mock's chat completions.

When a request sets ``logprobs: true`` the answer carries ``choices[0].logprobs.content``:
one entry per token of the reply text (``token``, ``logprob``, ``bytes``, and
``top_logprobs`` with ``top_logprobs: N`` alternatives). Nothing is random: the same text
always gets the same numbers, so tests can assert on them.

* Tokens are word pieces with their leading space (``"Yes"``, ``"."``, ``" the"``), the
  way BPE vocabularies split English; the pieces join back to the exact text.
* The chosen token's probability lies in [0.55, 0.95), from a hash of its position and
  spelling, so it always heads its own ``top_logprobs``. The remaining mass goes, halving
  each time, to alternatives: the opposite answer for yes/no/true/false tokens first (so
  a yes/no judge gets a meaningful probability), then other spellings of the token, then
  common filler tokens. Probabilities of a position sum to less than 1.

    >>> entries = token_logprobs("Yes.", 2)
    >>> [e["token"] for e in entries], [t["token"] for t in entries[0]["top_logprobs"]]
    (['Yes', '.'], ['Yes', 'No'])
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

__all__ = ["split_tokens", "token_logprobs"]

_TOKEN = re.compile(r" ?[A-Za-z0-9_]+| ?[^\sA-Za-z0-9_]+|\s+")
_OPPOSITES = {"yes": "no", "no": "yes", "true": "false", "false": "true"}
_FILLER = (" the", ",", ".", " a", " and", " of", " to", " in", " is", " it", "\n", " that")
_FILLER += (" for", " on", " with", " as", " I", " be", " at", " this", " not", " or")


def split_tokens(text: str) -> list[str]:
    """Word-piece tokens of ``text`` that join back to it exactly.

    >>> split_tokens("Hello, world!")
    ['Hello', ',', ' world', '!']
    """
    return _TOKEN.findall(text)


def _same_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word.capitalize()
    return word


def _alternatives(token: str) -> list[str]:
    """Other tokens that could have stood here, most plausible first (never ``token``)."""
    space = " " if token.startswith(" ") else ""
    core = token.strip()
    candidates: list[str] = []
    opposite = _OPPOSITES.get(core.lower())
    if opposite:
        candidates.append(space + _same_case(opposite, core))
    candidates += [
        space + core.lower(),
        space + core.capitalize(),
        space + core.upper(),
        core if space else " " + core,
    ]
    if opposite:
        candidates.append(" " + opposite if not space else opposite)
    candidates += _FILLER
    seen = {token}
    out = []
    for candidate in candidates:
        if candidate and candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out


def _chosen_probability(position: int, token: str) -> float:
    digest = hashlib.sha256(f"{position}:{token}".encode()).digest()
    return 0.55 + 0.4 * int.from_bytes(digest[:4], "big") / 2**32


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode())}


def token_logprobs(text: str, top: int | None) -> list[dict[str, Any]]:
    """``logprobs.content`` for ``text`` with ``top`` alternatives per token (0-20)."""
    entries = []
    for position, token in enumerate(split_tokens(text)):
        p = _chosen_probability(position, token)
        entry = {**_entry(token, math.log(p)), "top_logprobs": []}
        if top:
            ranked = [_entry(token, math.log(p))]
            rest = 1.0 - p
            for alternative in _alternatives(token)[: top - 1]:
                rest /= 2
                ranked.append(_entry(alternative, math.log(rest)))
            entry["top_logprobs"] = ranked
        entries.append(entry)
    return entries
