"""The column contract of :meth:`LLMClient.process_dataset`: what each output row adds.

Every input column is kept as it is; these columns are appended, with fixed Arrow types so
that every block of the output has one schema (a block whose rows all failed would
otherwise infer ``null`` columns, and Parquet files written from different blocks would
disagree):

=====================  ===========  =====================================================
column                 type         meaning
=====================  ===========  =====================================================
``completion``         string       the reply's text; null on an error or a tool-call-only reply
``is_error``           bool         true when the row got no usable answer
``error_message``      string       why (the bad input, or the provider's error); null when fine
``status_code``        int64        the provider's HTTP status; null when nothing was sent
``model``              string       the model that answered (or was last tried)
``input_tokens``       int64        prompt tokens billed (0 when nothing was sent)
``output_tokens``      int64        reply tokens billed
``cache_read_tokens``  int64        prompt tokens the provider served from its prompt cache
``cost``               float64      US dollars for this row; null when unknown
``cache_hit``          bool         true when the client's cache answered (no request, no cost)
``finish_reason``      string       ``stop``, ``length``, ``tool_calls``...; null on an error
``raw_response``       string       opt-in (``include_raw_response=True``): the provider's JSON
=====================  ===========  =====================================================

A cache hit reports the usage and cost of the request that filled the cache, so that
re-reading a finished job's output gives the same figures; ``cache_hit`` says it was free.

    >>> OUTPUT_COLUMNS[:3]
    ('completion', 'is_error', 'error_message')
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api_requests import APIResponse

__all__ = [
    "COMPLETION_ONLY",
    "OUTPUT_COLUMNS",
    "RAW_RESPONSE_COLUMN",
    "ColumnValues",
    "added_columns",
    "arrow_types",
]

#: The columns every output row gains, in order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "completion",
    "is_error",
    "error_message",
    "status_code",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cost",
    "cache_hit",
    "finish_reason",
)
#: The opt-in column holding the provider's response body as JSON text.
RAW_RESPONSE_COLUMN = "raw_response"
#: What ``return_completions_only=True`` adds: the completion alone, as lm-deluge returns.
COMPLETION_ONLY: tuple[str, ...] = ("completion",)

_TYPE_NAMES = {
    "completion": "string",
    "is_error": "bool_",
    "error_message": "string",
    "status_code": "int64",
    "model": "string",
    "input_tokens": "int64",
    "output_tokens": "int64",
    "cache_read_tokens": "int64",
    "cost": "float64",
    "cache_hit": "bool_",
    "finish_reason": "string",
    RAW_RESPONSE_COLUMN: "string",
}


def added_columns(*, include_raw_response: bool, completions_only: bool) -> tuple[str, ...]:
    """The columns a stage with these options appends, in order.

    >>> added_columns(include_raw_response=True, completions_only=True)
    ('completion', 'raw_response')
    """
    base = COMPLETION_ONLY if completions_only else OUTPUT_COLUMNS
    return (*base, RAW_RESPONSE_COLUMN) if include_raw_response else base


def arrow_types(columns: tuple[str, ...]) -> dict[str, Any]:
    """The pyarrow type of each of ``columns``."""
    import pyarrow as pa  # the `data` extra; imported where used so the package loads without it

    return {name: getattr(pa, _TYPE_NAMES[name])() for name in columns}


def _raw_json(response: APIResponse) -> str | None:
    raw = response.raw_response
    if raw is None:
        return None
    return json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)


class ColumnValues:
    """The added columns of one batch, filled row by row, then handed to Arrow.

    >>> values = ColumnValues(("completion", "is_error"), rows=2)
    >>> values.set_error(1, "prompt is empty", model="gpt-4.1-mini")
    >>> values.columns["is_error"], values.columns["completion"]
    ([False, True], [None, None])
    """

    def __init__(self, columns: tuple[str, ...], rows: int) -> None:
        self.names = columns
        defaults = {"is_error": False, "cache_hit": False}
        self.columns: dict[str, list[Any]] = {name: [defaults.get(name)] * rows for name in columns}

    def _put(self, index: int, values: dict[str, Any]) -> None:
        for name, column in self.columns.items():
            column[index] = values.get(name)

    def set_error(self, index: int, message: str, *, model: str) -> None:
        """Row ``index`` failed before any provider answered it."""
        self._put(
            index,
            {
                "is_error": True,
                "error_message": message,
                "model": model,
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_read_tokens": 0,
                "cache_hit": False,
            },
        )

    def set_response(self, index: int, response: APIResponse) -> None:
        """Row ``index`` was answered by ``response`` (possibly an error response)."""
        usage = response.usage
        values = {
            "completion": response.completion,
            "is_error": bool(response.is_error),
            "error_message": response.error_message if response.is_error else None,
            "status_code": response.status_code,
            "model": response.model_internal,
            "input_tokens": usage.input_tokens if usage else 0,
            "output_tokens": usage.output_tokens if usage else 0,
            "cache_read_tokens": usage.cache_read_tokens if usage else 0,
            "cost": response.cost,
            "cache_hit": bool(response.local_cache_hit),
            "finish_reason": response.finish_reason,
        }
        if RAW_RESPONSE_COLUMN in self.columns:
            values[RAW_RESPONSE_COLUMN] = _raw_json(response)
        self._put(index, values)

    def arrays(self) -> dict[str, Any]:
        """Each column as a typed pyarrow array."""
        import pyarrow as pa

        types = arrow_types(self.names)
        return {name: pa.array(self.columns[name], type=types[name]) for name in self.names}
