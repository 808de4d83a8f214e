"""Conversations, tools and schemas shared by the per-provider request tests."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image as PILImage
from pydantic import BaseModel

from deluge_ray.prompt import Conversation, File, Image, Message, Thinking, ToolCall
from deluge_ray.tool import Tool

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def png_bytes() -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (8, 4), (200, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


def get_weather(city: str, unit: str = "c") -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def get_time(zone: str) -> str:
    """Current time in a time zone."""
    return "12:00"


WEATHER = Tool.from_function(get_weather)
TIME = Tool.from_function(get_time)


class Answer(BaseModel):
    """A structured answer."""

    city: str
    temperature_c: float


ANSWER_SCHEMA: dict[str, Any] = {
    "title": "Answer",
    "type": "object",
    "properties": {"city": {"type": "string"}, "temperature_c": {"type": "number"}},
    "required": ["city", "temperature_c"],
}


def plain() -> Conversation:
    return Conversation().user("Hello there")


def with_system() -> Conversation:
    return Conversation().system("Be terse.").user("Hello there")


def multi_turn() -> Conversation:
    return Conversation().system("Be terse.").user("Hi").ai("Hello!").user("How are you?")


def with_image() -> Conversation:
    return Conversation().user("What is this?", image=png_bytes())


def with_image_url() -> Conversation:
    return Conversation().add(Message.user("Describe").with_image("https://example.com/cat.png"))


def with_file() -> Conversation:
    return Conversation().add(Message.user("Summarise").with_file(File(PDF, filename="r.pdf")))


def parallel_tool_results() -> Conversation:
    """A user turn, an assistant turn with two tool calls, and both results."""
    conv = Conversation().user("Weather and time in Paris?")
    conv.add(
        Message(
            "assistant",
            [
                ToolCall("call_1", "get_weather", {"city": "Paris"}),
                ToolCall("call_2", "get_time", {"zone": "Europe/Paris"}),
            ],
        )
    )
    return conv.with_tool_result("call_1", "sunny").with_tool_result("call_2", {"time": "12:00"})


def thinking_replay() -> Conversation:
    """An assistant turn carrying a signed thinking block (Anthropic style) and a tool call."""
    conv = Conversation().user("Weather in Paris?")
    conv.add(
        Message(
            "assistant",
            [
                Thinking("I should call the weather tool.", signature="sig-abc"),
                ToolCall("call_1", "get_weather", {"city": "Paris"}),
            ],
        )
    )
    return conv.with_tool_result("call_1", "sunny")


def every_case() -> dict[str, Conversation]:
    """Every conversation shape, by name (for schema validation over all of them)."""
    return {
        "plain": plain(),
        "system": with_system(),
        "multi_turn": multi_turn(),
        "image": with_image(),
        "image_url": with_image_url(),
        "file": with_file(),
        "parallel_tools": parallel_tool_results(),
        "thinking": thinking_replay(),
    }


__all__ = ["Image"]
