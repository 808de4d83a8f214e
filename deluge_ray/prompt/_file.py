"""``File``: a document part (PDF, text, ...) from bytes, a path, URL or a provider file id."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import PromptError
from ._source import data_url, load_source

__all__ = ["File"]

_PROVIDERS = ("openai", "anthropic", "gemini")


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF"):
        return "application/pdf"
    return None


def _remote_provider(
    is_remote: bool, remote_provider: str | None, file_id: str | None, provider: str | None
) -> str | None:
    """``provider`` after 0.0.168's ``is_remote=True, remote_provider=...`` spelling of it
    (``"google"`` there is ``"gemini"`` here)."""
    if remote_provider is not None:
        remote_provider = "gemini" if remote_provider == "google" else remote_provider
        if provider is not None and provider != remote_provider:
            raise PromptError(
                f"File got provider={provider!r} and remote_provider={remote_provider!r}; "
                "they name the same thing, so give one."
            )
        provider = remote_provider
    if is_remote and (provider is None or file_id is None):
        raise PromptError(
            "File(is_remote=True) needs file_id and remote_provider (the provider that "
            "holds the uploaded file)."
        )
    return provider


class File:
    """A file to show the model.

    ``data`` is a local path, http(s) URL, bytes, base64 string or data URL; or leave it
    ``None`` and pass ``file_id`` (with ``provider``) for a file already uploaded to a
    provider. Local content is read immediately; URLs are never fetched.
    ``is_remote=True, remote_provider=...`` is lm-deluge 0.0.168's spelling of
    ``file_id`` + ``provider``; the ``is_remote`` property tells whether a file id is set.

    >>> f = File(b"%PDF-1.4 ...", filename="report.pdf")
    >>> f.media_type, f.size
    ('application/pdf', 12)
    """

    def __init__(
        self,
        data: bytes | str | Path | File | None = None,
        media_type: str | None = None,
        filename: str | None = None,
        file_id: str | None = None,
        provider: str | None = None,
        *,
        is_remote: bool = False,
        remote_provider: str | None = None,
    ) -> None:
        provider = _remote_provider(is_remote, remote_provider, file_id, provider)
        if provider is not None and provider not in _PROVIDERS:
            raise PromptError(f"File provider must be one of {_PROVIDERS}, got {provider!r}.")
        self.file_id = file_id
        self.provider = provider
        if isinstance(data, File):
            self.data = data.data
            self.media_type: str = media_type or data.media_type
            self.filename: str = filename or data.filename
            self.file_id = file_id or data.file_id
            self.provider = provider or data.provider
            return
        if file_id is not None and isinstance(data, (str, Path)):
            # A provider file id is the reference that is sent; the string beside it is a
            # name, never read (0.0.168 does not read it either).
            filename = filename or Path(str(data)).name or None
            data = None
        if data is None:
            if file_id is None:
                raise PromptError("File needs data (path, URL, bytes, base64) or a file_id.")
            self.data = None
            self.filename = filename or file_id
            self.media_type = (
                media_type or mimetypes.guess_type(self.filename)[0] or ("application/pdf")
            )
            return
        loaded = load_source(data, "File")
        self.data = loaded.url if loaded.url is not None else loaded.data
        content = loaded.data or b""
        self.media_type = (
            media_type
            or loaded.media_type
            or (mimetypes.guess_type(filename)[0] if filename else None)
            or _sniff(content)
            or "application/octet-stream"
        )
        ext = mimetypes.guess_extension(self.media_type) or ""
        self.filename = filename or loaded.filename or f"file{ext}"

    # ── identity ──────────────────────────────────────────────────────────────
    @property
    def data(self) -> bytes | str | None:
        """The content: bytes in hand, or an http(s) URL string."""
        return self._data

    @data.setter
    def data(self, value: bytes | str | None) -> None:
        # fingerprint and size are cached; new content must not keep the old figures.
        self._data = value
        self.__dict__.pop("fingerprint", None)
        self.__dict__.pop("size", None)

    @property
    def is_url(self) -> bool:
        """True when the file is a remote URL."""
        return isinstance(self.data, str)

    @property
    def is_remote(self) -> bool:
        """True when the file is referenced by a provider file id."""
        return self.file_id is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, File):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def _key(self) -> tuple[Any, ...]:
        return (self.data, self.media_type, self.filename, self.file_id, self.provider)

    def __repr__(self) -> str:
        if self.data is None:
            source = f"file_id={self.file_id!r}, provider={self.provider!r}"
        elif isinstance(self.data, str):
            source = self.data
        else:
            source = f"<{len(self.data)} bytes>"
        return f"File({source}, media_type={self.media_type!r}, filename={self.filename!r})"

    @cached_property
    def fingerprint(self) -> str:
        """sha256 hex of the bytes, or of the URL / provider file id."""
        if isinstance(self.data, bytes):
            payload = self.data
        elif isinstance(self.data, str):
            payload = self.data.encode()
        else:
            payload = f"{self.provider}:{self.file_id}".encode()
        return hashlib.sha256(payload).hexdigest()

    @cached_property
    def size(self) -> int:
        """Size in bytes; unknown (error) for URLs and provider file ids."""
        return len(self._bytes("size"))

    def _bytes(self, why: str) -> bytes:
        if isinstance(self.data, bytes):
            return self.data
        where = f"URL {self.data!r}" if self.data else f"provider file id {self.file_id!r}"
        raise PromptError(
            f"File {self.filename!r} is a {where}; its {why} needs the bytes, which "
            "deluge_ray does not download. Pass the bytes or a local path instead."
        )

    def base64(self) -> str:
        """The file bytes as base64 text."""
        return base64.b64encode(self._bytes("base64 encoding")).decode("ascii")

    def data_url(self) -> str:
        """The file as a ``data:`` URL."""
        return data_url(self._bytes("data URL"), self.media_type)

    def _file_id_for(self, target: str) -> str | None:
        """The file id if this file lives at ``target``; error if it lives elsewhere.

        A file id wins over bytes held beside it: the provider already has the file.
        """
        if self.file_id is None:
            return None
        if self.provider is not None and self.provider != target:
            raise PromptError(
                f"File {self.file_id!r} was uploaded to {self.provider}; it cannot be sent to "
                f"{target}. Pass the file's bytes or upload it to {target}."
            )
        return self.file_id

    # ── remote copies ─────────────────────────────────────────────────────────
    async def as_remote(self, provider: str = "openai") -> File:
        """Upload to ``provider`` (``"openai"``, ``"anthropic"``, ``"gemini"``).

        Returns a new ``File`` with ``file_id`` and ``provider`` set (this one is left as
        it is). Sending the remote file to another provider raises :class:`PromptError`.

            >>> remote = await File("report.pdf").as_remote("openai")   # doctest: +SKIP
            >>> remote.file_id
            'file-...'
        """
        from ..transport._uploads import upload_file

        return await upload_file(self, provider)

    async def delete(self) -> bool:
        """Delete this uploaded file from its provider; ``True`` once it is gone."""
        from ..transport._uploads import delete_remote_file

        return await delete_remote_file(self)

    # ── provider serialisers ──────────────────────────────────────────────────
    def oa_chat(self) -> dict[str, Any]:
        """OpenAI chat-completions content part (``file_data`` or ``file_id``)."""
        file_id = self._file_id_for("openai")
        if file_id is not None:
            return {"type": "file", "file": {"file_id": file_id}}
        if isinstance(self.data, str):
            raise PromptError(
                f"OpenAI chat completions cannot take file URL {self.data!r}; pass the bytes, "
                "a local path, or use the responses API (use_responses_api=True)."
            )
        return {"type": "file", "file": {"filename": self.filename, "file_data": self.data_url()}}

    def oa_resp(self) -> dict[str, Any]:
        """OpenAI responses content part (``input_file``)."""
        file_id = self._file_id_for("openai")
        if file_id is not None:
            return {"type": "input_file", "file_id": file_id}
        if isinstance(self.data, str):
            return {"type": "input_file", "file_url": self.data}
        return {"type": "input_file", "filename": self.filename, "file_data": self.data_url()}

    def anthropic(self) -> dict[str, Any]:
        """Anthropic ``document`` block."""
        file_id = self._file_id_for("anthropic")
        if file_id is not None:
            source: dict[str, Any] = {"type": "file", "file_id": file_id}
        elif isinstance(self.data, str):
            source = {"type": "url", "url": self.data}
        elif self.media_type == "text/plain":
            # Anthropic takes plain text documents as text, not base64.
            source = {
                "type": "text",
                "media_type": "text/plain",
                "data": self.data.decode("utf-8", "replace"),
            }
        else:
            source = {"type": "base64", "media_type": self.media_type, "data": self.base64()}
        if file_id is not None:
            return {"type": "document", "source": source}
        # The title names the document for the model, and lets the filename round-trip.
        return {"type": "document", "source": source, "title": self.filename}

    def gemini(self) -> dict[str, Any]:
        """Gemini ``inline_data`` or ``file_data`` part."""
        file_id = self._file_id_for("gemini")
        if file_id is not None:
            return {"file_data": {"mime_type": self.media_type, "file_uri": file_id}}
        if isinstance(self.data, str):
            return {"file_data": {"mime_type": self.media_type, "file_uri": self.data}}
        return {"inline_data": {"mime_type": self.media_type, "data": self.base64()}}
