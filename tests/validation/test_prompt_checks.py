"""prompt_problem: what a provider would refuse, found before sending, naming where."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from deluge_ray.errors import PromptError
from deluge_ray.prompt import Conversation, Image, Message, Text, ToolCall, ToolResult
from deluge_ray.prompt._checks import prompt_problem
from deluge_ray.prompt._prompts import UnreadablePrompt, to_conversations

OPENAI = [("gpt-4.1-mini", "openai")]
CLAUDE = [("claude-4.5-haiku", "anthropic")]
GEMINI = [("gemini-2.5-flash", "gemini")]


def png(size: int = 8) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (size, size), "red").save(buf, "PNG")
    return buf.getvalue()


def test_a_plain_prompt_passes_for_every_provider():
    conv = Conversation().system("Be terse.").user("Name a prime.", image=png())
    assert prompt_problem(conv, OPENAI + CLAUDE + GEMINI) is None


def test_an_empty_conversation_is_refused():
    assert "the conversation is empty" in prompt_problem(Conversation(), OPENAI)


@pytest.mark.parametrize(("targets", "name"), [(CLAUDE, "claude-4.5-haiku"), (GEMINI, "Gemini")])
def test_system_only_is_refused_where_the_api_needs_a_user_turn(targets, name):
    problem = prompt_problem(Conversation().system("rules only"), targets)
    assert "only system messages" in problem and name in problem


def test_system_only_is_fine_for_openai_alone_but_not_when_claude_may_be_chosen():
    conv = Conversation().system("rules only")
    assert prompt_problem(conv, OPENAI) is None
    assert "claude-4.5-haiku" in prompt_problem(conv, OPENAI + CLAUDE)


@pytest.mark.parametrize(
    ("message", "where"),
    [
        (Message("user", [Text("ok"), Text("bad \ud800 here")]), "message 1 (user)"),
        (Message("assistant", [ToolCall("c1", "f", {"q": "x\udfffy"})]), "message 1 (assistant)"),
        (Message("tool", [ToolResult("c1", {"out": ["\udc80"]})]), "message 1 (tool)"),
    ],
)
def test_a_lone_surrogate_anywhere_is_found_and_located(message, where):
    conv = Conversation([Message.user("first"), message])
    problem = prompt_problem(conv, OPENAI)
    assert problem.startswith(where)
    assert "lone surrogate" in problem and "UTF-8" in problem
    problem.encode("utf-8")  # the message itself must be printable and writable


def test_the_surrogate_position_is_reported():
    problem = prompt_problem(Conversation().user("abc\ud800"), OPENAI)
    assert "(U+D800) at character 3" in problem


def test_an_image_url_that_utf8_cannot_encode_is_refused():
    conv = Conversation().user("see", image="https://example.test/\ud800.png")
    assert "not valid Unicode" in prompt_problem(conv, OPENAI)


def test_image_bytes_that_do_not_decode_are_refused():
    truncated = png(64)[:60]  # a PNG signature, so Image() accepts it; the body is cut
    conv = Conversation().user("see", image=Image(truncated))
    problem = prompt_problem(conv, OPENAI)
    assert problem.startswith("message 0 (user) has an image that does not decode")
    assert "60 bytes" in problem


def test_an_image_inside_a_tool_result_is_checked_too():
    broken = Image(png(64)[:60])
    conv = Conversation(
        [
            Message.user("look"),
            Message("assistant", [ToolCall("c1", "shot", {})]),
            Message("tool", [ToolResult("c1", [Text("here"), broken])]),
        ]
    )
    assert "message 2 (tool) has an image that does not decode" in prompt_problem(conv, OPENAI)


def test_image_urls_are_not_fetched():
    conv = Conversation().user("see", image="https://example.test/cat.png")
    assert prompt_problem(conv, OPENAI) is None


def test_an_unreadable_message_list_fails_alone_when_asked():
    rows = [
        "fine",
        [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,bm90IGFuIGltYWdl"},
                    }
                ],
            }
        ],
    ]
    with pytest.raises(PromptError, match=r"prompts\[1\] is not a valid message list"):
        to_conversations(rows)
    fine, unreadable = to_conversations(rows, keep_unreadable=True)
    assert prompt_problem(fine, OPENAI) is None
    assert isinstance(unreadable, UnreadablePrompt)
    problem = prompt_problem(unreadable, OPENAI)
    assert problem.startswith("its message list could not be read") and "image" in problem


def test_a_prompt_of_no_prompt_type_still_raises_at_the_call():
    with pytest.raises(PromptError, match=r"prompts\[1\] has type int"):
        to_conversations(["fine", 42], keep_unreadable=True)
