"""OpenAI-endpoint responses validate against OpenAI's published OpenAPI schemas."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import jsonschema
import pytest

from deluge_ray.mock import Reply
from tests.support.openapi import validate

HEADERS = {"Authorization": "Bearer sk-test"}
MESSAGES = [{"role": "user", "content": "hello mock"}]


async def _call(session, method, url, **kw):
    async with session.request(method, url, headers=HEADERS, **kw) as response:
        assert response.status == 200, await response.text()
        if response.content_type == "text/event-stream":
            return await response.text()
        return await response.json()


async def test_chat_and_stream_chunks_validate(mock):
    mock.script("m", [Reply.tool_call("f", {"a": 1}), Reply.thinking("why", "because")])
    async with aiohttp.ClientSession() as session:
        url = f"{mock.openai_base_url}/chat/completions"
        validate(
            "CreateChatCompletionResponse",
            await _call(session, "POST", url, json={"model": "m", "messages": MESSAGES}),
        )
        validate(
            "CreateChatCompletionResponse",
            await _call(session, "POST", url, json={"model": "m", "messages": MESSAGES}),
        )
        for script in (None, Reply.tool_call("g", {"b": [1, 2]})):
            if script:
                mock.script("m", script)
            text = await _call(
                session,
                "POST",
                url,
                json={
                    "model": "m",
                    "messages": MESSAGES,
                    "stream": True,
                    "stream_options": {"include_usage": True},
                },
            )
            frames = [f[len("data: ") :] for f in text.split("\n\n") if f]
            assert frames[-1] == "[DONE]"
            chunks = [json.loads(f) for f in frames[:-1]]
            # Mid-stream chunks carry finish_reason null (tests/support/openapi.py allows it).
            assert chunks[1]["choices"][0]["finish_reason"] is None
            for chunk in chunks:
                validate("CreateChatCompletionStreamResponse", chunk)
            assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


async def test_responses_background_polling_and_cancel_validate(mock):
    async with aiohttp.ClientSession() as session:
        url = f"{mock.openai_base_url}/responses"
        plain = await _call(session, "POST", url, json={"model": "m", "input": "hi"})
        validate("Response", plain)
        mock.script("m", [Reply.tool_call("f", {"x": 1}), Reply.thinking("hmm", "ok")])
        for _ in range(2):
            validate(
                "Response", await _call(session, "POST", url, json={"model": "m", "input": "go"})
            )
        queued = await _call(
            session, "POST", url, json={"model": "m", "input": "bg", "background": True}
        )
        validate("Response", queued)
        assert queued["status"] in ("queued", "in_progress")
        for _ in range(100):
            polled = await _call(session, "GET", f"{url}/{queued['id']}")
            if polled["status"] == "completed":
                break
            await asyncio.sleep(0.02)
        validate("Response", polled)
        assert polled["output"][0]["content"][0]["text"] == "Mock reply to: bg"
        again = await _call(
            session, "POST", url, json={"model": "m", "input": "bg2", "background": True}
        )
        cancelled = await _call(session, "POST", f"{url}/{again['id']}/cancel")
        assert cancelled["status"] == "cancelled"
        validate("Response", cancelled)


async def test_embeddings_files_and_batches_validate(mock):
    async with aiohttp.ClientSession() as session:
        emb = await _call(
            session,
            "POST",
            f"{mock.openai_base_url}/embeddings",
            json={
                "model": "text-embedding-3-small",
                "input": ["a", "b"],
                "encoding_format": "float",
            },
        )
        validate("CreateEmbeddingResponse", emb)
        lines = [
            {
                "custom_id": f"c{i}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]},
            }
            for i in range(3)
        ] + [
            {
                "custom_id": "bad",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "m"},
            }
        ]
        form = aiohttp.FormData()
        form.add_field("purpose", "batch")
        form.add_field(
            "file", "\n".join(json.dumps(x) for x in lines).encode(), filename="in.jsonl"
        )
        uploaded = await _call(session, "POST", f"{mock.openai_base_url}/files", data=form)
        validate("OpenAIFile", uploaded)
        batch = await _call(
            session,
            "POST",
            f"{mock.openai_base_url}/batches",
            json={
                "input_file_id": uploaded["id"],
                "endpoint": "/v1/chat/completions",
                "completion_window": "24h",
            },
        )
        validate("Batch", batch)
        for _ in range(100):
            batch = await _call(session, "GET", f"{mock.openai_base_url}/batches/{batch['id']}")
            if batch["status"] == "completed":
                break
            await asyncio.sleep(0.02)
        validate("Batch", batch)
        assert batch["request_counts"] == {"total": 4, "completed": 3, "failed": 1}
        async with session.get(
            f"{mock.openai_base_url}/files/{batch['output_file_id']}/content", headers=HEADERS
        ) as r:
            out = [json.loads(line) for line in (await r.text()).splitlines()]
        by_id = {o["custom_id"]: o for o in out}
        assert (
            by_id["c2"]["response"]["body"]["choices"][0]["message"]["content"]
            == "Mock reply to: q2"
        )
        validate("CreateChatCompletionResponse", by_id["c2"]["response"]["body"])
        deleted = await _call(session, "DELETE", f"{mock.openai_base_url}/files/{uploaded['id']}")
        assert deleted == {"id": uploaded["id"], "object": "file", "deleted": True}
        async with session.get(
            f"{mock.openai_base_url}/files/{uploaded['id']}", headers=HEADERS
        ) as r:
            assert r.status == 404


def test_stream_finish_reason_null_is_valid_but_other_values_still_checked():
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}],
    }
    validate("CreateChatCompletionStreamResponse", chunk)
    chunk["choices"][0]["finish_reason"] = "exploded"
    with pytest.raises(jsonschema.ValidationError, match="finish_reason"):
        validate("CreateChatCompletionStreamResponse", chunk)
