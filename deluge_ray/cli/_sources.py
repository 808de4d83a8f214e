"""Which files an input argument names: one file, a directory of files, or a glob.

A directory means every file below it with a readable format (``.jsonl``, ``.json``,
``.ndjson``, ``.csv``, ``.parquet``, ``.pq``), skipping hidden and ``_``-prefixed names
(``_SUCCESS``, ``.crc`` files that Spark and Ray Data leave next to their output) and the
run's own output files. A pattern with ``*``, ``?`` or ``[`` is a glob (``**`` recurses).
Files are read in sorted order, so a resumed run sees the input in the same order.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigurationError

__all__ = ["FORMATS", "file_format", "input_files", "is_multi_file"]

#: File suffix -> reader.
FORMATS = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_GLOB_CHARS = frozenset("*?[")


def file_format(path: Path) -> str:
    """``"jsonl"``, ``"csv"`` or ``"parquet"``, from the suffix; anything else reads as JSONL."""
    return FORMATS.get(path.suffix.lower(), "jsonl")


def is_multi_file(spec: str | os.PathLike[str]) -> bool:
    """Whether ``spec`` names a directory or a glob (ids then carry the file's name)."""
    text = os.fspath(spec)
    return Path(text).is_dir() or bool(_GLOB_CHARS & set(text))


def _listed(path: Path) -> bool:
    hidden = any(part.startswith((".", "_")) for part in path.parts)
    return not hidden and path.suffix.lower() in FORMATS


def input_files(
    spec: str | os.PathLike[str], *, exclude: Iterable[str | os.PathLike[str]] = ()
) -> list[Path]:
    """The files ``spec`` names, sorted; :class:`ConfigurationError` when it names none."""
    text = os.fspath(spec)
    skip = {os.path.abspath(p) for p in exclude}
    path = Path(text)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = [
            p
            for p in path.rglob("*")
            if p.is_file() and _listed(p.relative_to(path)) and os.path.abspath(p) not in skip
        ]
        if not found:
            kinds = ", ".join(sorted(FORMATS))
            raise ConfigurationError(f"input directory {text} holds no {kinds} files")
        return sorted(found)
    if _GLOB_CHARS & set(text):
        found = [
            Path(p)
            for p in glob.glob(text, recursive=True)
            if Path(p).is_file() and os.path.abspath(p) not in skip
        ]
        if not found:
            raise ConfigurationError(f"input pattern {text} matches no files")
        return sorted(found)
    raise ConfigurationError(f"input file not found: {path}")
