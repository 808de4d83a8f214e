"""``Image``: an image part from a path, URL, bytes, base64 or data URL."""

from __future__ import annotations

import base64
import hashlib
import io
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from ..errors import PromptError
from ._source import data_url, load_source

__all__ = ["Detail", "Image"]

Detail = Literal["auto", "low", "high"]
_DETAILS = ("auto", "low", "high")

# Formats every provider accepts; anything else Pillow can read is converted to PNG.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _sniff(data: bytes) -> str | None:
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _open_pil(data: bytes, what: str) -> Any:
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        img = PILImage.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise PromptError(f"{what} is not a readable image ({len(data)} bytes): {exc}.") from exc
    return img


def _encode(img: Any, media_type: str) -> bytes:
    fmt = {"image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}.get(media_type, "PNG")
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


class Image:
    """An image to show the model.

    ``data`` may be a local path, an http(s) URL, bytes, a base64 string, a data URL or
    another ``Image``. Local content is read (and checked to be an image) immediately;
    URLs are passed to providers as URLs and never fetched here.

    >>> import io
    >>> from PIL import Image as PILImage
    >>> buf = io.BytesIO(); PILImage.new("RGB", (40, 20)).save(buf, "PNG")
    >>> Image(buf.getvalue(), max_size=10).size
    (10, 5)
    """

    def __init__(
        self,
        data: bytes | str | Path | Image,
        media_type: str | None = None,
        detail: Detail = "auto",
        max_size: int | None = None,
    ) -> None:
        if detail not in _DETAILS:
            raise PromptError(f"Image detail must be one of {_DETAILS}, got {detail!r}.")
        self.detail: str = detail
        if isinstance(data, Image):
            self.data = data.data
            self.media_type: str = media_type or data.media_type
        else:
            loaded = load_source(data, "Image")
            what = f"Image {str(data)[:60]!r}" if isinstance(data, (str, Path)) else "Image bytes"
            if loaded.url is not None:
                self.data = loaded.url
                # Providers that need a type for URLs (Gemini) get the extension's guess.
                self.media_type = media_type or loaded.media_type or "image/jpeg"
            else:
                content = loaded.data or b""
                sniffed = _sniff(content)
                if sniffed is None:
                    # Readable by Pillow but not a web format (BMP, TIFF, ...): store as PNG.
                    content = _encode(_open_pil(content, what), "image/png")
                    sniffed = "image/png"
                self.data = content
                self.media_type = media_type or sniffed
        if max_size is not None:
            self.resize(max_size)

    # ── identity ──────────────────────────────────────────────────────────────
    @property
    def data(self) -> bytes | str:
        """The content: bytes in hand, or an http(s) URL string."""
        return self._data

    @data.setter
    def data(self, value: bytes | str) -> None:
        # fingerprint and size are cached; new content must not keep the old figures.
        self._data = value
        self.__dict__.pop("fingerprint", None)
        self.__dict__.pop("size", None)

    @property
    def is_url(self) -> bool:
        """True when the image is a remote URL rather than bytes in hand."""
        return isinstance(self.data, str)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return (self.data, self.media_type, self.detail) == (
            other.data,
            other.media_type,
            other.detail,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable (resize), like a dataclass

    def __repr__(self) -> str:
        source = self.data if self.is_url else f"<{len(self.data)} bytes>"
        return f"Image({source}, media_type={self.media_type!r}, detail={self.detail!r})"

    @cached_property
    def fingerprint(self) -> str:
        """sha256 hex of the bytes (or of the URL for remote images)."""
        payload = self.data.encode() if isinstance(self.data, str) else self.data
        return hashlib.sha256(payload).hexdigest()

    @cached_property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels; not available for URL images (never fetched)."""
        img = _open_pil(self._bytes("size"), "Image")
        return (int(img.width), int(img.height))

    def _bytes(self, why: str) -> bytes:
        if isinstance(self.data, str):
            raise PromptError(
                f"Image {self.data!r} is a URL; its {why} needs the bytes, which deluge_ray "
                "does not download. Download it and pass the bytes or a path instead."
            )
        return self.data

    def base64(self) -> str:
        """The image bytes as base64 text."""
        return base64.b64encode(self._bytes("base64 encoding")).decode("ascii")

    def url(self) -> str:
        """An http(s) URL or a data URL: what OpenAI accepts as ``image_url``."""
        return self.data if isinstance(self.data, str) else data_url(self.data, self.media_type)

    # ── transformations ───────────────────────────────────────────────────────
    def resize(self, max_size: int) -> Image:
        """Shrink in place so the longer side is at most ``max_size`` px; returns ``self``.

        Keeps the aspect ratio and the format; images already small enough are untouched.
        """
        if not isinstance(max_size, int) or max_size <= 0:
            raise PromptError(f"Image max_size must be a positive int, got {max_size!r}.")
        img = _open_pil(self._bytes("resize"), "Image")
        longer = max(img.width, img.height)
        if longer <= max_size:
            return self
        scale = max_size / longer
        new_size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        self.data = _encode(img.resize(new_size), self.media_type)  # resets the caches
        return self

    @classmethod
    def from_pdf(cls, path: str | Path, dpi: int = 200, target_size: int = 1024) -> list[Image]:
        """Render each page of a PDF to a JPEG ``Image`` whose longer side is ``target_size``.

        Needs the optional ``pdf2image`` package (and poppler).
        """
        try:
            from pdf2image import convert_from_path
        except ImportError as exc:
            raise ImportError(
                "Image.from_pdf needs pdf2image: pip install 'deluge-ray[pdf]' "
                "(and poppler, e.g. apt-get install poppler-utils)."
            ) from exc
        pages = convert_from_path(str(path), dpi=dpi)
        images = []
        for page in pages:
            scale = target_size / max(page.width, page.height)
            size = (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
            images.append(cls(_encode(page.resize(size), "image/jpeg"), "image/jpeg"))
        return images

    # ── provider serialisers ──────────────────────────────────────────────────
    def oa_chat(self) -> dict[str, Any]:
        """OpenAI chat-completions content part."""
        return {"type": "image_url", "image_url": {"url": self.url(), "detail": self.detail}}

    def oa_resp(self) -> dict[str, Any]:
        """OpenAI responses content part."""
        return {"type": "input_image", "image_url": self.url(), "detail": self.detail}

    def anthropic(self) -> dict[str, Any]:
        """Anthropic content block."""
        if isinstance(self.data, str):
            return {"type": "image", "source": {"type": "url", "url": self.data}}
        source = {"type": "base64", "media_type": self.media_type, "data": self.base64()}
        return {"type": "image", "source": source}

    def gemini(self) -> dict[str, Any]:
        """Gemini content part."""
        if isinstance(self.data, str):
            return {"file_data": {"mime_type": self.media_type, "file_uri": self.data}}
        return {"inline_data": {"mime_type": self.media_type, "data": self.base64()}}
