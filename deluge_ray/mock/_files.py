"""Uploaded files, in memory: OpenAI and Anthropic ``/v1/files``; Gemini's upload endpoint
and ``GET``/``DELETE /v1beta/files/{name}``.

One store backs all three; each provider sees its own object shape. ``POST /v1/files`` is
shared by OpenAI and Anthropic, told apart by the ``anthropic-version`` / ``x-api-key``
headers the Anthropic SDK always sends.
"""

from __future__ import annotations

import mimetypes
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ._validate import MockHTTPError

__all__ = ["FileStore", "StoredFile", "is_anthropic_request"]

_OPENAI_PURPOSES = {
    "assistants",
    "batch",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
    "batch_output",
}


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    data: bytes
    mime_type: str
    created_at: int

    def openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }

    def anthropic(self) -> dict[str, Any]:
        created = datetime.fromtimestamp(self.created_at, tz=timezone.utc)
        return {
            "id": self.id,
            "type": "file",
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": len(self.data),
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "downloadable": self.purpose == "batch_output",
        }

    def gemini(self, base_url: str) -> dict[str, Any]:
        stamp = datetime.fromtimestamp(self.created_at, tz=timezone.utc).isoformat()
        return {
            "name": f"files/{self.id}",
            "displayName": self.filename,
            "mimeType": self.mime_type,
            "sizeBytes": str(len(self.data)),
            "createTime": stamp,
            "updateTime": stamp,
            "uri": f"{base_url}/v1beta/files/{self.id}",
            "state": "ACTIVE",
            "source": "UPLOADED",
        }


def is_anthropic_request(request: web.Request) -> bool:
    return "anthropic-version" in request.headers or "x-api-key" in request.headers


class FileStore:
    """Files by id; ``prefix`` style follows the provider (``file-…``, ``file_…``)."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}

    def add(
        self, data: bytes, filename: str, purpose: str, *, anthropic: bool = False
    ) -> StoredFile:
        prefix = "file_011" if anthropic else "file-"
        mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = StoredFile(
            f"{prefix}{uuid.uuid4().hex[:22]}", filename, purpose, data, mime, int(time.time())
        )
        self._files[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile:
        stored = self._files.get(file_id)
        if stored is None:
            raise MockHTTPError(
                404, f"No such File object: {file_id}", param="id", code="not_found"
            )
        return stored

    def delete(self, file_id: str) -> StoredFile:
        stored = self.get(file_id)
        del self._files[file_id]
        return stored

    # -- handlers ---------------------------------------------------------------------
    async def _read_upload(self, request: web.Request) -> tuple[bytes, str, str | None]:
        if not request.content_type.startswith("multipart/"):
            raise MockHTTPError(
                400,
                "Upload files as multipart/form-data with a 'file' field (and 'purpose').",
                param="file",
            )
        data, filename, purpose = None, "upload", None
        reader = await request.multipart()
        async for part in reader:
            if part.name == "file":
                filename = part.filename or filename
                data = await part.read()
            elif part.name == "purpose":
                purpose = (await part.text()).strip()
        if data is None:
            raise MockHTTPError(400, "Missing required parameter: 'file'.", param="file")
        return bytes(data), filename, purpose

    async def upload(self, request: web.Request) -> dict[str, Any]:
        """``POST /v1/files`` for OpenAI (needs ``purpose``) or Anthropic."""
        data, filename, purpose = await self._read_upload(request)
        if is_anthropic_request(request):
            return self.add(data, filename, "user_data", anthropic=True).anthropic()
        if purpose not in _OPENAI_PURPOSES:
            raise MockHTTPError(
                400,
                f"Invalid value for 'purpose': {purpose!r}. Supported: {sorted(_OPENAI_PURPOSES)}.",
                param="purpose",
                code="invalid_value",
            )
        return self.add(data, filename, purpose).openai()

    async def retrieve(self, request: web.Request) -> dict[str, Any]:
        stored = self.get(request.match_info["file_id"])
        return stored.anthropic() if is_anthropic_request(request) else stored.openai()

    async def content(self, request: web.Request) -> web.Response:
        stored = self.get(request.match_info["file_id"])
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def remove(self, request: web.Request) -> dict[str, Any]:
        stored = self.delete(request.match_info["file_id"])
        if is_anthropic_request(request):
            return {"id": stored.id, "type": "file_deleted"}
        return {"id": stored.id, "object": "file", "deleted": True}

    async def gemini_upload(self, request: web.Request) -> dict[str, Any]:
        """``POST /upload/v1beta/files``: multipart (metadata + file) or the raw bytes."""
        if request.content_type.startswith("multipart/"):
            data, filename, name = b"", "upload", None
            reader = await request.multipart()
            async for part in reader:
                if part.headers.get("Content-Type", "").startswith("application/json"):
                    meta = await part.json() or {}
                    name = (meta.get("file") or {}).get("displayName")
                else:
                    filename = part.filename or filename
                    data = bytes(await part.read())
            filename = name or filename
        else:
            data = await request.read()
            filename = request.headers.get("X-Goog-Upload-File-Name", "upload")
        if not data:
            raise MockHTTPError(400, "The upload carried no file bytes.", param="file")
        stored = self.add(data, filename, "user_data")
        stored.mime_type = request.headers.get(
            "X-Goog-Upload-Header-Content-Type", stored.mime_type
        )
        base = f"{request.scheme}://{request.host}"
        return {"file": stored.gemini(base)}

    def _gemini_file(self, request: web.Request) -> StoredFile:
        file_id = request.match_info["file_id"]
        if file_id not in self._files:
            raise MockHTTPError(
                404, f"File files/{file_id} does not exist or you do not have access to it."
            )
        return self._files[file_id]

    async def gemini_get(self, request: web.Request) -> dict[str, Any]:
        """``GET /v1beta/files/{name}``: the file resource (Gemini ``files.get``)."""
        return self._gemini_file(request).gemini(f"{request.scheme}://{request.host}")

    async def gemini_delete(self, request: web.Request) -> dict[str, Any]:
        """``DELETE /v1beta/files/{name}``: Gemini answers an empty object."""
        self.delete(self._gemini_file(request).id)
        return {}
