"""OpenAI Batch API files, both ways: request lines in, batch-output lines out.

A request line of a batch input file is taken as it is::

    {"custom_id": "q1", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gpt-4.1-mini", "messages": [...], "max_tokens": 100}}

Its ``custom_id`` is the record's id and ``body.messages`` its prompt. The run's model and
sampling settings come from the command's flags (one client serves the whole file); a body
whose ``model``, ``max_tokens`` or ``temperature`` differs from them is reported once.

With ``--output-format openai-batch`` each result is written as the Batch API writes it::

    {"id": "batch_req_...", "custom_id": "q1",
     "response": {"status_code": 200, "request_id": "...", "body": {chat.completion}},
     "error": null}

A provider error keeps its status code and an ``{"error": {...}}`` body; a failure with no
HTTP answer (a timeout, a prompt too big to send) has ``"response": null`` and an
``error`` object. When the provider's own ``chat.completion`` JSON is at hand it is the
body, unchanged; otherwise (a cache hit, another provider) one is built from the response.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ._records import InputProblem, JobRecord, repair_text, surrogate_at, surrogate_in

__all__ = [
    "BATCH_KEYS",
    "CHAT_COMPLETIONS_URL",
    "BodySettings",
    "batch_output_row",
    "is_batch_line",
    "record_from_batch_line",
    "row_facts",
]

CHAT_COMPLETIONS_URL = "/v1/chat/completions"
#: Keys that make a JSONL object a batch request line rather than an {id, prompt} record.
BATCH_KEYS = frozenset({"custom_id", "body", "method", "url"})


def is_batch_line(value: dict[str, Any]) -> bool:
    """Whether a JSONL object is an OpenAI batch request line (it has none of prompt/messages)."""
    return bool(BATCH_KEYS & value.keys()) and not ({"prompt", "messages"} & value.keys())


def record_from_batch_line(value: dict[str, Any], line: int) -> JobRecord | InputProblem:
    """The record of one batch request line, or the problem naming what it lacks."""
    missing = [k for k in ("custom_id", "body") if k not in value]
    if missing:
        return InputProblem(
            line,
            f"OpenAI batch line without {' or '.join(repr(k) for k in missing)}; each line "
            "needs 'custom_id' and 'body' (a chat-completions request body)",
        )
    custom_id, body = value["custom_id"], value["body"]
    if not isinstance(custom_id, str) or not custom_id.strip():
        return InputProblem(line, "'custom_id' must be a non-empty string")
    url = value.get("url", CHAT_COMPLETIONS_URL)
    if url != CHAT_COMPLETIONS_URL:
        return InputProblem(
            line, f"'url' is {url!r}; deluge-ray runs {CHAT_COMPLETIONS_URL!r} requests only"
        )
    if value.get("method", "POST") != "POST":
        return InputProblem(line, f"'method' is {value.get('method')!r}; batch requests are POST")
    if not isinstance(body, dict):
        return InputProblem(line, f"'body' must be an object, got {type(body).__name__}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return InputProblem(line, "'body' has no 'messages' (a non-empty list of message objects)")
    problem = surrogate_in(messages, "'body'['messages']")
    if problem:
        return InputProblem(line, problem)
    warning = None
    if surrogate_at(custom_id) is not None:
        repaired = repair_text(custom_id)
        warning = f"line {line}: custom_id holds a lone surrogate; written as {repaired!r}"
        custom_id = repaired
    settings = {k: v for k, v in body.items() if k != "messages"}
    return JobRecord(custom_id, messages, None, line, warning, settings)


def _completion_body(response: Any, model: str) -> dict[str, Any]:
    """A ``chat.completion`` object built from an APIResponse (no provider JSON at hand)."""
    usage = response.usage
    prompt_tokens = 0 if usage is None else usage.input_tokens + usage.cache_read_tokens
    completion_tokens = 0 if usage is None else usage.output_tokens
    return {
        "id": response.response_id or f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": response.model_internal or model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": response.completion, "refusal": None},
                "logprobs": None,
                "finish_reason": response.finish_reason or "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {
                "cached_tokens": 0 if usage is None else usage.cache_read_tokens
            },
        },
    }


def batch_output_row(custom_id: str, response: Any, model: str) -> dict[str, Any]:
    """The Batch API output line of one result (``response`` an APIResponse, or None)."""
    row: dict[str, Any] = {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": custom_id}
    status = getattr(response, "status_code", None)
    request_id = uuid.uuid4().hex
    if response is not None and not response.is_error:
        raw = response.raw_response
        chat = isinstance(raw, dict) and raw.get("object") == "chat.completion"
        body = raw if chat else _completion_body(response, model)
        row["response"] = {"status_code": status or 200, "request_id": request_id, "body": body}
        row["error"] = None
        return row
    message = getattr(response, "error_message", None) or "no response"
    if status and status >= 400:
        error = {"message": message, "type": "api_error", "param": None, "code": None}
        row["response"] = {
            "status_code": status,
            "request_id": request_id,
            "body": {"error": error},
        }
        row["error"] = None
    else:
        row["response"] = None
        row["error"] = {"code": "request_failed", "message": message}
    return row


def row_facts(row: dict[str, Any]) -> tuple[str, bool, dict[str, Any] | None] | None:
    """``(custom_id, failed, usage)`` of a batch output line, or ``None`` when it is not one."""
    custom_id = row.get("custom_id")
    if not isinstance(custom_id, str) or "response" not in row:
        return None
    response = row.get("response")
    body = response.get("body") if isinstance(response, dict) else None
    status = response.get("status_code") if isinstance(response, dict) else None
    failed = bool(row.get("error")) or not isinstance(status, int) or status >= 400
    usage = body.get("usage") if isinstance(body, dict) and not failed else None
    return custom_id, failed, usage if isinstance(usage, dict) else None


class BodySettings:
    """Reports, once per field, a batch body setting the run does not apply as written.

    One client serves the whole file, so ``-m``, ``--max-new-tokens`` and ``--temperature``
    hold for every line; a body that asks for something else is told, not silently changed.
    """

    def __init__(self, model: str, max_new_tokens: int, temperature: float) -> None:
        self._flags = {
            "model": (model, "-m"),
            "max_tokens": (max_new_tokens, "--max-new-tokens"),
            "max_completion_tokens": (max_new_tokens, "--max-new-tokens"),
            "temperature": (temperature, "--temperature"),
        }
        self._reported: set[str] = set()

    def check(self, record: JobRecord) -> list[str]:
        """Warnings for ``record``'s body fields not yet reported (none for other records)."""
        warnings = []
        for key, value in (record.settings or {}).items():
            if key in self._reported:
                continue
            if key in self._flags:
                used, flag = self._flags[key]
                if value == used:
                    continue
                message = (
                    f"line {record.line}: the batch body sets {key}={value!r}; this run uses "
                    f"{flag} {used} for every line (further lines are not reported)"
                )
            else:
                message = (
                    f"line {record.line}: the batch body field {key!r} is not applied by "
                    "deluge-ray run (further lines are not reported)"
                )
            self._reported.add(key)
            warnings.append(message)
        return warnings
