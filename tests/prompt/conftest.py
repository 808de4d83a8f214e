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
