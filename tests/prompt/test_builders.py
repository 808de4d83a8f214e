"""Builders of Message and Conversation, and the part views."""

from __future__ import annotations

import pickle

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


def test_instance_and_class_builders_are_equivalent():
    a = Conversation().system("sys").user("hi").ai("hello")
    b = Conversation.system("sys").user("hi").ai("hello")
    c = Conversation.user("hi")
    assert a == b
    assert [m.role for m in a.messages] == ["system", "user", "assistant"]
    assert a.messages[0].parts == [Text("sys")]
    assert c.messages == [Message("user", [Text("hi")])]
    # The class-level call must not leak state between conversations.
    assert len(Conversation.user("x").messages) == 1


def test_user_with_image_and_file(png_path, pdf_path):
    conv = Conversation().user("look", image=png_path, file=pdf_path)
    parts = conv.messages[0].parts
    assert isinstance(parts[0], Text) and parts[0].text == "look"
    assert isinstance(parts[1], Image) and parts[1].media_type == "image/png"
    assert isinstance(parts[2], File) and parts[2].filename == "report.pdf"
    assert parts[2].media_type == "application/pdf"


def test_message_chain_and_views(png_bytes):
    m = (
        Message.ai("first")
        .with_thinking("hmm")
        .with_text("second")
        .with_tool_call("c1", "add", {"a": 1})
        .with_image(png_bytes, detail="low")
    )
    assert m.role == "assistant"
    assert [t.text for t in m.text_parts] == ["first", "second"]
    assert m.thinking_parts == [Thinking("hmm")]
    assert m.tool_calls == [ToolCall("c1", "add", {"a": 1})]
    assert m.completion == "first\nsecond"
    assert m.images[0].detail == "low"
    assert Message.user().completion is None
    assert Message.system("s").role == "system"
    r = Message("tool").with_tool_result("c1", {"sum": 3})
    assert r.tool_results == [ToolResult("c1", {"sum": 3})]


def test_add_with_message_and_tool_results_merge():
    conv = Conversation().user("q")
    conv.add(Message.ai().with_tool_call("a", "f", {}).with_tool_call("b", "g", {}))
    conv.with_tool_result("a", "one").with_tool_result("b", {"x": 1})
    assert len(conv.messages) == 3
    assert conv.messages[2].role == "tool"
    assert conv.messages[2].tool_results == [ToolResult("a", "one"), ToolResult("b", {"x": 1})]
    conv.with_message(Message.user("next"))
    conv.with_tool_result("c", "later")
    assert [m.role for m in conv.messages] == ["user", "assistant", "tool", "user", "tool"]
    with pytest.raises(PromptError, match="needs a Message"):
        conv.add("not a message")  # type: ignore[arg-type]


def test_unknown_role_names_role_and_allowed():
    with pytest.raises(PromptError, match=r"'robot'.*system, user, assistant, tool"):
        Message("robot", [Text("x")])  # type: ignore[arg-type]


def test_unsupported_tool_result_type_names_type():
    with pytest.raises(PromptError, match="Unsupported tool result type int"):
        ToolResult("c1", 42)  # type: ignore[arg-type]
    with pytest.raises(PromptError, match="set"):
        Conversation().with_tool_result("c1", {1, 2})
    with pytest.raises(PromptError, match="mixes content parts with int"):
        ToolResult("c1", [Text("a"), 3])
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(PromptError, match="not JSON-serialisable"):
        ToolResult("c1", loop)
    # A leaf JSON cannot hold is sent as its repr, as lm-deluge 0.0.168 does.
    assert ToolResult("c1", {"n": {1}}).result == {"n": {1}}


def test_bad_parts_rejected():
    with pytest.raises(PromptError, match="part of type dict"):
        Message("user", [{"type": "text"}])  # type: ignore[list-item]
    with pytest.raises(PromptError, match="arguments must be a dict"):
        ToolCall("c", "f", '{"a": 1}')  # type: ignore[arg-type]
    with pytest.raises(PromptError, match="Text needs a str"):
        Text(5)  # type: ignore[arg-type]


def test_conversation_pickles(png_bytes):
    conv = Conversation().system("s").user("u", image=png_bytes)
    assert len(conv.messages[1].parts[1].fingerprint) == 64  # populate the cache first
    clone = pickle.loads(pickle.dumps(conv))
    assert clone == conv
    assert clone.fingerprint == conv.fingerprint
