"""OpenAI ``POST /v1/responses`` (with background mode), ``GET`` polling and ``cancel``."""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from typing import Any

from aiohttp import web

from ._behaviour import Generated, RequestView, TokenTally, ViewMessage
from ._openai_chat import openai_tool_choice
from ._validate import MockHTTPError, optional, positive_int, require, require_dict

__all__ = ["ResponseStore", "parse_responses", "render_responses"]

_ROLE_OF_ITEM = {
    "function_call": "assistant",
    "reasoning": "assistant",
    "function_call_output": "tool",
}


def _item_text(content: Any, path: str, tally: TokenTally) -> str:
    if isinstance(content, str):
        tally.text(content)
        return content
    if not isinstance(content, list):
        raise MockHTTPError(
            400, f"Invalid type for '{path}': expected a string or an array.", param=path
        )
    texts = []
    for i, part in enumerate(content):
        part = require_dict(part, f"{path}[{i}]")
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text", "summary_text", "reasoning_text"):
            text = require(part, "text", str, f"{path}[{i}].")
            tally.text(text)
            texts.append(text)
        elif kind == "input_image":
            tally.image()
    return "".join(texts)


def parse_responses(body: dict[str, Any], model: str) -> RequestView:
    """Validate a responses body and build its :class:`RequestView`.

    Message boundaries are rebuilt the way a conversation serialises: consecutive
    ``function_call`` items (after an assistant message) form one assistant message and
    consecutive ``function_call_output`` items one tool message, for the 4-per-message count.
    """
    tally = TokenTally(model)
    raw_input = require(body, "input", (str, list))
    instructions = optional(body, "instructions", str)
    if instructions:
        tally.text(instructions)
        tally.message()
    items = [{"role": "user", "content": raw_input}] if isinstance(raw_input, str) else raw_input
    messages: list[ViewMessage] = []
    system: list[str] = [instructions] if instructions else []
    previous_role: str | None = None
    for i, item in enumerate(items):
        item = require_dict(item, f"input[{i}]")
        kind = item.get("type", "message")
        role = _ROLE_OF_ITEM.get(kind) or require(item, "role", str, f"input[{i}].")
        merges = kind != "message" and previous_role == role and messages
        if not merges or role in ("system", "developer"):
            tally.message()
        previous_role = role
        if kind == "message":
            text = _item_text(item.get("content", ""), f"input[{i}].content", tally)
            if role in ("system", "developer"):
                system.append(text)
                continue
            messages.append(ViewMessage(role, text))
        elif kind == "function_call":
            name = require(item, "name", str, f"input[{i}].")
            arguments = require(item, "arguments", str, f"input[{i}].")
            tally.text(name)
            tally.text(arguments)
            if not merges:
                messages.append(ViewMessage("assistant"))
            messages[-1].tool_calls.append(
                {"id": item.get("call_id"), "name": name, "arguments": arguments}
            )
        elif kind == "function_call_output":
            output = require(item, "output", (str, list), f"input[{i}].")
            tally.json(output)
            if not merges:
                messages.append(ViewMessage("tool"))
            messages[-1].tool_results.append(
                {"tool_call_id": item.get("call_id"), "content": output}
            )
        elif kind == "reasoning":
            _item_text(item.get("summary") or [], f"input[{i}].summary", tally)
            if not merges:
                messages.append(ViewMessage("assistant"))
        else:
            raise MockHTTPError(
                400,
                f"Invalid value for 'input[{i}].type': {kind!r}. The mock supports 'message', "
                "'function_call', 'function_call_output' and 'reasoning'.",
                param=f"input[{i}].type",
            )
    tools = []
    specs = {}
    for i, tool in enumerate(optional(body, "tools", list) or []):
        tool = require_dict(tool, f"tools[{i}]")
        name = tool.get("name") or require(tool, "type", str, f"tools[{i}].")
        tools.append(name)
        if tool.get("type") == "function":
            specs[name] = {
                "description": tool.get("description"),
                "parameters": tool.get("parameters"),
            }
        tally.json(tool)
    text_config = optional(body, "text", dict) or {}
    fmt = text_config.get("format") or {}
    schema = None
    if fmt.get("type") == "json_schema":
        schema = fmt.get("schema") or {}
    elif fmt.get("type") == "json_object":
        schema = {}
    optional(body, "background", bool)
    return RequestView(
        api="openai_responses",
        model=model,
        messages=messages,
        system="\n".join(system) or None,
        tools=tools,
        response_schema=schema,
        max_tokens=positive_int(body, "max_output_tokens"),
        input_tokens=tally.total,
        stream=bool(optional(body, "stream", bool)),
        body=body,
        tool_specs=specs,
        tool_choice=openai_tool_choice(body.get("tool_choice")),
    )


