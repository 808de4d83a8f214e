"""What reading an input yields: a :class:`JobRecord` to run or an :class:`InputProblem` to report.

Also the text checks every reader shares: a lone surrogate code point (``"\\ud800"``)
cannot be encoded as UTF-8, so no provider and no output file can take it; a prompt
holding one is a problem, an id holding one is repaired deterministically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["InputProblem", "JobRecord", "repair_text", "surrogate_at", "surrogate_in"]

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class JobRecord:
    """One prompt of the input: its id, the raw prompt and the line (or row) it came from.

    ``warning`` says what was repaired on the way in (today: an id that could not be
    written as UTF-8), or is ``None``. ``settings`` holds an OpenAI batch line's body
    fields other than its messages (``model``, ``max_tokens``, ...), or is ``None``.
    """

    id: str
    prompt: Any  # a str, or a list of message dicts (OpenAI or Anthropic shape)
    system: str | None
    line: int
    warning: str | None = None
    settings: dict[str, Any] | None = None


@dataclass(frozen=True)
class InputProblem:
    """A line (or Parquet row) of the input that cannot be used; the rest still runs.

    ``source`` names the file when the input is several files (a directory or a glob).
    """

    line: int
    message: str
    source: str | None = None
    unit: str = "line"

    def __str__(self) -> str:
        where = f"{self.source} " if self.source else ""
        if self.line <= 0:  # a problem of no one line (a duplicate id seen by Ray Data)
            return f"{where}{self.message}".strip()
        return f"{where}{self.unit} {self.line}: {self.message}"


def surrogate_at(text: str) -> int | None:
    """Index of the first lone surrogate code point in ``text``, or ``None``."""
    found = _SURROGATE.search(text)
    return found.start() if found else None


def repair_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by its escape (``\\ud800``), as UTF-8-safe text."""
    return "".join(f"\\u{ord(char):04x}" if "\ud800" <= char <= "\udfff" else char for char in text)


def surrogate_in(value: Any, where: str) -> str | None:
    """Where in a JSON value (``where`` names it) a lone surrogate sits, or ``None``."""
    if isinstance(value, str):
        index = surrogate_at(value)
        if index is None:
            return None
        return (
            f"{where} holds a lone surrogate (\\u{ord(value[index]):04x}) at character {index + 1}"
        )
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = surrogate_in(item, f"{where}[{key!r}]")
        if found:
            return found
    return None
