"""The OpenAI Responses API's streamed answer: the typed events of ``stream=true``.

A streamed response is a sequence of named SSE events, each with a ``sequence_number``:
``response.created`` and ``response.in_progress`` (the response with no output yet); per
output item ``response.output_item.added``, its content (a message's
``response.content_part.added``, ``response.output_text.delta`` pieces,
``response.output_text.done``, ``response.content_part.done``; a function call's
``response.function_call_arguments.delta`` and ``.done``; a reasoning item's summary),
then ``response.output_item.done``; and last ``response.completed`` (or
``response.incomplete``) carrying the same response object a non-streamed request gets.
The official ``openai`` SDK reads them into its typed stream events
(``tests/mock/test_openai_responses_stream.py``).
"""

from __future__ import annotations

import copy
from typing import Any

from ._behaviour import split_for_stream
from ._sse import event_frame

__all__ = ["responses_stream_frames"]


def responses_stream_frames(final: dict[str, Any]) -> list[bytes]:
    """The SSE frames of a streamed response whose finished form is ``final``."""
    events: list[dict[str, Any]] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": len(events), **fields})

    opening = {**copy.deepcopy(final), "status": "in_progress", "output": [], "usage": None}
    opening["completed_at"] = None
    opening["incomplete_details"] = None
    emit("response.created", response=opening)
    emit("response.in_progress", response=opening)
    for index, item in enumerate(final["output"]):
        _item_events(emit, index, item)
    closing = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    emit(closing, response=final)
    return [event_frame(event["type"], event) for event in events]


def _item_events(emit: Any, index: int, item: dict[str, Any]) -> None:
    kind, item_id = item["type"], item["id"]
    if kind == "message":
        emit(
            "response.output_item.added",
            output_index=index,
            item={**item, "status": "in_progress", "content": []},
        )
        for part_index, part in enumerate(item["content"]):
            empty = {**part, "text": ""}
            where = {"item_id": item_id, "output_index": index, "content_index": part_index}
            emit("response.content_part.added", **where, part=empty)
            for piece in split_for_stream(part["text"]):
                emit("response.output_text.delta", **where, delta=piece, logprobs=[])
            emit("response.output_text.done", **where, text=part["text"], logprobs=[])
            emit("response.content_part.done", **where, part=part)
    elif kind == "function_call":
        emit(
            "response.output_item.added",
            output_index=index,
            item={**item, "status": "in_progress", "arguments": ""},
        )
        where = {"item_id": item_id, "output_index": index}
        arguments = item["arguments"]
        half = len(arguments) // 2
        for piece in (arguments[:half], arguments[half:]):
            emit("response.function_call_arguments.delta", **where, delta=piece)
        emit(
            "response.function_call_arguments.done",
            **where,
            name=item["name"],
            arguments=arguments,
        )
    else:  # reasoning: its summary, whole
        emit("response.output_item.added", output_index=index, item={**item, "summary": []})
        for summary_index, summary in enumerate(item.get("summary") or []):
            where = {"item_id": item_id, "output_index": index, "summary_index": summary_index}
            emit("response.reasoning_summary_part.added", **where, part={**summary, "text": ""})
            emit("response.reasoning_summary_text.delta", **where, delta=summary["text"])
            emit("response.reasoning_summary_text.done", **where, text=summary["text"])
            emit("response.reasoning_summary_part.done", **where, part=summary)
    emit("response.output_item.done", output_index=index, item=item)
