"""Reading prompt files for ``deluge-ray run``: every line either a record or a reported problem.

Input is JSONL or CSV. A JSONL line is one of::

    "a bare prompt string"
    {"id": "q1", "prompt": "text", "system": "optional system prompt"}
    {"id": "q2", "messages": [...OpenAI or Anthropic shaped messages...], "system": "..."}

A CSV file has a header row with a prompt column (``prompt`` unless told otherwise) and,
optionally, ``id`` and ``system`` columns. Records without an id are numbered by their line.

Reading never raises on a bad line: a line that is not valid UTF-8, not valid JSON, of the
wrong shape, or whose text holds a lone surrogate (``"\\ud800"``, which no provider
accepts) becomes an :class:`InputProblem` with its line and column, and the next line is
read. A UTF-8 byte-order mark is ignored. An id that cannot be written as UTF-8 (a lone
surrogate) is repaired deterministically (the surrogate becomes the text ``\\ud800``) and
the record carries a warning, so a resumed run repairs it the same way and finds its row.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = [
    "InputProblem",
    "JobRecord",
    "check_input",
    "read_records",
    "repair_text",
    "surrogate_at",
]


_SURROGATE = re.compile("[\ud800-\udfff]")
# The characters a JSON text can start with. A line starting with anything else is
# reported without calling the parser: a file of a million such lines (a CSV or a log
# passed as JSONL) is read in seconds, not in a million exceptions.
_JSON_START = frozenset('{["-0123456789tfn')
_NOT_JSON = "invalid JSON: Expecting value at column {column}"


@dataclass(frozen=True)
class JobRecord:
    """One prompt from the input file: its id, the raw prompt and the line it came from.

    ``warning`` says what was repaired on the way in (today: an id that could not be
    written as UTF-8), or is ``None``.
    """

    id: str
    prompt: Any  # a str, or a list of message dicts (OpenAI or Anthropic shape)
    system: str | None
    line: int
    warning: str | None = None


@dataclass(frozen=True)
class InputProblem:
    """A line of the input that cannot be used; the rest of the file still runs."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def surrogate_at(text: str) -> int | None:
    """Index of the first lone surrogate code point in ``text``, or ``None``.

    Such a code point cannot be encoded as UTF-8, so no provider (and no output file)
    can take it.
    """
    found = _SURROGATE.search(text)
    return found.start() if found else None


