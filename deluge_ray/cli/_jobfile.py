"""Reading prompt files and writing result files for ``deluge-ray run``.

Input is JSONL or CSV. A JSONL line is one of::

    "a bare prompt string"
    {"id": "q1", "prompt": "text", "system": "optional system prompt"}
    {"id": "q2", "messages": [...OpenAI or Anthropic shaped messages...], "system": "..."}

A CSV file has a header row with a prompt column (``prompt`` unless told otherwise) and,
optionally, an ``id`` column. Records without an id are numbered by their line.

Output is JSONL written as results arrive, one object per prompt:
``{"id", "completion", "model", "finish_reason", "usage", "cost", "error"}``. Re-running
the same command resumes: ids already present in the output (successes and failures)
are skipped, so every id appears once. A line cut short by Ctrl-C is ignored and its
prompt runs again. To retry failures, delete their lines and run the command again.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..errors import ConfigurationError

__all__ = [
    "InputProblem",
    "JobRecord",
    "ResultWriter",
    "check_input",
    "completed_ids",
    "read_records",
    "scan_output",
]


@dataclass(frozen=True)
class JobRecord:
    """One prompt from the input file: its id, the raw prompt and the line it came from."""

    id: str
    prompt: Any  # a str, or a list of message dicts (OpenAI or Anthropic shape)
    system: str | None
    line: int


@dataclass(frozen=True)
class InputProblem:
    """A line of the input that cannot be used; the rest of the file still runs."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _record_from_json(value: Any, line: int) -> JobRecord | InputProblem:
    if isinstance(value, str):
        if not value.strip():
            return InputProblem(line, "empty prompt string")
        return JobRecord(str(line), value, None, line)
    if not isinstance(value, dict):
        return InputProblem(
            line,
            f"expected a string or an object with 'prompt' or 'messages', got {type(value).__name__}",
        )
    ident = value.get("id", line)
    if not isinstance(ident, (str, int)):
        return InputProblem(line, "'id' must be a string or an integer")
    system = value.get("system")
    if system is not None and not isinstance(system, str):
        return InputProblem(line, "'system' must be a string")
    if "prompt" in value:
        prompt = value["prompt"]
        if not isinstance(prompt, str) or not prompt.strip():
            return InputProblem(line, "'prompt' must be a non-empty string")
    elif "messages" in value:
        prompt = value["messages"]
        if not isinstance(prompt, list) or not prompt:
            return InputProblem(line, "'messages' must be a non-empty list of message objects")
    else:
        return InputProblem(line, "object has neither 'prompt' nor 'messages'")
    return JobRecord(str(ident), prompt, system, line)


def _read_jsonl(fh: TextIO) -> Iterator[JobRecord | InputProblem]:
    for line_no, raw in enumerate(fh, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield InputProblem(line_no, f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        yield _record_from_json(value, line_no)


def _read_csv(fh: TextIO, prompt_column: str) -> Iterator[JobRecord | InputProblem]:
    reader = csv.DictReader(fh)
    columns = reader.fieldnames or []
    if prompt_column not in columns:
        raise ConfigurationError(
            f"CSV has no {prompt_column!r} column (columns: {', '.join(columns) or 'none'}); "
            "pass --prompt-column NAME"
        )
    for row in reader:
        line_no = reader.line_num
        prompt = (row.get(prompt_column) or "").strip()
        if not prompt:
            yield InputProblem(line_no, f"empty {prompt_column!r} cell")
            continue
        ident = (row.get("id") or "").strip() or str(line_no)
        system = (row.get("system") or "").strip() or None
        yield JobRecord(ident, prompt, system, line_no)


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

    Raises :class:`ConfigurationError` if the file does not exist or is unreadable.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "in.jsonl"
    >>> _ = p.write_text('"hi"\\n{"id": "a", "prompt": "yo"}\\n')
    >>> [r.id for r in read_records(p)]
    ['1', 'a']
    """
    file = check_input(path)
    is_csv = file.suffix.lower() == ".csv"
    with open(file, newline="" if is_csv else None, encoding="utf-8") as fh:
        if is_csv:
            yield from _read_csv(fh, prompt_column)
        else:
            yield from _read_jsonl(fh)


def scan_output(path: str | os.PathLike[str]) -> tuple[set[str], float]:
    """Ids already written to an output file, and the dollars those rows cost.

    Used to resume: those ids are skipped, and their cost counts against ``--budget-usd``.
    A line cut short by Ctrl-C is ignored (its prompt runs again). Failed rows count as
    done too, so every id appears once in the file; to retry failures, delete their lines.
    """
    file = Path(path)
    done: set[str] = set()
    spent = 0.0
    if not file.exists():
        return done, spent
    with open(file, encoding="utf-8") as fh:
        for raw in fh:
            try:
                row = json.loads(raw)
            except json.JSONDecodeError:
                continue  # the last line of an interrupted run
            if isinstance(row, dict) and "id" in row:
                done.add(str(row["id"]))
                cost = row.get("cost")
                if isinstance(cost, (int, float)):
                    spent += float(cost)
    return done, spent


def completed_ids(path: str | os.PathLike[str]) -> set[str]:
    """Ids already written to an output file (see :func:`scan_output`)."""
    return scan_output(path)[0]


class ResultWriter:
    """Appends one JSON line per result and flushes it, so a killed run keeps its work.

    An output file left by an interrupted run may end without a newline; the writer starts
    on a fresh line so the partial record never merges with a new one.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.parent.exists():
            raise ConfigurationError(f"output directory does not exist: {self.path.parent}")
        needs_newline = (
            self.path.exists() and self.path.stat().st_size > 0 and not self._ends_with_newline()
        )
        self._fh = open(self.path, "a", encoding="utf-8")
        if needs_newline:
            self._fh.write("\n")
        self.written = 0

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def write(self, row: dict[str, Any]) -> None:
        # Flushed per row: each row is a paid result, and a SIGKILL or a lost node must not
        # take a buffer of them along (a resumed run would pay for them again).
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()
        self.written += 1

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        self._fh.flush()
        self._fh.close()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
