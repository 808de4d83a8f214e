"""Fingerprints, count_tokens and prompts_to_conversations."""

from __future__ import annotations

import json

import pytest

from deluge_ray._tokens import count_text_tokens
from deluge_ray.errors import PromptError
from deluge_ray.prompt import (
    Conversation,
    Image,
    Message,
    Text,
    Thinking,
    prompts_to_conversations,
)

from .conftest import make_png, tool_conversation


def test_fingerprint_equal_content_equal_hash(png_bytes, png_path):
    a = Conversation().system("s").user("u", image=png_bytes)
    b = Conversation.system("s").user("u", image=Image(png_bytes))
    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint) == 64 and int(a.fingerprint, 16) >= 0
    # Same bytes, different source: same fingerprint.
    assert (
        Conversation().user("u", image=png_path).fingerprint
        == Conversation().user("u", image=png_path.read_bytes()).fingerprint
    )
    assert a.messages[1].fingerprint == b.messages[1].fingerprint


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.messages[1].parts.__setitem__(0, Text("U")),
        lambda c: c.messages[1].parts[1].__init__(make_png(color="green")),
        lambda c: setattr(c.messages[1].parts[1], "detail", "low"),
        lambda c: c.messages[0].__setattr__("role", "user"),
        lambda c: c.add(Message.ai("")),
        lambda c: c.messages[1].with_thinking("t"),
        lambda c: c.with_tool_result("x", {"a": 1}),
    ],
)
def test_fingerprint_changes_with_any_change(png_bytes, change):
    conv = Conversation().system("s").user("u", image=png_bytes)
    before = conv.fingerprint
    change(conv)
    assert conv.fingerprint != before


def test_fingerprint_distinguishes_result_shapes_and_thinking_signature():
    a = Conversation().with_tool_result("x", "[1]")
    b = Conversation().with_tool_result("x", [1])
    assert a.fingerprint != b.fingerprint
    t1 = Conversation([Message("assistant", [Thinking("t", signature="1")])])
    t2 = Conversation([Message("assistant", [Thinking("t", signature="2")])])
    assert t1.fingerprint != t2.fingerprint


def test_count_tokens_simple_figures():
    # DELUGE_RAY_TOKENIZER=estimate: ceil(len/4) per piece.
    conv = Conversation().user("abcdefgh")  # 2 tokens + 4 per message
    assert conv.count_tokens() == 6
    assert conv.count_tokens(max_new_tokens=10) == 16
    with_img = Conversation().user("abcdefgh", image=make_png())
    assert with_img.count_tokens() == 6 + 85
    assert with_img.count_tokens(img_tokens=100) == 106
    with pytest.raises(PromptError, match="max_new_tokens must be >= 0"):
        conv.count_tokens(max_new_tokens=-1)


def test_count_tokens_formula_over_every_piece(png_bytes):
    conv = tool_conversation(png_bytes)
    c = count_text_tokens
    expected = (
        c("You are terse.")
        + c("Do the things.")
        + c("plan")
        + c("Let me check.")
        + c("echo")
        + c(json.dumps({"s": "hi"}))
        + c("lookup")
        + c(json.dumps({"k": 1}))
        + c("listing")
        + c("{}")
        + c("snap")
        + c(json.dumps({"zoom": 2}))
        + c("hi")
        + c('{"value": 42}')
        + c("[1, 2, 3]")
        + c("a snapshot")
        + 85  # the tool-result image
        + c("Done.")
        + 4 * len(conv.messages)
        + 50
    )
    assert conv.count_tokens(max_new_tokens=50) == expected


def test_prompts_to_conversations_every_shape():
    conv = Conversation().user("c")
    openai_list = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "o"},
    ]
    anthropic_list = [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"}]},
    ]
    out = prompts_to_conversations(["plain", Message.user("m"), conv, openai_list, anthropic_list])
    assert out[0] == Conversation().user("plain")
    assert out[1] == Conversation([Message.user("m")])
    assert out[2] is conv
    assert [m.role for m in out[3].messages] == ["system", "user"]
    assert [m.role for m in out[4].messages] == ["user", "assistant", "tool"]
    assert out[4].messages[2].tool_results[0].result == "r"
    assert prompts_to_conversations("one") == [Conversation().user("one")]


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (42, r"prompts\[1\] has type int"),
        ({"role": "user"}, r"prompts\[1\] has type dict"),
        ([{"role": "wizard", "content": "x"}], r"prompts\[1\] is not a valid message list.*wizard"),
        (["a", "b"], r"prompts\[1\] has type list"),
    ],
)
def test_prompts_to_conversations_bad_item(bad, match):
    with pytest.raises(PromptError, match=match):
        prompts_to_conversations(["fine", bad])


def test_prompts_to_conversations_bad_container():
    with pytest.raises(PromptError, match="must be a list of prompts, got int"):
        prompts_to_conversations(5)
