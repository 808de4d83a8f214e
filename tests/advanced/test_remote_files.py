"""Remote files against the mock: upload to each provider, use, delete, wrong provider."""

from __future__ import annotations

import aiohttp
import openai
import pytest

from deluge_ray.errors import PromptError, ProviderError
from deluge_ray.prompt import Conversation, File, Message

PDF = b"%PDF-1.4 tiny test document"


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
async def test_upload_returns_a_new_remote_file(mock, provider):
    local = File(PDF, filename="report.pdf")
    remote = await local.as_remote(provider)
    assert remote is not local and local.file_id is None  # the original is untouched
    assert remote.is_remote and remote.provider == provider and remote.file_id
    assert remote.filename == "report.pdf" and remote.media_type == "application/pdf"
    if provider == "gemini":
        assert remote.file_id.startswith(mock.url) and "/files/" in remote.file_id


async def test_openai_upload_is_a_real_file_object_and_delete_removes_it(mock):
    remote = await File(PDF, filename="report.pdf").as_remote("openai")
    sdk = openai.AsyncOpenAI(base_url=mock.openai_base_url, api_key="k")
    info = await sdk.files.retrieve(remote.file_id)
    assert isinstance(info, openai.types.FileObject)
    assert (info.bytes, info.filename, info.purpose) == (len(PDF), "report.pdf", "user_data")
    assert await remote.delete() is True
    with pytest.raises(openai.NotFoundError):
        await sdk.files.retrieve(remote.file_id)
    await sdk.close()


async def test_anthropic_upload_sends_the_files_beta_and_can_be_deleted(mock):
    remote = await File(PDF, filename="a.pdf").as_remote("anthropic")
    assert remote.file_id.startswith("file_")
    assert remote.anthropic() == {
        "type": "document",
        "source": {"type": "file", "file_id": remote.file_id},
    }
    assert await remote.delete() is True
    async with aiohttp.ClientSession() as http:
        got = await http.get(
            f"{mock.anthropic_base_url}/files/{remote.file_id}", headers={"x-api-key": "k"}
        )
        assert got.status == 404


async def test_message_with_remote_file_references_the_upload(mock):
    msg = await Message.user("Summarise this").with_remote_file(
        PDF, provider="openai", filename="r.pdf"
    )
    (file,) = [p for p in msg.parts if isinstance(p, File)]
    assert file.provider == "openai"
    (message,) = Conversation([msg]).to_openai()
    assert {"type": "file", "file": {"file_id": file.file_id}} in message["content"]


async def test_a_remote_file_sent_to_another_provider_is_a_clear_error(mock):
    remote = await File(PDF, filename="r.pdf").as_remote("openai")
    conv = Conversation([Message.user("read").with_file(remote)])
    with pytest.raises(PromptError, match="uploaded to openai"):
        conv.to_anthropic()
    with pytest.raises(PromptError, match="already lives at openai"):
        await remote.as_remote("gemini")


async def test_bad_uploads_and_deletes_are_clear_errors(mock):
    with pytest.raises(PromptError, match="not 'cohere'"):
        await File(PDF).as_remote("cohere")
    with pytest.raises(PromptError, match="not an uploaded file"):
        await File(PDF).delete()
    with pytest.raises(PromptError, match="does not download"):
        await File("https://example.com/x.pdf").as_remote("openai")
    gone = File(None, file_id="file-missing", provider="openai")
    with pytest.raises(ProviderError, match="HTTP 404"):
        await gone.delete()
