"""The rows ``deluge-ray run`` writes, in the chosen ``--output-format``.

``jsonl`` (the default) is the command's own row (see ``deluge-ray run --help``);
``openai-batch`` is the OpenAI Batch API output line (:mod:`._openai_batch`). Both are
built here from a response, from a prompt the client raised on, or from a Ray Data
result row (``--engine data``), so every path writes the same shape.
"""

from __future__ import annotations

import json
from typing import Any

from ._openai_batch import batch_output_row
from ._records import JobRecord

__all__ = ["OUTPUT_FORMATS", "crash_row", "data_row", "result_row"]

OUTPUT_FORMATS = ("jsonl", "openai-batch")


def result_row(
    record: JobRecord, response: Any, latency: float, output_format: str, model: str
) -> dict[str, Any]:
    """The row of one answered prompt (``response`` an APIResponse, success or error)."""
    if output_format == "openai-batch":
        return batch_output_row(record.id, response, model)
    usage = response.usage
    return {
        "id": record.id,
        "completion": response.completion,
        "model": response.model_internal,
        "finish_reason": response.finish_reason,
        "usage": None
        if usage is None
        else {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "total_tokens": None if usage is None else usage.total_tokens,
        "cost": response.cost,
        "cache_hit": bool(response.local_cache_hit),
        "latency_s": round(latency, 4),
        "attempts": 0 if response.local_cache_hit else response.attempts,
        "error": response.error_message if response.is_error else None,
    }


class _Raised:
    """Stands in for the response of a prompt the client raised on (no HTTP answer)."""

    status_code = None
    is_error = True

    def __init__(self, message: str) -> None:
        self.error_message = message


def crash_row(
    record: JobRecord, model: str, exc: BaseException, latency: float, output_format: str
) -> dict[str, Any]:
    """The row of a prompt the client raised on: written, so no row is lost and resume skips it."""
    message = f"{type(exc).__name__}: {exc}"
    if output_format == "openai-batch":
        return batch_output_row(record.id, _Raised(message), model)
    return {
        "id": record.id,
        "completion": None,
        "model": model,
        "finish_reason": None,
        "usage": None,
        "total_tokens": None,
        "cost": None,
        "cache_hit": False,
        "latency_s": round(latency, 4),
        "attempts": None,
        "error": message,
    }


class _DataResponse:
    """An APIResponse-like view of one ``process_dataset`` output row (for the batch shape)."""

    def __init__(self, row: dict[str, Any]) -> None:
        from ..api_requests.response import Usage

        self.is_error = bool(row["is_error"])
        self.error_message = row.get("error_message")
        self.status_code = row.get("status_code")
        self.completion = row.get("completion")
        self.model_internal = row.get("model")
        self.finish_reason = row.get("finish_reason")
        self.response_id = None
        raw = row.get("raw_response")  # the provider's JSON, as text in the Arrow column
        self.raw_response = json.loads(raw) if isinstance(raw, str) else raw
        self.usage = Usage(
            input_tokens=row.get("input_tokens") or 0,
            output_tokens=row.get("output_tokens") or 0,
            cache_read_tokens=row.get("cache_read_tokens") or 0,
        )


def data_row(ident: str, row: dict[str, Any], output_format: str, model: str) -> dict[str, Any]:
    """The row of one Ray Data result (``process_dataset``'s columns); see ``--engine data``.

    Ray Data's rows carry no per-row latency, attempt count or cache-write tokens: those
    fields are ``null``.
    """
    if output_format == "openai-batch":
        return batch_output_row(ident, _DataResponse(row), model)
    is_error = bool(row["is_error"])
    input_tokens, output_tokens = row.get("input_tokens"), row.get("output_tokens")
    usage = None
    if input_tokens is not None and output_tokens is not None:
        usage = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_tokens": row.get("cache_read_tokens") or 0,
            "cache_write_tokens": None,
        }
    return {
        "id": ident,
        "completion": row.get("completion"),
        "model": row.get("model") or model,
        "finish_reason": row.get("finish_reason"),
        "usage": usage,
        "total_tokens": None
        if usage is None
        else input_tokens + output_tokens + usage["cache_read_tokens"],
        "cost": row.get("cost"),
        "cache_hit": bool(row.get("cache_hit")),
        "latency_s": None,
        "attempts": None,
        "error": (row.get("error_message") or "error") if is_error else None,
    }
