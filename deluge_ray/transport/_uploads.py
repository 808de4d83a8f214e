"""Upload a :class:`~deluge_ray.prompt.File` to a provider, and delete it again.

* OpenAI: ``POST {base}/files`` (multipart, purpose ``user_data``); ``DELETE {base}/files/{id}``.
* Anthropic: ``POST {base}/files`` with the Files API beta header; ``DELETE {base}/files/{id}``.
* Gemini: ``POST {origin}/upload{path}/files`` (the upload host mirrors the API base, e.g.
  ``…/upload/v1beta/files``); the file's ``uri`` is its id; ``DELETE {base}/files/{name}``.

The base URL and key come from the registry's first model of the provider, so
``*_BASE_URL`` overrides (the mock, a proxy) apply. Imports of the HTTP layer are local:
the prompt package sits below ``api_requests`` and must not import it at load time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import PromptError

if TYPE_CHECKING:
    import aiohttp

    from ..prompt._file import File

__all__ = ["ANTHROPIC_FILES_BETA", "delete_remote_file", "upload_file"]

#: Anthropic's Files API is a beta, switched on per request with this flag.
ANTHROPIC_FILES_BETA = "files-api-2025-04-14"
_PROVIDERS = ("openai", "anthropic", "gemini")


def _endpoint(provider: str) -> tuple[str, dict[str, str]]:
    """``(base_url, auth headers without content-type)`` for ``provider``."""
    from ._http import model_headers, provider_model

    if provider not in _PROVIDERS:
        raise PromptError(f"Files can be uploaded to {list(_PROVIDERS)}, not {provider!r}.")
    model = provider_model(provider)
    headers = model_headers(model, json_body=False)
    if provider == "anthropic":
        headers["anthropic-beta"] = ANTHROPIC_FILES_BETA
    return model.resolved_base_url(), headers


def _gemini_upload_url(base: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/upload{parts.path}/files", "", ""))


async def _send(method: str, url: str, headers: dict[str, str], data: Any, what: str) -> Any:
    import aiohttp  # here: every actor imports this module, few ever upload

    from ._http import raise_for_error, send_with_retries

    async with aiohttp.ClientSession() as http:
        result = await send_with_retries(http, method, url, headers=headers, data=data)
    raise_for_error(result, what)
    return json.loads(result.body) if result.body else {}


async def upload_file(file: File, provider: str) -> File:
    """Upload ``file``'s bytes to ``provider``; return a new File referencing the upload."""
    from ..prompt._file import File

    if file.is_remote:
        if file.provider == provider:
            return file
        raise PromptError(
            f"File {file.file_id!r} already lives at {file.provider}; upload its bytes to "
            f"{provider} instead."
        )
    content = file._bytes("upload")
    base, headers = _endpoint(provider)

    def form() -> aiohttp.FormData:
        import aiohttp

        data = aiohttp.FormData()
        if provider == "openai":
            data.add_field("purpose", "user_data")
        if provider == "gemini":
            meta = json.dumps({"file": {"displayName": file.filename}})
            data.add_field("metadata", meta, content_type="application/json")
        data.add_field("file", content, filename=file.filename, content_type=file.media_type)
        return data

    if provider == "gemini":
        url = _gemini_upload_url(base)
        headers = {**headers, "X-Goog-Upload-Protocol": "multipart"}
    else:
        url = f"{base}/files"
    answer = await _send("POST", url, headers, form, f"Uploading {file.filename!r} to {url}")
    file_id = answer["file"]["uri"] if provider == "gemini" else answer["id"]
    return File(
        None, media_type=file.media_type, filename=file.filename, file_id=file_id, provider=provider
    )


async def delete_remote_file(file: File) -> bool:
    """Delete an uploaded file from its provider; ``True`` when the provider confirms."""
    if not file.is_remote or file.provider is None:
        raise PromptError(
            f"File {file.filename!r} is not an uploaded file (no file_id and provider); "
            "only files returned by as_remote() can be deleted."
        )
    base, headers = _endpoint(file.provider)
    file_id = file.file_id or ""
    if file.provider == "gemini":
        # The id is the file's uri (…/files/abc); the API deletes by name ("files/abc").
        name = "files/" + file_id.rstrip("/").rsplit("/", 1)[-1]
        url = f"{base}/{name}"
    else:
        url = f"{base}/files/{file_id}"
    answer = await _send("DELETE", url, headers, None, f"Deleting {file_id} at {url}")
    return bool(answer.get("deleted", True))
