"""Turn whatever a user hands us as binary content into bytes or a URL.

Images and files accept the same sources: a local path (``str`` or ``Path``), an
``http(s)`` URL, raw ``bytes``, a base64 string or a ``data:`` URL. Local sources are read
eagerly so that a bad path fails where it was written, and so that the object pickles with
its content (it crosses Ray process boundaries). URLs are never fetched: providers that
accept URLs receive them as URLs.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import PromptError

__all__ = ["Loaded", "data_url", "is_http_url", "load_source"]

_DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,(?P<b64>.*)$", re.S
)


@dataclass(frozen=True)
class Loaded:
    """The outcome of reading one source: exactly one of ``data`` and ``url`` is set."""

    data: bytes | None
    url: str | None
    media_type: str | None  # what the source itself says (data-URL header, file extension)
    filename: str | None  # the file or URL path's last segment, when there is one


def is_http_url(value: str) -> bool:
    """True for ``http://`` and ``https://`` URLs."""
    return value.startswith(("http://", "https://"))


def data_url(data: bytes, media_type: str) -> str:
    """Encode ``data`` as a base64 ``data:`` URL."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _preview(value: str) -> str:
    return value if len(value) <= 60 else value[:57] + "..."


def _guess_type(name: str | None) -> str | None:
    if not name:
        return None
    return mimetypes.guess_type(name)[0]


def _read_path(path: Path, kind: str) -> Loaded:
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise PromptError(f"{kind} path {str(path)!r} does not exist.") from None
    except OSError as exc:
        raise PromptError(f"{kind} path {str(path)!r} cannot be read: {exc}.") from exc
    return Loaded(content, None, _guess_type(path.name), path.name)


def load_source(source: object, kind: str) -> Loaded:
    """Read ``source`` (path, URL, bytes, base64 or data URL); ``kind`` names it in errors.

    >>> load_source(b"abc", "file").data
    b'abc'
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Loaded(bytes(source), None, None, None)
    if isinstance(source, Path):
        return _read_path(source, kind)
    if not isinstance(source, str):
        raise PromptError(
            f"{kind} data must be a path, URL, bytes, base64 string or data URL, "
            f"not {type(source).__name__}."
        )
    text = source.strip()
    if not text:
        raise PromptError(f"{kind} data is an empty string; pass a path, URL, bytes or base64.")
    if is_http_url(text):
        name = Path(unquote(urlparse(text).path)).name or None
        return Loaded(None, text, _guess_type(name), name)
    if text.startswith("data:"):
        match = _DATA_URL.match(text)
        if match is None:
            raise PromptError(
                f"{kind} data URL {_preview(text)!r} is not base64-encoded "
                "(expected 'data:<media type>;base64,<data>')."
            )
        try:
            content = base64.b64decode(match["b64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PromptError(
                f"{kind} data URL {_preview(text)!r} has invalid base64: {exc}."
            ) from exc
        return Loaded(content, None, match["mime"], None)
    # A short string naming an existing file is a path; try that before base64, because
    # a name like "abcd" is valid base64 too.
    if len(text) < 4096:
        path = Path(text).expanduser()
        try:
            is_file = path.is_file()
        except OSError:  # names too long for the OS, invalid characters
            is_file = False
        if is_file:
            return _read_path(path, kind)
    try:
        content = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        content = b""
    if not content:
        raise PromptError(
            f"{kind} data {_preview(text)!r} is not an existing file, an http(s) URL, a data "
            "URL or valid base64. Check the path (relative paths resolve against "
            f"{Path.cwd()})."
        )
    return Loaded(content, None, None, None)
