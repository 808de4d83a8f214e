"""Small real images and files for the prompt tests."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image as PILImage

# A minimal but well-formed one-page PDF: enough for byte-level round trips.
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def make_png(width: int = 8, height: int = 4, color: str = "red") -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def png_bytes() -> bytes:
    return make_png()


@pytest.fixture
def png_path(tmp_path: Path) -> Path:
    path = tmp_path / "pic.png"
    path.write_bytes(make_png(40, 20, "blue"))
    return path


@pytest.fixture
def pdf_path(tmp_path: Path) -> Path:
    path = tmp_path / "report.pdf"
    path.write_bytes(PDF_BYTES)
    return path


def tool_conversation(png: bytes):
    """System, user, an assistant turn with thinking and four parallel calls, their results
    (string, dict, JSON list, text+image parts) and a final answer."""
    from deluge_ray.prompt import Conversation, Image, Message, Text, Thinking

    assistant = Message("assistant", [Thinking("plan", signature="sig-1", raw={"id": "rs_1"})])
    assistant.with_text("Let me check.")
    assistant.with_tool_call("c1", "echo", {"s": "hi"})
    assistant.with_tool_call("c2", "lookup", {"k": 1})
    assistant.with_tool_call("c3", "listing", {})
    assistant.with_tool_call("c4", "snap", {"zoom": 2})
    return (
        Conversation()
        .system("You are terse.")
        .user("Do the things.")
        .add(assistant)
        .with_tool_result("c1", "hi")
        .with_tool_result("c2", {"value": 42})
        .with_tool_result("c3", [1, 2, 3])
        .with_tool_result("c4", [Text("a snapshot"), Image(png)])
        .ai("Done.")
    )
