"""Batch APIs: OpenAI ``/v1/batches`` (JSONL file in, JSONL file out) and Anthropic
``/v1/messages/batches`` (requests inline, JSONL results).

Jobs finish in the background after ``MockConfig.batch_seconds`` so pollers see the real
status progression (``validating``/``in_progress`` → ``completed``; ``in_progress`` →
``ended``). ``MockConfig.batch_outcome`` makes jobs fail or expire instead; an OpenAI job
cancelled while validating never runs. Batch traffic is not rate limited, as with the providers' separate batch quotas.
"""

from __future__ import annotations

import asyncio
import contextlib
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


def _openai_failure(lines: list[str]) -> dict[str, Any]:
    """The ``errors`` list of a job that failed validation (``batch_outcome="failed"``)."""
    model = "the model"
    with contextlib.suppress(Exception):
        model = json.loads(lines[0])["body"]["model"]
    message = (
        f"Enqueued token limit reached for {model} in organization org-mock. Please try "
        "again once some in_progress batches have been completed."
    )
    error = {"code": "token_limit_exceeded", "message": message, "param": None, "line": None}
    return {"object": "list", "data": [error]}


def _openai_expired(line: str) -> str:
    """The error-file record of a request an expired job never ran."""
    custom_id = None
    with contextlib.suppress(Exception):
        custom_id = json.loads(line).get("custom_id")
    return json.dumps(
        {
            "id": f"batch_req_{uuid.uuid4().hex[:24]}",
            "custom_id": custom_id,
            "response": None,
            "error": {
                "code": "batch_expired",
                "message": "This request could not be executed before the completion "
                "window expired.",
            },
        }
    )


#: The error of every request of a failed Anthropic batch (``batch_outcome="failed"``).
_ANTHROPIC_BATCH_ERROR = {
    "type": "error",
    "error": {"type": "api_error", "message": "Internal server error while running the batch."},
}


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
        # Set when a batch is cancelled, so its runner stops waiting at once.
        self._cancelled: dict[str, asyncio.Event] = {}

    async def close(self, _app: Any = None) -> None:
        """Cancel the runners of unfinished jobs (the server is shutting down)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

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
        self._spawn(self._run_openai(batch, lines, self.core.config.batch_outcome))
        return _present(batch)

    async def _phase(self, batch_id: str) -> None:
        """Wait half of ``batch_seconds``, or less if the batch is cancelled meanwhile."""
        wake = self._cancelled.setdefault(batch_id, asyncio.Event())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(wake.wait(), self.core.config.batch_seconds / 2)

    def _openai_line(self, batch: dict[str, Any], number: int, line: str) -> tuple[bool, str]:
        """Run one input line; ``(succeeded, output record as JSON)``."""
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
            "response": {"status_code": status, "request_id": uuid.uuid4().hex, "body": payload},
            "error": None,
        }
        return status == 200, json.dumps(result)

    async def _run_openai(self, batch: dict[str, Any], lines: list[str], outcome: str) -> None:
        await self._phase(batch["id"])
        now = int(time.time())
        # A job cancelled while validating never starts.
        if batch["status"] == "cancelling":
            batch.update(status="cancelled", cancelled_at=now)
            return
        if outcome == "failed":
            batch.update(status="failed", failed_at=now, errors=_openai_failure(lines))
            return
        batch.update(status="in_progress", in_progress_at=now)
        run = lines if outcome == "completed" else lines[: len(lines) // 2]
        out, errors = [], []
        for number, line in enumerate(run):
            ok, record = self._openai_line(batch, number, line)
            (out if ok else errors).append(record)
        if outcome == "expired":
            errors.extend(_openai_expired(line) for line in lines[len(run) :])
        await self._phase(batch["id"])
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
        if outcome == "expired":
            batch.update(status="expired", expired_at=now)
        else:
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
            self._cancelled.setdefault(batch["id"], asyncio.Event()).set()
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
        self._spawn(self._run_anthropic(batch, items, base, self.core.config.batch_outcome))
        return dict(batch)

    async def _run_anthropic(
        self,
        batch: dict[str, Any],
        items: list[tuple[str, dict[str, Any]]],
        base: str,
        outcome: str,
    ) -> None:
        await asyncio.sleep(self.core.config.batch_seconds)
        ran = len(items) if outcome == "completed" else len(items) // 2
        if outcome == "failed":
            ran = 0
        lines, counts = [], {"succeeded": 0, "errored": 0, "expired": 0}
        for number, (custom_id, params) in enumerate(items):
            result: dict[str, Any]
            if number >= ran and outcome == "expired":
                result = {"type": "expired"}
            elif number >= ran:
                result = {"type": "errored", "error": _ANTHROPIC_BATCH_ERROR}
            else:
                status, payload = self._answer("anthropic", "/v1/messages", params)
                if status == 200:
                    result = {"type": "succeeded", "message": payload}
                else:
                    result = {"type": "errored", "error": payload}
            counts[result["type"]] += 1
            lines.append(json.dumps({"custom_id": custom_id, "result": result}))
        self._anthropic_results[batch["id"]] = ("\n".join(lines) + "\n").encode()
        batch["request_counts"].update(processing=0, **counts)
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
