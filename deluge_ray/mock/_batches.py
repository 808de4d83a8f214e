"""Batch APIs: OpenAI ``/v1/batches`` (JSONL file in, JSONL file out) and Anthropic
``/v1/messages/batches`` (requests inline, JSONL results).

Jobs finish in the background after ``MockConfig.batch_seconds`` so pollers see the real
status progression (``validating``/``in_progress`` → ``completed``; ``in_progress`` →
``ended``). Batch traffic is not rate limited, as with the providers' separate batch quotas.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ._anthropic import parse_anthropic, render_anthropic
from ._behaviour import generate
from ._core import MockCore
from ._embeddings import embeddings
from ._files import FileStore
from ._openai_chat import parse_chat, render_chat
from ._openai_responses import parse_responses, render_responses
from ._validate import MockHTTPError, error_payload, optional, require, require_dict

__all__ = ["BatchStore"]

_OPENAI_ENDPOINTS = ("/v1/chat/completions", "/v1/responses", "/v1/embeddings")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _present(batch: dict[str, Any]) -> dict[str, Any]:
    """OpenAI omits timestamps and file ids that do not exist yet (the schema forbids null)."""
    return {key: value for key, value in batch.items() if value is not None}


class BatchStore:
    """Batch jobs of both providers and the background tasks that complete them."""

    def __init__(self, core: MockCore, files: FileStore) -> None:
        self.core = core
        self.files = files
        self._openai: dict[str, dict[str, Any]] = {}
        self._anthropic: dict[str, dict[str, Any]] = {}
        self._anthropic_results: dict[str, bytes] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _answer(self, family: str, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Run one batch line through the same parsing and replies as live traffic."""
        try:
            model = require(body, "model", str)
            self.core.check_model(model)
            if url == "/v1/embeddings":
                _, payload, tokens = embeddings(body, self.core.config.embedding_dimensions)
                self._count(url, model, tokens, 0)
                return 200, payload
            parse, render = {
                "/v1/chat/completions": (parse_chat, render_chat),
                "/v1/responses": (parse_responses, render_responses),
                "/v1/messages": (parse_anthropic, render_anthropic),
            }[url]
            view = parse(body, model)
            gen = generate(view, self.core.scripts.next_reply(view))
            self._count(url, model, gen.input_tokens, gen.output_tokens)
            return 200, render(view, gen)
        except MockHTTPError as error:
            self.core.stats.request_started(f"batch:{url}", body.get("model"), "batch")
            self.core.stats.request_finished(error.status)
            return error.status, error_payload(family, error)

    def _count(self, url: str, model: str, tokens_in: int, tokens_out: int) -> None:
        stats = self.core.stats
        stats.request_started(f"batch:{url}", model, "batch")
        stats.request_finished(200, input_tokens=tokens_in, output_tokens=tokens_out)

    # -- OpenAI ------------------------------------------------------------------------
    async def openai_create(self, request: web.Request) -> dict[str, Any]:
        body = await self.core.read_json(request)
        file_id = require(body, "input_file_id", str)
        endpoint = require(body, "endpoint", str)
        if endpoint not in _OPENAI_ENDPOINTS:
            raise MockHTTPError(
                400,
                f"Invalid value for 'endpoint': {endpoint!r}. Supported: {', '.join(_OPENAI_ENDPOINTS)}.",
                param="endpoint",
                code="invalid_value",
            )
        window = require(body, "completion_window", str)
        if window != "24h":
            raise MockHTTPError(
                400,
                "Invalid value for 'completion_window': only '24h' is supported.",
                param="completion_window",
            )
        source = self.files.get(file_id)
        lines = [line for line in source.data.decode(errors="replace").splitlines() if line.strip()]
        now = int(time.time())
        batch = {
            "id": f"batch_{uuid.uuid4().hex[:24]}",
            "object": "batch",
            "endpoint": endpoint,
            "errors": None,
            "input_file_id": file_id,
            "completion_window": window,
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + 86400,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": optional(body, "metadata", dict),
        }
        self._openai[batch["id"]] = batch
        self._spawn(self._run_openai(batch, lines))
        return _present(batch)

    async def _run_openai(self, batch: dict[str, Any], lines: list[str]) -> None:
        await asyncio.sleep(self.core.config.batch_seconds / 2)
        batch.update(status="in_progress", in_progress_at=int(time.time()))
        out, errors = [], []
        for number, line in enumerate(lines):
            record: dict[str, Any] = {}
            try:
                record = require_dict(json.loads(line), f"line {number + 1}")
                url = require(record, "url", str)
                if url != batch["endpoint"]:
                    raise MockHTTPError(
                        400, f"line {number + 1}: url {url!r} differs from the batch endpoint."
                    )
                status, payload = self._answer("openai", url, require(record, "body", dict))
            except (json.JSONDecodeError, MockHTTPError) as exc:
                message = exc.message if isinstance(exc, MockHTTPError) else f"invalid JSON: {exc}"
                status, payload = 400, error_payload("openai", MockHTTPError(400, message))
            result = {
                "id": f"batch_req_{uuid.uuid4().hex[:24]}",
                "custom_id": record.get("custom_id"),
                "response": {
                    "status_code": status,
                    "request_id": uuid.uuid4().hex,
                    "body": payload,
                },
                "error": None,
            }
            (out if status == 200 else errors).append(json.dumps(result))
        await asyncio.sleep(self.core.config.batch_seconds / 2)
        now = int(time.time())
        if batch["status"] == "cancelling":
            batch.update(status="cancelled", cancelled_at=now)
            return
        if out:
            stored = self.files.add(
                ("\n".join(out) + "\n").encode(), "batch_output.jsonl", "batch_output"
            )
            batch["output_file_id"] = stored.id
        if errors:
            stored = self.files.add(
                ("\n".join(errors) + "\n").encode(), "batch_errors.jsonl", "batch_output"
            )
            batch["error_file_id"] = stored.id
        batch["request_counts"] = {
            "total": len(lines),
            "completed": len(out),
            "failed": len(errors),
        }
        batch.update(status="completed", finalizing_at=now, completed_at=now)

    def _openai_batch(self, request: web.Request) -> dict[str, Any]:
        batch = self._openai.get(request.match_info["batch_id"])
        if batch is None:
            raise MockHTTPError(
                404, f"No batch found with id '{request.match_info['batch_id']}'.", code="not_found"
            )
        return batch

    async def openai_get(self, request: web.Request) -> dict[str, Any]:
        return _present(self._openai_batch(request))

    async def openai_cancel(self, request: web.Request) -> dict[str, Any]:
        batch = self._openai_batch(request)
        if batch["status"] in ("validating", "in_progress"):
            batch.update(status="cancelling", cancelling_at=int(time.time()))
        return _present(batch)

    # -- Anthropic ---------------------------------------------------------------------
    async def anthropic_create(self, request: web.Request) -> dict[str, Any]:
        body = await self.core.read_json(request)
        requests = require(body, "requests", list)
        if not requests:
            raise MockHTTPError(400, "requests: List should have at least 1 item", param="requests")
        items = []
        for i, item in enumerate(requests):
            item = require_dict(item, f"requests.{i}")
            items.append(
                (
                    require(item, "custom_id", str, f"requests.{i}."),
                    require(item, "params", dict, f"requests.{i}."),
                )
            )
        now = time.time()
        batch = {
            "id": f"msgbatch_{uuid.uuid4().hex[:24]}",
            "type": "message_batch",
            "processing_status": "in_progress",
            "request_counts": {
                "processing": len(items),
                "succeeded": 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            },
            "ended_at": None,
            "created_at": _iso(now),
            "expires_at": _iso(now + 86400),
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": None,
        }
        self._anthropic[batch["id"]] = batch
        base = f"{request.scheme}://{request.host}"
        self._spawn(self._run_anthropic(batch, items, base))
        return dict(batch)

    async def _run_anthropic(
        self, batch: dict[str, Any], items: list[tuple[str, dict[str, Any]]], base: str
    ) -> None:
        await asyncio.sleep(self.core.config.batch_seconds)
        lines, succeeded = [], 0
        for custom_id, params in items:
            status, payload = self._answer("anthropic", "/v1/messages", params)
            if status == 200:
                succeeded += 1
                result: dict[str, Any] = {"type": "succeeded", "message": payload}
            else:
                result = {"type": "errored", "error": payload}
            lines.append(json.dumps({"custom_id": custom_id, "result": result}))
        self._anthropic_results[batch["id"]] = ("\n".join(lines) + "\n").encode()
        batch["request_counts"].update(
            processing=0, succeeded=succeeded, errored=len(items) - succeeded
        )
        batch.update(
            processing_status="ended",
            ended_at=_iso(time.time()),
            results_url=f"{base}/v1/messages/batches/{batch['id']}/results",
        )

    def _anthropic_batch(self, request: web.Request) -> dict[str, Any]:
        batch = self._anthropic.get(request.match_info["batch_id"])
        if batch is None:
            raise MockHTTPError(404, f"Batch {request.match_info['batch_id']!r} not found.")
        return batch

    async def anthropic_get(self, request: web.Request) -> dict[str, Any]:
        return dict(self._anthropic_batch(request))

    async def anthropic_results(self, request: web.Request) -> web.Response:
        batch = self._anthropic_batch(request)
        results = self._anthropic_results.get(batch["id"])
        if results is None:
            raise MockHTTPError(
                400, f"Batch {batch['id']} is still processing; poll until it has ended."
            )
        return web.Response(body=results, content_type="application/x-jsonl")