def repair_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by its escape (``\\ud800``), as UTF-8-safe text."""
    return "".join(f"\\u{ord(char):04x}" if "\ud800" <= char <= "\udfff" else char for char in text)


def _surrogate_in(value: Any, where: str) -> str | None:
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
        found = _surrogate_in(item, f"{where}[{key!r}]")
        if found:
            return found
    return None


def _invalid_utf8(text: str, line: int) -> InputProblem | None:
    # The file is decoded with errors="surrogateescape": each undecodable byte becomes
    # one code point U+DC80..U+DCFF, which valid UTF-8 never produces.
    index = surrogate_at(text)
    if index is None:
        return None
    byte = ord(text[index]) - 0xDC00
    return InputProblem(
        line,
        f"not valid UTF-8 (byte 0x{byte:02x} at column {index + 1}); save the file as UTF-8",
    )


def _checked_id(value: Any, line: int) -> tuple[str, str | None] | InputProblem:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return InputProblem(line, "'id' must be a string or an integer")
    ident = str(value)
    if not ident.strip():
        return InputProblem(line, "'id' is empty")
    if surrogate_at(ident) is None:
        return ident, None
    repaired = repair_text(ident)
    return repaired, f"line {line}: id holds a lone surrogate; written as {repaired!r}"


def _record_from_json(value: Any, line: int) -> JobRecord | InputProblem:
    if isinstance(value, str):
        if not value.strip():
            return InputProblem(line, "empty prompt string")
        problem = _surrogate_in(value, "the prompt")
        if problem:
            return InputProblem(line, problem)
        return JobRecord(str(line), value, None, line)
    if not isinstance(value, dict):
        return InputProblem(
            line,
            f"expected a string or an object with 'prompt' or 'messages', got {type(value).__name__}",
        )
    checked = _checked_id(value.get("id", line), line)
    if isinstance(checked, InputProblem):
        return checked
    ident, warning = checked
    system = value.get("system")
    if system is not None and not isinstance(system, str):
        return InputProblem(line, "'system' must be a string")
    if "prompt" in value:
        prompt = value["prompt"]
        if not isinstance(prompt, str) or not prompt.strip():
            return InputProblem(line, "'prompt' must be a non-empty string")
        problem = _surrogate_in(prompt, "'prompt'")
    elif "messages" in value:
        prompt = value["messages"]
        if not isinstance(prompt, list) or not prompt:
            return InputProblem(line, "'messages' must be a non-empty list of message objects")
        problem = _surrogate_in(prompt, "'messages'")
    else:
        return InputProblem(line, "object has neither 'prompt' nor 'messages'")
    problem = problem or _surrogate_in(system, "'system'")
    if problem:
        return InputProblem(line, problem)
    return JobRecord(ident, prompt, system, line, warning)


def _read_jsonl(fh: Any) -> Iterator[JobRecord | InputProblem]:
    for line_no, raw in enumerate(fh, start=1):
        if not raw.strip():
            continue
        bad_bytes = _invalid_utf8(raw, line_no)
        if bad_bytes:
            yield bad_bytes
            continue
        start = raw.lstrip()
        if start[0] not in _JSON_START:
            yield InputProblem(line_no, _NOT_JSON.format(column=len(raw) - len(start) + 1))
            continue
        text = raw.rstrip("\r\n")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            # The message names the column where parsing failed (for a line cut short, where
            # its unterminated string or object starts), counted in characters from 1.
            reason = exc.msg.removesuffix(" at")
            where = f"column {exc.colno}"
            if exc.pos >= len(text):
                where += " (the line ends there: is it cut short?)"
            yield InputProblem(line_no, f"invalid JSON: {reason} at {where}")
            continue
        except RecursionError:
            yield InputProblem(line_no, "invalid JSON: nested too deeply")
            continue
        yield _record_from_json(value, line_no)


def _read_csv(fh: Any, prompt_column: str) -> Iterator[JobRecord | InputProblem]:
    reader = csv.DictReader(fh)
    try:
        columns = reader.fieldnames or []
    except csv.Error as exc:
        raise ConfigurationError(f"CSV header is not readable: {exc}") from None
    if prompt_column not in columns:
        raise ConfigurationError(
            f"CSV has no {prompt_column!r} column (columns: {', '.join(columns) or 'none'}); "
            "pass --prompt-column NAME"
        )
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a NUL byte; the reader goes on with the next line
            yield InputProblem(reader.line_num, f"unreadable CSV row ({exc})")
            continue
        yield _record_from_csv_row(row, reader.line_num, prompt_column)


def _record_from_csv_row(row: dict, line: int, prompt_column: str) -> JobRecord | InputProblem:
    cells = " ".join(str(v) for v in row.values() if isinstance(v, str))
    bad_bytes = _invalid_utf8(cells, line)
    if bad_bytes:
        return InputProblem(line, "not valid UTF-8; save the file as UTF-8")
    prompt = (row.get(prompt_column) or "").strip()
    if not prompt:
        return InputProblem(line, f"empty {prompt_column!r} cell")
    checked = _checked_id((row.get("id") or "").strip() or line, line)
    if isinstance(checked, InputProblem):
        return checked
    system = (row.get("system") or "").strip() or None
    return JobRecord(checked[0], prompt, system, line, checked[1])


def check_input(path: str | os.PathLike[str]) -> Path:
    """The input file as a Path; :class:`ConfigurationError` when it is not a readable file."""
    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(f"input file not found: {file}")
    return file


def read_records(
    path: str | os.PathLike[str], *, prompt_column: str = "prompt"
) -> Iterator[JobRecord | InputProblem]:
    """Yield each record of a JSONL or CSV prompt file, lazily, in file order.

    Raises :class:`ConfigurationError` if the file does not exist or a CSV file lacks its
    prompt column; every other problem is yielded as an :class:`InputProblem`.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "in.jsonl"
    >>> _ = p.write_text('"hi"\\n{"id": "a", "prompt": "yo"}\\n')
    >>> [r.id for r in read_records(p)]
    ['1', 'a']
    """
    file = check_input(path)
    is_csv = file.suffix.lower() == ".csv"
    # utf-8-sig drops a byte-order mark; surrogateescape turns bad bytes into code points
    # that the line checks report, instead of one UnicodeDecodeError ending the whole file.
    with open(
        file, newline="" if is_csv else None, encoding="utf-8-sig", errors="surrogateescape"
    ) as fh:
        if is_csv:
            yield from _read_csv(fh, prompt_column)
        else:
            yield from _read_jsonl(fh)
