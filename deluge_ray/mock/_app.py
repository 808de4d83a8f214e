"""The aiohttp application: every route of the mock provider, mapped to its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ._core import GenerationAPI, MockCore, error_response, json_response
from ._embeddings import embeddings, rerank
from ._openai_chat import parse_chat, render_chat, stream_chat
from ._openai_responses import ResponseStore, parse_responses
from ._validate import MockHTTPError

__all__ = ["build_app"]

_MAX_BODY = 512 * 1024 * 1024  # batch input files can be large


def _guarded(
    core: MockCore, family: str, handler: Callable[[web.Request], Awaitable[Any]]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a control-plane handler (files, batches, polling): auth, errors, JSON out."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            core.authenticate(request, family)
            result = await handler(request)
        except MockHTTPError as error:
            return error_response(family, error)
        return result if isinstance(result, web.StreamResponse) else json_response(result)

    return wrapped


def build_app(core: MockCore) -> web.Application:
    """Create the application serving every endpoint on top of ``core``."""
    app = web.Application(client_max_size=_MAX_BODY)
    responses = ResponseStore(core.config.batch_seconds)
    core.responses = responses  # type: ignore[attr-defined]
    chat_api = GenerationAPI("openai", "chat.completions", parse_chat, render_chat, stream_chat)
    responses_api = GenerationAPI("openai", "responses", parse_responses, responses.render)

    async def chat(request: web.Request) -> web.StreamResponse:
        return await core.handle_generation(request, chat_api)

    async def create_response(request: web.Request) -> web.StreamResponse:
        return await core.handle_generation(request, responses_api)

    async def embed(request: web.Request) -> web.StreamResponse:
        dims = core.config.embedding_dimensions
        return await core.handle_simple(
            request, "openai", "embeddings", lambda body: embeddings(body, dims)
        )

    async def rerank_handler(request: web.Request) -> web.StreamResponse:
        return await core.handle_simple(request, "cohere", "rerank", rerank)

    async def stats(_: web.Request) -> web.StreamResponse:
        return json_response(core.stats.snapshot())

    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/responses", create_response)
    app.router.add_get(
        "/v1/responses/{response_id}", _guarded(core, "openai", responses.handle_get)
    )
    app.router.add_post(
        "/v1/responses/{response_id}/cancel", _guarded(core, "openai", responses.handle_cancel)
    )
    app.router.add_post("/v1/embeddings", embed)
    app.router.add_post("/v1/rerank", rerank_handler)
    app.router.add_get("/_mock/stats", stats)
    return app
