"""to_anthropic field by field, thinking replay and every cache pattern."""

from __future__ import annotations

import base64

import pytest

from deluge_ray.errors import PromptError
from deluge_ray.prompt import (
    CACHE_PATTERNS,
    Conversation,
    Message,
    Thinking,
    apply_tool_cache_control,
)

from .conftest import PDF_BYTES, tool_conversation

EPH = {"type": "ephemeral"}


def test_plain_system_multi_turn():
    system, msgs = Conversation().system("sys").user("q1").ai("a1").user("q2").to_anthropic()
    assert system == "sys"
    assert msgs == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": [{"type": "text", "text": "a1"}]},
        {"role": "user", "content": "q2"},
    ]
    assert Conversation().user("x").to_anthropic()[0] is None


def test_images_and_files(png_bytes, pdf_path):
    _, msgs = Conversation().user("see", image=png_bytes, file=pdf_path).to_anthropic()
    assert msgs == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "see"},
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": "image/png",
                        "data": base64.b64encode(png_bytes).decode(),
                    },
                },
                {
                    "type": "document",
                    "source": {
                        "type": "base64",
                        "media_type": "application/pdf",
                        "data": base64.b64encode(PDF_BYTES).decode(),
                    },
                    "title": "report.pdf",
                },
            ],
        }
    ]


def test_tool_calls_parallel_results_and_thinking(png_bytes):
    system, msgs = tool_conversation(png_bytes).to_anthropic()
    assert system == "You are terse."
    assert msgs[0] == {"role": "user", "content": "Do the things."}
    assert msgs[1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "plan", "signature": "sig-1"},
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "c1", "name": "echo", "input": {"s": "hi"}},
            {"type": "tool_use", "id": "c2", "name": "lookup", "input": {"k": 1}},
            {"type": "tool_use", "id": "c3", "name": "listing", "input": {}},
            {"type": "tool_use", "id": "c4", "name": "snap", "input": {"zoom": 2}},
        ],
    }
    # All four results in ONE user turn.
    assert msgs[2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "c1", "content": "hi"},
            {"type": "tool_result", "tool_use_id": "c2", "content": '{"value": 42}'},
            {"type": "tool_result", "tool_use_id": "c3", "content": "[1, 2, 3]"},
            {
                "type": "tool_result",
                "tool_use_id": "c4",
                "content": [
                    {"type": "text", "text": "a snapshot"},
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": "image/png",
                            "data": base64.b64encode(png_bytes).decode(),
                        },
                    },
                ],
            },
        ],
    }
    assert msgs[3] == {"role": "assistant", "content": [{"type": "text", "text": "Done."}]}
    assert len(msgs) == 4


def test_separate_tool_messages_merge_into_one_user_turn():
    conv = Conversation().user("q")
    conv.add(Message.ai().with_tool_call("a", "f", {}).with_tool_call("b", "f", {}))
    conv.add(Message("tool").with_tool_result("a", "1"))
    conv.add(Message("tool").with_tool_result("b", "2"))
    _, msgs = conv.to_anthropic()
    assert len(msgs) == 3
    assert [b["tool_use_id"] for b in msgs[2]["content"]] == ["a", "b"]


def test_thinking_variants():
    m = Message(
        "assistant",
        [
            Thinking("unsigned, from elsewhere"),
            Thinking("", raw={"type": "redacted_thinking", "data": "OPAQUE"}),
            Thinking("signed", signature="s"),
        ],
    ).with_text("answer")
    _, msgs = Conversation().user("q").add(m).to_anthropic()
    assert msgs[1]["content"] == [
        {"type": "redacted_thinking", "data": "OPAQUE"},
        {"type": "thinking", "thinking": "signed", "signature": "s"},
        {"type": "text", "text": "answer"},
    ]


def _three_turns() -> Conversation:
    return (
        Conversation()
        .system("sys")
        .user("u1")
        .ai("a1")
        .user("u2")
        .ai("a2")
        .add(Message.user("u3").with_text("u3b"))
    )


def test_cache_system_and_tools():
    system, msgs = _three_turns().to_anthropic(cache_pattern="system_and_tools")
    assert system == [{"type": "text", "text": "sys", "cache_control": EPH}]
    assert msgs == _three_turns().to_anthropic()[1]  # messages untouched


def test_cache_tools_only_leaves_system_and_messages():
    system, msgs = _three_turns().to_anthropic(cache_pattern="tools_only")
    assert system == "sys"
    assert msgs == _three_turns().to_anthropic()[1]


@pytest.mark.parametrize(
    ("pattern", "marked"),
    [
        ("last_user_message", [4]),
        ("last_2_user_messages", [2, 4]),
        ("last_3_user_messages", [0, 2, 4]),
    ],
)
def test_cache_last_user_messages(pattern, marked):
    system, msgs = _three_turns().to_anthropic(cache_pattern=pattern)
    assert system == "sys"
    for i, msg in enumerate(msgs):
        content = msg["content"]
        if i in marked:
            assert isinstance(content, list)
            assert content[-1]["cache_control"] == EPH
            assert all("cache_control" not in b for b in content[:-1])
        else:
            blocks = content if isinstance(content, list) else []
            assert all("cache_control" not in b for b in blocks)
    assert msgs[4]["content"] == [
        {"type": "text", "text": "u3"},
        {"type": "text", "text": "u3b", "cache_control": EPH},
    ]
    if 0 in marked:
        assert msgs[0]["content"] == [{"type": "text", "text": "u1", "cache_control": EPH}]


def test_tool_result_turn_counts_as_user_message(png_bytes):
    _, msgs = tool_conversation(png_bytes).to_anthropic(cache_pattern="last_user_message")
    assert msgs[2]["content"][-1]["cache_control"] == EPH
    assert msgs[0] == {"role": "user", "content": "Do the things."}


def test_apply_tool_cache_control():
    tools = [{"name": "a", "input_schema": {}}, {"name": "b", "input_schema": {}}]
    for pattern in ("system_and_tools", "tools_only"):
        out = apply_tool_cache_control(tools, pattern)
        assert out[-1] == {"name": "b", "input_schema": {}, "cache_control": EPH}
        assert "cache_control" not in out[0]
    assert "cache_control" not in tools[-1]  # input untouched
    for pattern in (None, "last_user_message"):
        assert apply_tool_cache_control(tools, pattern) == tools
    assert apply_tool_cache_control([], "tools_only") == []
    assert set(CACHE_PATTERNS) == {
        "system_and_tools",
        "tools_only",
        "last_user_message",
        "last_2_user_messages",
        "last_3_user_messages",
    }


def test_unknown_cache_pattern():
    with pytest.raises(PromptError, match="Unknown cache_pattern 'everything'"):
        Conversation().user("x").to_anthropic(cache_pattern="everything")  # type: ignore[arg-type]
