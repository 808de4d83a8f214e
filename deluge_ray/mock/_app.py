"""The aiohttp application: every route of the mock provider, mapped to its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ._anthropic import parse_anthropic, render_anthropic, stream_anthropic
from ._batches import BatchStore
from ._core import GenerationAPI, MockCore, error_response, json_response
from ._embeddings import embeddings, rerank
from ._files import FileStore, is_anthropic_request
from ._gemini import parse_gemini, render_gemini, stream_gemini
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


@web.middleware
async def _json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Unknown paths, wrong methods and oversized bodies answer in JSON, never aiohttp HTML."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        family = "anthropic" if is_anthropic_request(request) else "openai"
        if request.path.startswith(("/v1beta", "/upload")) or ":" in request.path:
            family = "gemini"
        message = f"{exc.reason}: {request.method} {request.path} is not served by the mock."
        return error_response(family, MockHTTPError(exc.status, message))


def build_app(core: MockCore) -> web.Application:
    """Create the application serving every endpoint on top of ``core``."""
    app = web.Application(client_max_size=_MAX_BODY, middlewares=[_json_errors])
    responses = ResponseStore(core.config.batch_seconds)
    chat_api = GenerationAPI("openai", "chat.completions", parse_chat, render_chat, stream_chat)
    responses_api = GenerationAPI(
        "openai", "responses", parse_responses, responses.render, responses.stream
    )

    anthropic_api = GenerationAPI(
        "anthropic", "messages", parse_anthropic, render_anthropic, stream_anthropic
    )
    files = FileStore()
    batches = BatchStore(core, files)

    def gemini_parse(stream: bool) -> Callable[[dict[str, Any], str], Any]:
        def parse(body: dict[str, Any], model: str) -> Any:
            view = parse_gemini(body, model)
            view.stream = stream
            return view

        return parse

    gemini_apis = {
        "generateContent": GenerationAPI(
            "gemini", "generateContent", gemini_parse(False), render_gemini
        ),
        "streamGenerateContent": GenerationAPI(
            "gemini", "streamGenerateContent", gemini_parse(True), render_gemini, stream_gemini
        ),
    }

    async def gemini(request: web.Request) -> web.StreamResponse:
        model, _, action = request.match_info["model_action"].partition(":")
        api = gemini_apis.get(action)
        if api is None or not model:
            return error_response(
                "gemini",
                MockHTTPError(
                    404,
                    f"Unknown method {action!r}: use models/MODEL:generateContent or "
                    "models/MODEL:streamGenerateContent?alt=sse.",
                ),
            )
        if action == "streamGenerateContent" and request.query.get("alt") != "sse":
            return error_response(
                "gemini",
                MockHTTPError(400, "The mock streams Gemini responses with alt=sse only."),
            )
        return await core.handle_generation(request, api, path_model=model)

    async def messages(request: web.Request) -> web.StreamResponse:
        return await core.handle_generation(request, anthropic_api)

    def family_of(request: web.Request) -> str:
        return "anthropic" if is_anthropic_request(request) else "openai"

    def either(
        handler: Callable[[web.Request], Awaitable[Any]],
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """File routes shared by OpenAI and Anthropic answer in the caller's dialect."""
        openai_route = _guarded(core, "openai", handler)
        anthropic_route = _guarded(core, "anthropic", handler)

        async def route(request: web.Request) -> web.StreamResponse:
            chosen = anthropic_route if family_of(request) == "anthropic" else openai_route
            return await chosen(request)

        return route

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
    app.router.add_post("/v1/files", either(files.upload))
    app.router.add_get("/v1/files/{file_id}", either(files.retrieve))
    app.router.add_get("/v1/files/{file_id}/content", either(files.content))
    app.router.add_delete("/v1/files/{file_id}", either(files.remove))
    app.router.add_post("/v1/batches", _guarded(core, "openai", batches.openai_create))
    app.router.add_get("/v1/batches/{batch_id}", _guarded(core, "openai", batches.openai_get))
    app.router.add_post(
        "/v1/batches/{batch_id}/cancel", _guarded(core, "openai", batches.openai_cancel)
    )
    app.router.add_post("/v1/messages", messages)
    app.router.add_post(
        "/v1/messages/batches", _guarded(core, "anthropic", batches.anthropic_create)
    )
    app.router.add_get(
        "/v1/messages/batches/{batch_id}", _guarded(core, "anthropic", batches.anthropic_get)
    )
    app.router.add_get(
        "/v1/messages/batches/{batch_id}/results",
        _guarded(core, "anthropic", batches.anthropic_results),
    )
    app.router.add_post("/v1beta/models/{model_action}", gemini)
    # Gemini serves generation at v1 too, the version google-genai calls by default.
    app.router.add_post("/v1/models/{model_action}", gemini)
    app.router.add_post("/upload/v1beta/files", _guarded(core, "gemini", files.gemini_upload))
    app.router.add_get("/v1beta/files/{file_id}", _guarded(core, "gemini", files.gemini_get))
    app.router.add_delete("/v1beta/files/{file_id}", _guarded(core, "gemini", files.gemini_delete))
    app.router.add_get("/_mock/stats", stats)
    app.on_cleanup.append(batches.close)
    return app
