"""Provider batch jobs: half-price, asynchronous processing of large prompt sets.

:func:`submit_batch_job` turns prompts into the provider's batch format and submits them in
jobs of ``batch_size``; :func:`wait_for_batch_job` polls until every job has ended (with a
progress display) and returns one :class:`APIResponse` per prompt, in prompt order.

* OpenAI: the requests go into a JSONL file (``POST /files``, purpose ``batch``), then
  ``POST /batches``; results come from the output (and error) file's ``/content``.
* Anthropic: ``POST /messages/batches`` with the requests inline; results from
  ``/messages/batches/{id}/results`` (JSONL). ``cache="system_and_tools"`` (or any cache
  pattern) passes through into each request.

Every URL derives from the model's registry base URL, so a mock or proxy can stand in.
Each request's ``custom_id`` is its prompt's index, which is how results find their prompt.

    >>> import asyncio                                               # doctest: +SKIP
    >>> ids = asyncio.run(submit_batch_job("gpt-4.1-mini", ["Hi", "Bye"]))
    >>> responses = asyncio.run(wait_for_batch_job(ids, "openai"))
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import aiohttp

from ..api_requests import build_request, parse_response
from ..api_requests._types import ErrorKind, ParsedResponse
from ..api_requests.response import APIResponse
from ..config import SamplingParams
from ..errors import ConfigurationError, ProviderError
from ..models import APIModel, get_model, registry
from ..prompt import prompts_to_conversations
from ._http import (
    HTTPResult,
    model_headers,
    provider_model,
    raise_for_error,
    send_with_retries,
)

__all__ = ["BATCH_DISCOUNT", "BATCH_PROVIDERS", "submit_batch_job", "wait_for_batch_job"]

#: Providers with a batch API this module speaks.
BATCH_PROVIDERS = ("openai", "anthropic")
#: Batch requests cost this fraction of the live price on both providers.
BATCH_DISCOUNT = 0.5
_OPENAI_ENDPOINT = "/v1/chat/completions"
_OPENAI_DONE = {"completed", "failed", "expired", "cancelled"}
# Metadata on an OpenAI batch recording which prompt indexes it holds, so requests the
# provider never ran (an expired or cancelled job) still get an error entry.
_FIRST, _COUNT = "deluge_ray_first", "deluge_ray_count"


def _single_model(model: str | APIModel | Sequence[str]) -> APIModel:
    if isinstance(model, APIModel):
        return model
    if isinstance(model, str):
        return get_model(model)
    names = list(model)
    if len(names) != 1:
        raise ConfigurationError(
            f"A batch job runs on exactly one model, got {len(names)}: {names}. "
            "Submit one batch job per model."
        )
    return _single_model(names[0])


def _batch_provider(model: APIModel) -> str:
    if model.provider not in BATCH_PROVIDERS or model.is_embedding:
        raise ConfigurationError(
            f"Model {model.id!r} (provider {model.provider!r}) has no batch API here; batch "
            f"jobs support {', '.join(BATCH_PROVIDERS)} chat models. Use "
            "LLMClient.process_prompts_async instead."
        )
    return model.provider


def _chunks(count: int, batch_size: int) -> list[range]:
    return [range(i, min(i + batch_size, count)) for i in range(0, count, batch_size)]


async def submit_batch_job(
    model: str | APIModel | Sequence[str],
    prompts: Sequence[Any],
    *,
    sampling_params: SamplingParams | None = None,
    tools: list[Any] | None = None,
    cache: str | None = None,
    output_schema: Any = None,
    batch_size: int = 50_000,
    extra_headers: Mapping[str, str] | None = None,
    extra_body: Mapping[str, Any] | None = None,
    session: aiohttp.ClientSession | None = None,
) -> list[str]:
    """Submit ``prompts`` to ``model``'s provider batch API; return the batch ids.

    ``prompts`` are anything :func:`~deluge_ray.prompt.prompts_to_conversations` accepts.
    ``cache`` is an Anthropic cache pattern (e.g. ``"system_and_tools"``); OpenAI caches
    prompt prefixes by itself and ignores it. Raises :class:`ConfigurationError` for zero
    prompts, several models, a bad ``batch_size`` or a provider without batches.
    """
    chosen = _single_model(model)
    provider = _batch_provider(chosen)
    if not prompts:
        raise ConfigurationError("submit_batch_job needs at least one prompt; got none.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigurationError(f"batch_size must be a positive integer, got {batch_size!r}.")
    conversations = prompts_to_conversations(list(prompts))
    sp = sampling_params or SamplingParams()
    key = chosen.resolve_api_key()
    base = chosen.resolved_base_url()
    # Build every request up front: a bad prompt fails before anything is uploaded.
    specs = [
        build_request(
            chosen,
            conv,
            sp,
            tools=tools,
            output_schema=output_schema,
            cache_pattern=cache,
            extra_headers=extra_headers,
            extra_body=extra_body,
            api_key=key,
            base_url=base,
        )
        for conv in conversations
    ]
    own = session is None
    http = session or aiohttp.ClientSession()
    try:
        submit = _submit_openai if provider == "openai" else _submit_anthropic
        return [
            await submit(http, chosen, base, specs, part)
            for part in _chunks(len(specs), batch_size)
        ]
    finally:
        if own:
            await http.close()


async def _submit_openai(
    http: aiohttp.ClientSession, model: APIModel, base: str, specs: list[Any], part: range
) -> str:
    lines = [
        json.dumps(
            {"custom_id": str(i), "method": "POST", "url": _OPENAI_ENDPOINT, "body": specs[i].json}
        )
        for i in part
    ]
    payload = ("\n".join(lines) + "\n").encode()

    def form() -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("purpose", "batch")
        data.add_field(
            "file", payload, filename="deluge_ray_batch.jsonl", content_type="application/jsonl"
        )
        return data

    upload = await send_with_retries(
        http, "POST", f"{base}/files", headers=model_headers(model, json_body=False), data=form
    )
    raise_for_error(upload, f"Uploading the batch input file to {base}/files")
    file_id = json.loads(upload.body)["id"]
    body = {
        "input_file_id": file_id,
        "endpoint": _OPENAI_ENDPOINT,
        "completion_window": "24h",
        "metadata": {_FIRST: str(part.start), _COUNT: str(len(part))},
    }
    created = await send_with_retries(
        http, "POST", f"{base}/batches", headers=model_headers(model), json=body
    )
    raise_for_error(created, f"Creating the batch at {base}/batches")
    return json.loads(created.body)["id"]


async def _submit_anthropic(
    http: aiohttp.ClientSession, model: APIModel, base: str, specs: list[Any], part: range
) -> str:
    requests = [{"custom_id": str(i), "params": specs[i].json} for i in part]
    # The per-request headers carry the key and any beta flags the bodies need.
    headers = specs[part.start].headers
    created = await send_with_retries(
        http, "POST", f"{base}/messages/batches", headers=headers, json={"requests": requests}
    )
    raise_for_error(created, f"Creating the batch at {base}/messages/batches")
    return json.loads(created.body)["id"]


# ------------------------------------------------------------------------- waiting
def _model_for(provider: str, wire_name: str | None) -> APIModel:
    """The registered model answering as ``wire_name`` (for prices), or a price-less one."""
    for model in registry.values():
        if model.provider == provider and wire_name in (model.name, model.id):
            return model
    return replace(
        provider_model(provider),
        id=str(wire_name),
        name=str(wire_name),
        input_cost=0.0,
        cached_input_cost=0.0,
        cache_write_cost=0.0,
        output_cost=0.0,
    )


def _status(provider: str, batch: dict[str, Any]) -> tuple[bool, int, int]:
    """``(ended, finished requests, total requests)`` from a batch object."""
    counts = batch.get("request_counts") or {}
    if provider == "openai":
        done = int(counts.get("completed") or 0) + int(counts.get("failed") or 0)
        return batch.get("status") in _OPENAI_DONE, done, int(counts.get("total") or 0)
    finished = sum(int(counts.get(k) or 0) for k in ("succeeded", "errored", "canceled", "expired"))
    total = finished + int(counts.get("processing") or 0)
    return batch.get("processing_status") == "ended", finished, total


async def _poll(
    http: aiohttp.ClientSession,
    model: APIModel,
    provider: str,
    batch_ids: list[str],
    poll_interval: float,
    show_progress: bool,
) -> dict[str, dict[str, Any]]:
    base = model.resolved_base_url()
    path = "batches" if provider == "openai" else "messages/batches"
    headers = model_headers(model)
    ended: dict[str, dict[str, Any]] = {}
    progress = _progress(show_progress, batch_ids)
    try:
        while len(ended) < len(batch_ids):
            for batch_id in batch_ids:
                if batch_id in ended:
                    continue
                got = await send_with_retries(
                    http, "GET", f"{base}/{path}/{batch_id}", headers=headers
                )
                raise_for_error(got, f"Polling batch {batch_id}")
                batch = json.loads(got.body)
                done, finished, total = _status(provider, batch)
                if progress is not None:
                    progress[0].update(
                        progress[1][batch_id], completed=finished, total=total or None
                    )
                if done:
                    ended[batch_id] = batch
            if len(ended) < len(batch_ids):
                await asyncio.sleep(poll_interval)
    finally:
        if progress is not None:
            progress[0].stop()
    return ended


def _progress(show: bool, batch_ids: list[str]) -> tuple[Any, dict[str, Any]] | None:
    if not show:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    tasks = {bid: bar.add_task(f"batch {bid[-10:]}", total=None) for bid in batch_ids}
    bar.start()
    return bar, tasks


def _error_response(index: int, model: APIModel, message: str, status: int | None) -> APIResponse:
    return APIResponse.error(
        id=index,
        model=model,
        prompt={"custom_id": str(index)},
        sampling_params=SamplingParams(),
        message=message,
        status_code=status,
        kind=ErrorKind.GIVE_UP,
    )


def _finish(parsed: ParsedResponse, index: int, model: APIModel, status: int | None) -> APIResponse:
    if parsed.cost is not None:
        parsed.cost *= BATCH_DISCOUNT
    # The prompt is not sent back by the provider; keep the custom id for reference.
    return APIResponse.from_parsed(
        parsed,
        id=index,
        model=model,
        prompt={"custom_id": str(index)},
        sampling_params=SamplingParams(),
        status_code=status,
    )


def _openai_results(text: str, results: dict[int, APIResponse]) -> None:
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        index = int(record["custom_id"])
        response = record.get("response") or {}
        body = response.get("body") or {}
        model = _model_for("openai", body.get("model") if isinstance(body, dict) else None)
        if record.get("error"):
            err = record["error"]
            results[index] = _error_response(index, model, str(err.get("message", err)), None)
            continue
        status = int(response.get("status_code") or 0)
        parsed = parse_response(model, status, {}, json.dumps(body).encode())
        results[index] = _finish(parsed, index, model, status)


def _anthropic_results(text: str, results: dict[int, APIResponse]) -> None:
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        index = int(record["custom_id"])
        result = record.get("result") or {}
        kind = result.get("type")
        if kind == "succeeded":
            message = result.get("message") or {}
            model = _model_for("anthropic", message.get("model"))
            parsed = parse_response(model, 200, {}, json.dumps(message).encode())
            results[index] = _finish(parsed, index, model, 200)
        else:
            model = provider_model("anthropic")
            error = (result.get("error") or {}).get("error") or result.get("error") or {}
            reason = error.get("message") if isinstance(error, dict) else None
            message = f"Batch request {kind}" + (f": {reason}" if reason else "")
            results[index] = _error_response(index, model, message, None)


def _openai_failure(batch: dict[str, Any]) -> str:
    errors = ((batch.get("errors") or {}).get("data")) or []
    reasons = "; ".join(
        f"{e.get('code') or 'error'}: {e.get('message')}"
        + (f" (line {e['line']})" if e.get("line") else "")
        for e in errors
    )
    return f"OpenAI batch {batch.get('id')} {batch.get('status')}: {reasons or 'no reason given'}"


async def _download(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], what: str
) -> str:
    got: HTTPResult = await send_with_retries(http, "GET", url, headers=headers)
    raise_for_error(got, f"Downloading {what}")
    return got.body.decode()


async def wait_for_batch_job(
    batch_ids: Sequence[str] | str,
    provider: str,
    *,
    poll_interval: float = 30.0,
    show_progress: bool = True,
    session: aiohttp.ClientSession | None = None,
) -> list[APIResponse]:
    """Poll ``batch_ids`` until all have ended; return their responses in prompt order.

    Results are ordered by ``custom_id`` (the prompt index given at submission), across
    all the batch ids. A request that failed, expired or was cancelled becomes an error
    ``APIResponse`` naming the provider's reason; an OpenAI job that *failed* as a whole
    (its input was rejected) raises :class:`ProviderError` with the provider's errors.
    Costs carry the 50 % batch discount. The base URL and key come from the registry's
    first model of ``provider``.
    """
    ids = [batch_ids] if isinstance(batch_ids, str) else list(batch_ids)
    if not ids:
        raise ConfigurationError("wait_for_batch_job needs at least one batch id; got none.")
    if provider not in BATCH_PROVIDERS:
        raise ConfigurationError(
            f"provider must be one of {list(BATCH_PROVIDERS)} for batch jobs, got {provider!r}."
        )
    model = provider_model(provider)
    base = model.resolved_base_url()
    own = session is None
    http = session or aiohttp.ClientSession()
    results: dict[int, APIResponse] = {}
    try:
        ended = await _poll(http, model, provider, ids, poll_interval, show_progress)
        headers = model_headers(model)
        for batch_id in ids:
            batch = ended[batch_id]
            if provider == "anthropic":
                text = await _download(
                    http,
                    f"{base}/messages/batches/{batch_id}/results",
                    headers,
                    f"results of {batch_id}",
                )
                _anthropic_results(text, results)
                continue
            if batch.get("status") == "failed":
                raise ProviderError(_openai_failure(batch))
            for field in ("output_file_id", "error_file_id"):
                if batch.get(field):
                    text = await _download(
                        http,
                        f"{base}/files/{batch[field]}/content",
                        headers,
                        f"{field} of {batch_id}",
                    )
                    _openai_results(text, results)
            _fill_missing(batch, model, results)
    finally:
        if own:
            await http.close()
    return [results[i] for i in sorted(results)]


def _fill_missing(batch: dict[str, Any], model: APIModel, results: dict[int, APIResponse]) -> None:
    """Error entries for requests an expired or cancelled OpenAI job never ran."""
    meta = batch.get("metadata") or {}
    if _FIRST not in meta or _COUNT not in meta:
        return
    first, count = int(meta[_FIRST]), int(meta[_COUNT])
    reason = (
        f"OpenAI batch {batch.get('id')} ended as {batch.get('status')!r} before this request ran"
    )
    for index in range(first, first + count):
        if index not in results:
            results[index] = _error_response(index, model, reason, None)
