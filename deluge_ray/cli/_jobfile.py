"""Reading prompt inputs for ``deluge-ray run``: every line either a record or a reported problem.

The input is a file, a directory or a glob (:mod:`._sources`) of JSONL, CSV or Parquet
files, read lazily in order. A JSONL line is one of::

    "a bare prompt string"
    {"id": "q1", "prompt": "text", "system": "optional system prompt"}
    {"id": "q2", "messages": [...OpenAI or Anthropic shaped messages...], "system": "..."}
    {"custom_id": "q3", "method": "POST", "url": "/v1/chat/completions", "body": {...}}

(the last an OpenAI Batch API request line, :mod:`._openai_batch`). A CSV file has a
header row with a prompt column (``prompt`` unless told otherwise) and, optionally, ``id``
and ``system`` columns; a Parquet file has the same columns, or ``messages``
(:mod:`._parquet`). Records without an id are numbered by their line (or row); when the
input is several files the number is prefixed by the file's name (``part-0.parquet:7``).

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
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ._openai_batch import is_batch_line, record_from_batch_line
from ._parquet import read_parquet
from ._records import InputProblem, JobRecord, repair_text, surrogate_at, surrogate_in
from ._sources import file_format, input_files, is_multi_file

__all__ = [
    "InputProblem",
    "JobRecord",
    "check_input",
    "read_records",
    "repair_text",
    "surrogate_at",
]


# The characters a JSON text can start with. A line starting with anything else is
# reported without calling the parser: a file of a million such lines (a CSV or a log
# passed as JSONL) is read in seconds, not in a million exceptions.
_JSON_START = frozenset('{["-0123456789tfn')
_NOT_JSON = "invalid JSON: Expecting value at column {column}"


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


def _record_from_json(value: Any, line: int, prefix: str = "") -> JobRecord | InputProblem:
    """The record of one JSON value; ``prefix`` + the line number is the id of one without."""
    if isinstance(value, str):
        if not value.strip():
            return InputProblem(line, "empty prompt string")
        problem = surrogate_in(value, "the prompt")
        if problem:
            return InputProblem(line, problem)
        return JobRecord(f"{prefix}{line}", value, None, line)
    if not isinstance(value, dict):
        return InputProblem(
            line,
            f"expected a string or an object with 'prompt' or 'messages', got {type(value).__name__}",
        )
    if is_batch_line(value):
        return record_from_batch_line(value, line)
    checked = _checked_id(value.get("id", f"{prefix}{line}"), line)
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
        problem = surrogate_in(prompt, "'prompt'")
    elif "messages" in value:
        prompt = value["messages"]
        if not isinstance(prompt, list) or not prompt:
            return InputProblem(line, "'messages' must be a non-empty list of message objects")
        problem = surrogate_in(prompt, "'messages'")
    else:
        return InputProblem(line, "object has neither 'prompt' nor 'messages'")
    problem = problem or surrogate_in(system, "'system'")
    if problem:
        return InputProblem(line, problem)
    return JobRecord(ident, prompt, system, line, warning)


def _read_jsonl(fh: Any, prefix: str) -> Iterator[JobRecord | InputProblem]:
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
        yield _record_from_json(value, line_no, prefix)


def _read_csv(fh: Any, prompt_column: str, prefix: str) -> Iterator[JobRecord | InputProblem]:
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
        yield _record_from_csv_row(row, reader.line_num, prompt_column, prefix)


def _record_from_csv_row(
    row: dict, line: int, prompt_column: str, prefix: str
) -> JobRecord | InputProblem:
    cells = " ".join(str(v) for v in row.values() if isinstance(v, str))
    bad_bytes = _invalid_utf8(cells, line)
    if bad_bytes:
        return InputProblem(line, "not valid UTF-8; save the file as UTF-8")
    prompt = (row.get(prompt_column) or "").strip()
    if not prompt:
        return InputProblem(line, f"empty {prompt_column!r} cell")
    checked = _checked_id((row.get("id") or "").strip() or f"{prefix}{line}", line)
    if isinstance(checked, InputProblem):
        return checked
    system = (row.get("system") or "").strip() or None
    return JobRecord(checked[0], prompt, system, line, checked[1])


def check_input(
    path: str | os.PathLike[str], *, exclude: Iterable[str | os.PathLike[str]] = ()
) -> list[Path]:
    """The files the input names; :class:`ConfigurationError` when it names none."""
    return input_files(path, exclude=exclude)


def _read_file(file: Path, prompt_column: str, prefix: str) -> Iterator[JobRecord | InputProblem]:
    kind = file_format(file)
    if kind == "parquet":
        yield from read_parquet(
            file, prompt_column, lambda value, row: _record_from_json(value, row, prefix)
        )
        return
    is_csv = kind == "csv"
    # utf-8-sig drops a byte-order mark; surrogateescape turns bad bytes into code points
    # that the line checks report, instead of one UnicodeDecodeError ending the whole file.
    with open(
        file, newline="" if is_csv else None, encoding="utf-8-sig", errors="surrogateescape"
    ) as fh:
        if is_csv:
            try:
                yield from _read_csv(fh, prompt_column, prefix)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{file}: {exc}") from None
        else:
            yield from _read_jsonl(fh, prefix)


def read_records(
    path: str | os.PathLike[str],
    *,
    prompt_column: str = "prompt",
    exclude: Iterable[str | os.PathLike[str]] = (),
) -> Iterator[JobRecord | InputProblem]:
    """Yield each record of a prompt input (a file, a directory, a glob), lazily, in order.

    Raises :class:`ConfigurationError` if the input names no file or a CSV or Parquet file
    lacks its prompt column (naming the columns it has); every other problem is yielded as
    an :class:`InputProblem`. ``exclude`` names files a directory or glob must skip (the
    run's own output).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "in.jsonl"
    >>> _ = p.write_text('"hi"\\n{"id": "a", "prompt": "yo"}\\n')
    >>> [r.id for r in read_records(p)]
    ['1', 'a']
    """
    files = check_input(path, exclude=exclude)
    several = is_multi_file(path)
    base = Path(path) if Path(path).is_dir() else None
    for file in files:
        name = str(file.relative_to(base)) if base is not None else str(file)
        prefix = f"{name}:" if several else ""
        unit = "row" if file_format(file) == "parquet" else "line"
        for item in _read_file(file, prompt_column, prefix):
            if isinstance(item, InputProblem) and (several or unit != "line"):
                item = replace(item, source=name if several else None, unit=unit)
            yield item
