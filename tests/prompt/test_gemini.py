"""to_gemini field by field."""

from __future__ import annotations

import base64

import pytest

from deluge_ray.errors import PromptError
from deluge_ray.prompt import Conversation, Message, Thinking, ToolCall

from .conftest import PDF_BYTES, tool_conversation


def test_plain_system_multi_turn():
    system, contents = Conversation().system("sys").user("q1").ai("a1").user("q2").to_gemini()
    assert system == {"parts": [{"text": "sys"}]}
    assert contents == [
        {"role": "user", "parts": [{"text": "q1"}]},
        {"role": "model", "parts": [{"text": "a1"}]},
        {"role": "user", "parts": [{"text": "q2"}]},
    ]
    assert Conversation().user("x").to_gemini()[0] is None


def test_images_and_files(png_bytes, pdf_path):
    conv = Conversation().user("see", image=png_bytes, file=pdf_path)
    conv.messages[0].with_image("https://example.com/a.jpg")
    _, contents = conv.to_gemini()
    assert contents[0]["parts"] == [
        {"text": "see"},
        {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(png_bytes).decode()}},
        {
            "inline_data": {
                "mime_type": "application/pdf",
                "data": base64.b64encode(PDF_BYTES).decode(),
            }
        },
        {"file_data": {"mime_type": "image/jpeg", "file_uri": "https://example.com/a.jpg"}},
    ]


def test_tool_calls_parallel_results_and_thoughts(png_bytes):
    conv = tool_conversation(png_bytes)
    conv.messages[2].parts[0] = Thinking("plan", raw={"thoughtSignature": "TS1"})
    conv.messages[2].parts[2] = ToolCall("c1", "echo", {"s": "hi"}, raw={"thoughtSignature": "TS2"})
    system, contents = conv.to_gemini()
    assert system == {"parts": [{"text": "You are terse."}]}
    assert contents[0] == {"role": "user", "parts": [{"text": "Do the things."}]}
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"text": "plan", "thought": True, "thoughtSignature": "TS1"},
            {"text": "Let me check."},
            {"functionCall": {"name": "echo", "args": {"s": "hi"}}, "thoughtSignature": "TS2"},
            {"functionCall": {"name": "lookup", "args": {"k": 1}}},
            {"functionCall": {"name": "listing", "args": {}}},
            {"functionCall": {"name": "snap", "args": {"zoom": 2}}},
        ],
    }
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "echo", "response": {"result": "hi"}}},
            {"functionResponse": {"name": "lookup", "response": {"value": 42}}},
            {"functionResponse": {"name": "listing", "response": {"result": [1, 2, 3]}}},
            {"functionResponse": {"name": "snap", "response": {"result": "a snapshot"}}},
            {
                "inline_data": {
                    "mime_type": "image/png",
                    "data": base64.b64encode(png_bytes).decode(),
                }
            },
        ],
    }
    assert contents[3] == {"role": "model", "parts": [{"text": "Done."}]}
    assert len(contents) == 4


def test_unsigned_thinking_is_a_plain_thought():
    _, contents = Conversation().user("q").add(Message.ai("a").with_thinking("t")).to_gemini()
    assert contents[1]["parts"] == [{"text": "a"}, {"text": "t", "thought": True}]


def test_result_without_call_names_the_id():
    conv = Conversation().user("q").with_tool_result("orphan", "x")
    with pytest.raises(PromptError, match="'orphan'"):
        conv.to_gemini()
