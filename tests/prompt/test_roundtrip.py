"""Round trips: to_log/from_log, from_openai_chat(to_openai()), from_anthropic(to_anthropic())."""

from __future__ import annotations

import json

import pytest

from deluge_ray.errors import PromptError
from deluge_ray.prompt import (
    Conversation,
    File,
    Image,
    Message,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
)

from .conftest import tool_conversation


def _rich(png_bytes, pdf_path) -> Conversation:
    conv = tool_conversation(png_bytes)
    conv.add(
        Message.user("more")
        .with_image(png_bytes, detail="high")
        .with_image("https://example.com/p.webp")
        .with_file(pdf_path)
        .with_file(File(file_id="file-1", provider="openai"))
    )
    return conv


def _without_thinking(conv: Conversation) -> Conversation:
    return Conversation(
        [
            Message(m.role, [p for p in m.parts if not isinstance(p, Thinking)])
            for m in conv.messages
        ]
    )


def test_log_round_trip_is_exact_and_json_safe(png_bytes, pdf_path):
    conv = _rich(png_bytes, pdf_path)
    conv.messages[2].parts[2] = ToolCall("c1", "echo", {"s": "hi"}, raw={"thoughtSignature": "T"})
    conv.messages[2].parts.insert(0, Thinking("", raw={"type": "redacted_thinking", "data": "X"}))
    log = conv.to_log()
    text = json.dumps(log)  # JSON-safe
    back = Conversation.from_log(json.loads(text))
    assert back == conv
    assert back.fingerprint == conv.fingerprint
    # A str that looks like JSON stays a str in the log (types are kept exactly).
    odd = Conversation().with_tool_result("x", '{"a": 1}')
    assert Conversation.from_log(odd.to_log()).messages[0].tool_results[0].result == '{"a": 1}'


def test_log_bad_payloads():
    with pytest.raises(PromptError, match="'messages' list"):
        Conversation.from_log({"msgs": []})
    with pytest.raises(PromptError, match="Unknown log part type 'video'"):
        Conversation.from_log({"messages": [{"role": "user", "content": [{"type": "video"}]}]})
    with pytest.raises(PromptError, match="missing key 'text'"):
        Conversation.from_log({"messages": [{"role": "user", "content": [{"type": "text"}]}]})
    with pytest.raises(PromptError, match="invalid base64"):
        Conversation.from_log(
            {"messages": [{"role": "user", "content": [{"type": "image", "data": "@@"}]}]}
        )


def test_openai_chat_round_trip_preserves_parts(png_bytes, pdf_path):
    conv = _rich(png_bytes, pdf_path)
    back = Conversation.from_openai_chat(conv.to_openai())
    # Chat completions cannot carry reasoning; everything else comes back equal.
    assert back == _without_thinking(conv)
    results = back.messages[3].tool_results
    assert results[1].result == {"value": 42}
    assert results[2].result == [1, 2, 3]
    assert results[3].result == [Text("a snapshot"), Image(png_bytes)]
    assert back.to_openai() == conv.to_openai()


def test_openai_image_only_tool_result_round_trips(png_bytes):
    conv = Conversation().user("q")
    conv.add(Message.ai().with_tool_call("a", "snap", {}).with_tool_call("b", "snap", {}))
    conv.with_tool_result("a", [Image(png_bytes)]).with_tool_result("b", "plain")
    conv.add(Message.user("thanks"))
    wire = conv.to_openai()
    assert wire[2] == {"role": "tool", "tool_call_id": "a", "content": ""}
    back = Conversation.from_openai_chat(wire)
    assert back == conv


def test_anthropic_round_trip_preserves_parts(png_bytes, pdf_path):
    conv = _rich(png_bytes, pdf_path)
    conv.messages[-1].parts.pop()  # an OpenAI file id cannot go to Anthropic
    conv.messages[-1].parts[1].detail = "auto"  # Anthropic has no detail setting
    conv.messages[2].parts[0].raw = None  # OpenAI's reasoning id does not travel to Anthropic
    conv.add(Message.ai("bye"))
    back = Conversation.from_anthropic(*reversed(conv.to_anthropic()))
    assert back == conv
    thinking = back.messages[2].thinking_parts[0]
    assert (thinking.content, thinking.signature) == ("plan", "sig-1")


def test_from_anthropic_accepts_block_system_and_file_ids():
    back = Conversation.from_anthropic(
        [
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "file", "file_id": "file_9"}},
                    {"type": "text", "text": "summarise", "cache_control": {"type": "ephemeral"}},
                ],
            }
        ],
        system=[{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
    )
    assert back.messages[0] == Message("system", [Text("sys")])
    assert back.messages[1].parts == [
        File(file_id="file_9", provider="anthropic"),
        Text("summarise"),
    ]


def test_from_openai_chat_variants():
    back = Conversation.from_openai_chat(
        [
            {"role": "developer", "content": "rules"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "t", "content": "not json {"},
        ]
    )
    assert back.messages == [
        Message("system", [Text("rules")]),
        Message("user", [Text("hi")]),
        Message("assistant", [ToolCall("t", "f", {})]),
        Message("tool", [ToolResult("t", "not json {")]),
    ]


def test_parsers_reject_bad_input():
    with pytest.raises(PromptError, match="Unknown message role 'bot'"):
        Conversation.from_openai_chat([{"role": "bot", "content": "x"}])
    with pytest.raises(PromptError, match="unsupported content type 'input_audio'"):
        Conversation.from_openai_chat([{"role": "user", "content": [{"type": "input_audio"}]}])
    with pytest.raises(PromptError, match="arguments that are not JSON"):
        Conversation.from_openai_chat(
            [
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "t", "function": {"name": "f", "arguments": "{bad"}}],
                }
            ]
        )
    with pytest.raises(PromptError, match="unsupported block type 'server_tool_use'"):
        Conversation.from_anthropic(
            [{"role": "assistant", "content": [{"type": "server_tool_use"}]}]
        )
    with pytest.raises(PromptError, match="must be a list"):
        Conversation.from_anthropic("hello")  # type: ignore[arg-type]
