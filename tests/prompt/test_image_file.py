"""Image and File: every source, errors, cached identity, resize and serialisers."""

from __future__ import annotations

import base64
import io
import pickle

import pytest
from PIL import Image as PILImage

from deluge_ray.errors import PromptError
from deluge_ray.prompt import File, Image

from .conftest import PDF_BYTES, make_png


def test_image_from_every_source_has_same_bytes(png_path):
    raw = png_path.read_bytes()
    b64 = base64.b64encode(raw).decode()
    sources = [png_path, str(png_path), raw, b64, f"data:image/png;base64,{b64}"]
    images = [Image(s) for s in sources]
    for img in images:
        assert img.data == raw
        assert img.media_type == "image/png"
        assert img.size == (40, 20)
    assert len({img.fingerprint for img in images}) == 1


def test_image_url_is_kept_not_fetched():
    img = Image("https://example.com/cat.png", detail="high")
    assert img.is_url and img.data == "https://example.com/cat.png"
    assert img.media_type == "image/png"
    assert img.oa_chat() == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/cat.png", "detail": "high"},
    }
    assert img.anthropic() == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.png"},
    }
    assert img.gemini() == {
        "file_data": {"mime_type": "image/png", "file_uri": "https://example.com/cat.png"}
    }
    with pytest.raises(PromptError, match="does not download"):
        _ = img.size


def test_image_serialisers_for_bytes(png_bytes):
    img = Image(png_bytes)
    b64 = base64.b64encode(png_bytes).decode()
    url = f"data:image/png;base64,{b64}"
    assert img.oa_chat() == {"type": "image_url", "image_url": {"url": url, "detail": "auto"}}
    assert img.oa_resp() == {"type": "input_image", "image_url": url, "detail": "auto"}
    assert img.anthropic() == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": b64},
    }
    assert img.gemini() == {"inline_data": {"mime_type": "image/png", "data": b64}}


def test_jpeg_and_bmp_sources():
    buf = io.BytesIO()
    PILImage.new("RGB", (3, 3)).save(buf, format="JPEG")
    assert Image(buf.getvalue()).media_type == "image/jpeg"
    buf = io.BytesIO()
    PILImage.new("RGB", (5, 2)).save(buf, format="BMP")
    bmp = Image(buf.getvalue())  # not a web format: converted to PNG
    assert bmp.media_type == "image/png" and bmp.data.startswith(b"\x89PNG")
    assert bmp.size == (5, 2)


def test_unreadable_images_say_what_and_why(tmp_path):
    with pytest.raises(PromptError, match=r"path '.*missing\.png' does not exist"):
        Image(tmp_path / "missing.png")
    with pytest.raises(PromptError, match="not an existing file, an http\\(s\\) URL"):
        Image("no/such/file.png")
    with pytest.raises(PromptError, match=r"not a readable image \(9 bytes\)"):
        Image(b"not image")
    with pytest.raises(PromptError, match="not base64-encoded"):
        Image("data:image/png,rawtext")
    with pytest.raises(PromptError, match="must be a path, URL, bytes"):
        Image(12345)  # type: ignore[arg-type]
    with pytest.raises(PromptError, match="detail must be one of"):
        Image(make_png(), detail="ultra")  # type: ignore[arg-type]
    with pytest.raises(PromptError, match="cannot be read"):
        Image(tmp_path)  # a directory


def test_resize_keeps_aspect_and_resets_cache():
    img = Image(make_png(400, 100))
    before = img.fingerprint
    assert img.size == (400, 100)
    assert img.resize(100) is img
    assert img.size == (100, 25)
    assert img.fingerprint != before
    small = Image(make_png(10, 10))
    data = small.data
    small.resize(50)  # already small enough: untouched
    assert small.data == data
    assert Image(make_png(30, 60), max_size=20).size == (10, 20)
    with pytest.raises(PromptError, match="positive int"):
        img.resize(0)


def test_cached_properties_survive_pickle(png_bytes):
    img = Image(png_bytes)
    assert img.size == (8, 4)
    clone = pickle.loads(pickle.dumps(img))
    assert clone == img
    assert clone.__dict__["size"] == (8, 4)
    assert clone.fingerprint == img.fingerprint


def test_from_pdf_without_pdf2image_names_the_extra(pdf_path):
    with pytest.raises(ImportError, match=r"pip install 'deluge-ray\[pdf\]'"):
        Image.from_pdf(pdf_path)


def test_file_sources_and_identity(pdf_path):
    from_path = File(pdf_path)
    assert from_path.data == PDF_BYTES
    assert from_path.filename == "report.pdf"
    assert from_path.media_type == "application/pdf"
    assert from_path.size == len(PDF_BYTES)
    from_bytes = File(PDF_BYTES)
    assert from_bytes.media_type == "application/pdf"  # sniffed from %PDF
    assert from_bytes.filename == "file.pdf"
    assert from_bytes.fingerprint == from_path.fingerprint
    b64 = base64.b64encode(PDF_BYTES).decode()
    assert File(f"data:application/pdf;base64,{b64}", filename="x.pdf").data == PDF_BYTES
    assert File(b64).data == PDF_BYTES
    notes = File(b"hello", filename="notes.txt")
    assert notes.media_type == "text/plain"
    assert File(b"\x00\x01").media_type == "application/octet-stream"


def test_file_serialisers(pdf_path):
    f = File(pdf_path)
    b64 = base64.b64encode(PDF_BYTES).decode()
    data_url = f"data:application/pdf;base64,{b64}"
    assert f.oa_chat() == {
        "type": "file",
        "file": {"filename": "report.pdf", "file_data": data_url},
    }
    assert f.oa_resp() == {"type": "input_file", "filename": "report.pdf", "file_data": data_url}
    assert f.anthropic() == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": b64},
        "title": "report.pdf",
    }
    assert f.gemini() == {"inline_data": {"mime_type": "application/pdf", "data": b64}}
    text = File(b"plain words", media_type="text/plain")
    assert text.anthropic()["source"] == {
        "type": "text",
        "media_type": "text/plain",
        "data": "plain words",
    }


def test_file_ids_and_urls():
    remote = File(file_id="file-abc", provider="openai")
    assert remote.is_remote
    assert remote.oa_chat() == {"type": "file", "file": {"file_id": "file-abc"}}
    assert remote.oa_resp() == {"type": "input_file", "file_id": "file-abc"}
    with pytest.raises(PromptError, match="uploaded to openai; it cannot be sent to anthropic"):
        remote.anthropic()
    with pytest.raises(PromptError, match="does not download"):
        _ = remote.size
    anth = File(file_id="file_01", provider="anthropic")
    assert anth.anthropic() == {
        "type": "document",
        "source": {"type": "file", "file_id": "file_01"},
    }
    url = File("https://example.com/a.pdf")
    assert url.filename == "a.pdf" and url.media_type == "application/pdf"
    assert url.oa_resp() == {"type": "input_file", "file_url": "https://example.com/a.pdf"}
    assert url.anthropic()["source"] == {"type": "url", "url": "https://example.com/a.pdf"}
    with pytest.raises(PromptError, match="cannot take file URL"):
        url.oa_chat()
    assert (
        File(file_id="file-abc", provider="openai").fingerprint
        != File(file_id="file-abd", provider="openai").fingerprint
    )


def test_file_bad_input(tmp_path):
    with pytest.raises(PromptError, match="needs data"):
        File()
    with pytest.raises(PromptError, match="does not exist"):
        File(tmp_path / "nope.pdf")
    with pytest.raises(PromptError, match="provider must be one of"):
        File(file_id="x", provider="mistral")