def _output(gen: Generated) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if gen.thinking:
        items.append(
            {
                "type": "reasoning",
                "id": f"rs_{uuid.uuid4().hex[:24]}",
                "summary": [{"type": "summary_text", "text": gen.thinking}],
            }
        )
    if gen.text or not gen.tool_calls:
        items.append(
            {
                "type": "message",
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "status": "completed" if gen.finish != "length" else "incomplete",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": gen.text, "annotations": [], "logprobs": []}
                ],
            }
        )
    for call in gen.tool_calls:
        items.append(
            {
                "type": "function_call",
                "id": f"fc_{uuid.uuid4().hex[:24]}",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
        )
    return items


def render_responses(view: RequestView, gen: Generated) -> dict[str, Any]:
    """The ``response`` object of a finished answer."""
    body = view.body
    created = int(time.time())
    incomplete = gen.finish == "length"
    return {
        "id": f"resp_{uuid.uuid4().hex}",
        "object": "response",
        "created_at": created,
        "status": "incomplete" if incomplete else "completed",
        "completed_at": None if incomplete else created,
        "background": bool(body.get("background")),
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": view.model,
        "output": _output(gen),
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": gen.input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": gen.output_tokens,
            "output_tokens_details": {"reasoning_tokens": gen.reasoning_tokens},
            "total_tokens": gen.input_tokens + gen.output_tokens,
        },
        "metadata": body.get("metadata") or {},
    }


class ResponseStore:
    """Background responses: created ``queued``, completed after ``delay`` seconds, pollable.

    Synchronous responses are stored too, so ``GET /v1/responses/{id}`` works for any id
    the mock handed out (the most recent 10,000).
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._items: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def render(self, view: RequestView, gen: Generated) -> dict[str, Any]:
        """Render (as the GenerationAPI ``render`` hook) and keep the response."""
        final = render_responses(view, gen)
        if not view.body.get("background"):
            self._keep(final)
            return final
        queued = {**copy.deepcopy(final), "status": "queued", "output": [], "completed_at": None}
        del queued["usage"]  # no usage until the work is done
        self._keep(queued)
        task = asyncio.get_running_loop().create_task(self._finish(final))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return queued

    def stream(self, view: RequestView, gen: Generated) -> list[bytes]:
        """The SSE frames of a streamed response (as the GenerationAPI ``stream`` hook); the
        finished response is kept, as a non-streamed one is."""
        from ._responses_stream import responses_stream_frames

        final = render_responses(view, gen)
        self._keep(final)
        return responses_stream_frames(final)

    def _keep(self, item: dict[str, Any]) -> None:
        """Store ``item`` under its id, forgetting the oldest beyond 10,000."""
        if len(self._items) >= 10_000:
            self._items.pop(next(iter(self._items)))
        self._items[item["id"]] = item

    async def _finish(self, final: dict[str, Any]) -> None:
        current = self._items.get(final["id"])
        if current is not None:
            current["status"] = "in_progress"
        await asyncio.sleep(self.delay)
        current = self._items.get(final["id"])
        if current is not None and current["status"] == "in_progress":
            self._items[final["id"]] = final

    def get(self, response_id: str) -> dict[str, Any]:
        item = self._items.get(response_id)
        if item is None:
            raise MockHTTPError(
                404,
                f"Response with id '{response_id}' not found.",
                param="response_id",
                code="not_found",
            )
        return item

    def cancel(self, response_id: str) -> dict[str, Any]:
        item = self.get(response_id)
        if not item.get("background"):
            raise MockHTTPError(
                400,
                "Only responses created with background=true can be cancelled.",
                param="response_id",
            )
        if item["status"] in ("queued", "in_progress"):
            item["status"] = "cancelled"
        return item

    async def handle_get(self, request: web.Request) -> dict[str, Any]:
        return self.get(request.match_info["response_id"])

    async def handle_cancel(self, request: web.Request) -> dict[str, Any]:
        return self.cancel(request.match_info["response_id"])
