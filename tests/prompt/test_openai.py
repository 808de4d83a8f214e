"""to_openai (chat completions) and to_openai_responses, field by field."""

from __future__ import annotations

import base64

import pytest

from deluge_ray.errors import PromptError
from deluge_ray.prompt import Conversation, Message, Thinking

from ..support.openapi import validate
from .conftest import PDF_BYTES, tool_conversation


def _data_url(raw: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(raw).decode()}"


def test_plain_system_and_multi_turn():
    conv = Conversation().system("sys").user("q1").ai("a1").user("q2")
    assert conv.to_openai() == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]
    assert conv.to_openai_responses() == {
        "instructions": "sys",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q1"}]},
            {"type": "message", "role": "assistant", "content": "a1"},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q2"}]},
        ],
    }
    assert "instructions" not in Conversation().user("x").to_openai_responses()


def test_images_and_files(png_bytes, pdf_path):
    conv = Conversation().user("see", image=png_bytes, file=pdf_path)
    conv.messages[0].with_image("https://example.com/x.jpg", detail="low")
    png_url = _data_url(png_bytes, "image/png")
    pdf_url = _data_url(PDF_BYTES, "application/pdf")
    assert conv.to_openai() == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "see"},
                {"type": "image_url", "image_url": {"url": png_url, "detail": "auto"}},
                {"type": "file", "file": {"filename": "report.pdf", "file_data": pdf_url}},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://example.com/x.jpg", "detail": "low"},
                },
            ],
        }
    ]
    assert conv.to_openai_responses()["input"][0]["content"] == [
        {"type": "input_text", "text": "see"},
        {"type": "input_image", "image_url": png_url, "detail": "auto"},
        {"type": "input_file", "filename": "report.pdf", "file_data": pdf_url},
        {"type": "input_image", "image_url": "https://example.com/x.jpg", "detail": "low"},
    ]


def test_tool_calls_with_parallel_results_chat(png_bytes):
    msgs = tool_conversation(png_bytes).to_openai()
    assert msgs[0] == {"role": "system", "content": "You are terse."}
    assert msgs[1] == {"role": "user", "content": "Do the things."}
    # Thinking cannot be replayed in chat completions: only text and calls remain.
    assert msgs[2] == {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "echo", "arguments": '{"s": "hi"}'},
            },
            {
                "id": "c2",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"k": 1}'},
            },
            {"id": "c3", "type": "function", "function": {"name": "listing", "arguments": "{}"}},
            {
                "id": "c4",
                "type": "function",
                "function": {"name": "snap", "arguments": '{"zoom": 2}'},
            },
        ],
    }
    assert msgs[3] == {"role": "tool", "tool_call_id": "c1", "content": "hi"}
    assert msgs[4] == {"role": "tool", "tool_call_id": "c2", "content": '{"value": 42}'}
    assert msgs[5] == {"role": "tool", "tool_call_id": "c3", "content": "[1, 2, 3]"}
    assert msgs[6] == {
        "role": "tool",
        "tool_call_id": "c4",
        "content": [{"type": "text", "text": "a snapshot"}],
    }
    # Tool messages carry only text: the image follows in a user message.
    assert msgs[7] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Images returned by tool call c4:"},
            {
                "type": "image_url",
                "image_url": {"url": _data_url(png_bytes, "image/png"), "detail": "auto"},
            },
        ],
    }
    assert msgs[8] == {"role": "assistant", "content": "Done."}
    assert len(msgs) == 9


def test_tool_calls_and_reasoning_responses(png_bytes):
    out = tool_conversation(png_bytes).to_openai_responses()
    assert out["instructions"] == "You are terse."
    items = out["input"]
    assert items[0]["role"] == "user"
    assert items[1] == {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "plan"}],
    }
    assert items[2] == {"type": "message", "role": "assistant", "content": "Let me check."}
    assert items[3] == {
        "type": "function_call",
        "call_id": "c1",
        "name": "echo",
        "arguments": '{"s": "hi"}',
    }
    assert [i["call_id"] for i in items[3:7]] == ["c1", "c2", "c3", "c4"]
    assert items[7] == {"type": "function_call_output", "call_id": "c1", "output": "hi"}
    assert items[8] == {"type": "function_call_output", "call_id": "c2", "output": '{"value": 42}'}
    assert items[9] == {"type": "function_call_output", "call_id": "c3", "output": "[1, 2, 3]"}
    assert items[10] == {
        "type": "function_call_output",
        "call_id": "c4",
        "output": [
            {"type": "input_text", "text": "a snapshot"},
            {
                "type": "input_image",
                "image_url": _data_url(png_bytes, "image/png"),
                "detail": "auto",
            },
        ],
    }
    assert items[11] == {"type": "message", "role": "assistant", "content": "Done."}
    assert len(items) == 12


def test_reasoning_replay_uses_raw_and_skips_unreplayable():
    m = Message(
        "assistant",
        [
            Thinking("x", raw={"id": "rs_9", "encrypted_content": "ENC", "summary": []}),
            Thinking("local trace only"),
        ],
    ).with_text("ok")
    items = Conversation([m]).to_openai_responses()["input"]
    assert items == [
        {"type": "reasoning", "id": "rs_9", "summary": [], "encrypted_content": "ENC"},
        {"type": "message", "role": "assistant", "content": "ok"},
    ]


def test_assistant_images_rejected_for_chat(png_bytes):
    conv = Conversation([Message.ai("x").with_image(png_bytes)])
    with pytest.raises(PromptError, match="assistant messages"):
        conv.to_openai()


def test_requests_validate_against_openai_schema(png_bytes, pdf_path):
    conv = tool_conversation(png_bytes)
    conv.add(Message.user("and this").with_file(pdf_path).with_image(png_bytes))
    validate("CreateChatCompletionRequest", {"model": "gpt-4.1-mini", "messages": conv.to_openai()})
    # The spec's responses ``input`` is a oneOf whose branches overlap for message items
    # (it relies on an OpenAPI discriminator that JSON Schema ignores), so each item is
    # checked against the schema its ``type`` names.
    schema_for = {
        "message": "EasyInputMessage",
        "function_call": "FunctionToolCall",
        "function_call_output": "FunctionCallOutputItemParam",
        "reasoning": "ReasoningItem",
    }
    items = conv.to_openai_responses()["input"]
    assert {i["type"] for i in items} == set(schema_for)
    for item in items:
        validate(schema_for[item["type"]], item)
