"""Reading a Parquet file of prompts in bounded memory: pyarrow record batches, row by row.

Only the columns a record needs are read (``id``, the prompt or ``messages`` column and
``system``), one batch of :data:`BATCH_ROWS` rows at a time, so a file far bigger than
memory streams through. The prompt column may hold strings or OpenAI/Anthropic message
lists (Arrow list-of-struct columns); a file without it (and without ``messages``) is an
error naming the columns it has. A bad row is an :class:`InputProblem` with its row
number (counted from 1 within the file), as a bad JSONL line is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..data._rows import drop_arrow_nulls
from ..errors import ConfigurationError
from ._records import InputProblem, JobRecord

__all__ = ["BATCH_ROWS", "prompt_source_column", "read_parquet"]

#: Rows decoded at a time: small enough to keep memory flat, big enough to be fast.
BATCH_ROWS = 1024


def prompt_source_column(columns: list[str], prompt_column: str, where: str) -> str:
    """The column prompts come from: ``prompt_column``, else ``messages``; else a clear error."""
    if prompt_column in columns:
        return prompt_column
    if "messages" in columns:
        return "messages"
    raise ConfigurationError(
        f"{where} has no {prompt_column!r} column (nor 'messages'); its columns are "
        f"{', '.join(columns) or 'none'}. Pass --prompt-column NAME"
    )


def read_parquet(
    path: Path,
    prompt_column: str,
    to_record: Callable[[dict[str, Any], int], JobRecord | InputProblem],
) -> Iterator[JobRecord | InputProblem]:
    """Each row of ``path`` as ``to_record({"id"?, "prompt" | "messages", "system"?}, row)``."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ConfigurationError(
            f"reading Parquet needs pyarrow ({exc}); pip install 'deluge-ray[data]'"
        ) from exc
    try:
        file = pq.ParquetFile(path)
    except Exception as exc:  # not Parquet, truncated footer, ...
        raise ConfigurationError(f"{path} is not a readable Parquet file: {exc}") from None
    columns = list(file.schema_arrow.names)
    source = prompt_source_column(columns, prompt_column, str(path))
    key = "prompt" if source == prompt_column else "messages"
    wanted = [c for c in dict.fromkeys(("id", source, "system")) if c in columns]
    row_no = 0
    for batch in file.iter_batches(batch_size=BATCH_ROWS, columns=wanted):
        for row in batch.to_pylist():
            row_no += 1
            value: dict[str, Any] = {key: row[source]}
            if key == "messages" and isinstance(value[key], list):
                value[key] = drop_arrow_nulls(value[key])
            if row.get("id") is not None:
                value["id"] = row["id"]
            if row.get("system") is not None:
                value["system"] = row["system"]
            yield to_record(value, row_no)
