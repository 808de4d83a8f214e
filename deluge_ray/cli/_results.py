"""The results file of ``deluge-ray run``: always valid JSONL, one row per id, resumable.

Each row is one JSON object on one line, written and flushed as its result arrives::

    {"id", "completion", "model", "finish_reason", "usage", "total_tokens", "cost",
     "cache_hit", "latency_s", "attempts", "error"}

or, with ``--output-format openai-batch``, an OpenAI Batch API output line whose
``custom_id`` is the id (:mod:`._openai_batch`); a file may hold either shape.

Re-running the same command resumes: ids already in the file are skipped, so every id
appears once. Before a resumed run appends, :func:`prepare_output` repairs the file: a
line cut short by a kill, or a line that is not valid UTF-8 or not a JSON object with an
id, is moved to ``<output>.rejected`` (kept, never deleted) and its prompt runs again.
With ``retry_failed`` the rows that ended in an error move there too and run again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ._openai_batch import row_facts
from ._records import repair_text

__all__ = ["OutputState", "ResultWriter", "prepare_output", "scan_output"]


@dataclass
class OutputState:
    """What an existing results file holds, read once before a run."""

    done: set[str] = field(default_factory=set)  # ids with a row (kept) in the file
    failed: set[str] = field(default_factory=set)  # of those, ids whose row is an error
    spent: float = 0.0  # dollars the kept rows cost (they count against --budget-usd)
    rejected_lines: list[int] = field(default_factory=list)  # lines moved aside
    retried: int = 0  # failed rows moved aside by retry_failed


#: Dollars of a batch output line's ``usage`` (the Batch API shape carries no cost).
UsagePrice = Callable[[dict[str, Any]], float]


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        row = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(row, dict):
        return None
    if isinstance(row.get("custom_id"), str) and "response" in row:
        return row  # a Batch API output line
    if isinstance(row.get("id"), (str, int)):
        return row
    return None


def scan_output(
    path: str | os.PathLike[str], *, usage_price: UsagePrice | None = None
) -> OutputState:
    """Read an output file without changing it: ids written, failures, dollars spent.

    Lines that are not a JSON object with an id (or a batch output line) are counted in
    ``rejected_lines``; ``usage_price`` prices a batch output line's usage.
    """
    state = OutputState()
    file = Path(path)
    if not file.exists():
        return state
    with open(file, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            row = _parse(raw)
            if row is None:
                state.rejected_lines.append(line_no)
                continue
            _count(state, row, usage_price)
    return state


def _count(state: OutputState, row: dict[str, Any], usage_price: UsagePrice | None) -> None:
    facts = row_facts(row)
    if facts is not None:
        ident, failed, usage = facts
        state.done.add(ident)
        if failed:
            state.failed.add(ident)
        if usage and usage_price is not None:
            state.spent += usage_price(usage)
        return
    ident = str(row["id"])
    state.done.add(ident)
    if row.get("error"):
        state.failed.add(ident)
    cost = row.get("cost")
    if isinstance(cost, (int, float)) and not isinstance(cost, bool):
        state.spent += float(cost)


def _failed(row: dict[str, Any]) -> bool:
    facts = row_facts(row)
    return facts[1] if facts is not None else bool(row.get("error"))


def prepare_output(
    path: str | os.PathLike[str],
    *,
    retry_failed: bool = False,
    usage_price: UsagePrice | None = None,
) -> OutputState:
    """Repair the output file for appending and return what it holds.

    Unusable lines (torn, not UTF-8, not an object with an id), and with ``retry_failed``
    the error rows, are moved to ``<path>.rejected``; the file is rewritten atomically,
    so a kill during the repair leaves either the old file or the repaired one.
    """
    file = Path(path)
    state = scan_output(file, usage_price=usage_price)
    if not file.exists():
        return state
    if not state.rejected_lines and not (retry_failed and state.failed):
        return state
    kept = OutputState()
    temp = file.with_name(file.name + ".repairing")
    with (
        open(file, "rb") as src,
        open(temp, "wb") as good,
        open(file.with_name(file.name + ".rejected"), "ab") as bad,
    ):
        for line_no, raw in enumerate(src, start=1):
            if not raw.strip():
                continue
            row = _parse(raw)
            if row is None:
                kept.rejected_lines.append(line_no)
                bad.write(raw if raw.endswith(b"\n") else raw + b"\n")
            elif retry_failed and _failed(row):
                kept.retried += 1
                bad.write(raw if raw.endswith(b"\n") else raw + b"\n")
            else:
                good.write(raw if raw.endswith(b"\n") else raw + b"\n")
                _count(kept, row, usage_price)
        good.flush()
        os.fsync(good.fileno())
    os.replace(temp, file)
    return kept


def _repaired(value: Any) -> Any:
    """``value`` with lone surrogates in every string (keys too) replaced by their escape text."""
    if isinstance(value, str):
        return repair_text(value)
    if isinstance(value, dict):
        return {_repaired(k): _repaired(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_repaired(v) for v in value]
    return value


class ResultWriter:
    """Appends one JSON line per result and flushes it, so a killed run keeps its work.

    A row is encoded completely before any byte is written, so an error never leaves half
    a line. A row whose text cannot be written as UTF-8 (a lone surrogate in its id or
    reply) is written with those characters escaped, and ``repaired`` counts it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.parent.exists():
            raise ConfigurationError(f"output directory does not exist: {self.path.parent}")
        needs_newline = (
            self.path.exists() and self.path.stat().st_size > 0 and not self._ends_with_newline()
        )
        self._fh = open(self.path, "ab")
        if needs_newline:
            self._fh.write(b"\n")
        self.written = 0
        self.repaired = 0

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def write(self, row: dict[str, Any]) -> bool:
        """Append ``row``; ``False`` when its text had to be repaired to be written."""
        text = json.dumps(row, ensure_ascii=False)
        try:
            data = text.encode("utf-8")
            clean = True
        except UnicodeEncodeError:
            data = json.dumps(_repaired(row), ensure_ascii=False).encode("utf-8")
            clean = False
            self.repaired += 1
        # Flushed per row: each row is a paid result, and a SIGKILL or a lost node must not
        # take a buffer of them along (a resumed run would pay for them again).
        self._fh.write(data + b"\n")
        self._fh.flush()
        self.written += 1
        return clean

    def close(self) -> None:
        """Flush and close the file."""
        self._fh.flush()
        self._fh.close()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
