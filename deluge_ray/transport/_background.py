"""Background mode (OpenAI responses API): start, poll until done, cancel on timeout.

:func:`run_background_response` is what the engine calls for ``use_responses_api=True,
background=True``: it posts the request (built with ``background=True``), then polls
``GET {base}/responses/{id}`` until the job leaves ``queued``/``in_progress``, and when
``timeout`` passes first it sends ``POST {base}/responses/{id}/cancel`` and returns an
error result saying so. Everything else (parsing, usage, cost) is the responses module's
``parse_response``; the URLs come from the request's own URL, i.e. the registry base URL.

    >>> import asyncio                                               # doctest: +SKIP
    >>> parsed = asyncio.run(run_background_response(session, model, spec, timeout=600))
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from ..api_requests import openai_responses
from ..api_requests._types import ErrorInfo, ErrorKind, ParsedResponse, RequestSpec
from ..errors import ConfigurationError
from ..models import APIModel
from ._http import send_with_retries

__all__ = ["BackgroundOutcome", "run_background_response"]


class BackgroundOutcome:
    """The parsed final answer plus the HTTP status and headers of the last exchange."""

    __slots__ = ("headers", "parsed", "polls", "status")

    def __init__(self, parsed: ParsedResponse, status: int, headers: dict[str, str], polls: int):
        self.parsed = parsed
        self.status = status
        self.headers = headers
        self.polls = polls

    def __repr__(self) -> str:
        return (
            f"BackgroundOutcome(status={self.status}, polls={self.polls}, parsed={self.parsed!r})"
        )


async def run_background_response(
    session: aiohttp.ClientSession,
    model: APIModel,
    spec: RequestSpec,
    *,
    timeout: float,
    poll_interval: float = 1.0,
    max_attempts: int = 3,
) -> BackgroundOutcome:
    """Run one background response to its end (or cancel it when ``timeout`` passes).

    ``spec`` must come from ``build_request(..., use_responses_api=True, background=True)``.
    Transient poll failures are retried (``max_attempts`` per poll); an error on the
    initial POST is returned as the parsed error, for the engine's usual retry logic.
    """
    if not (spec.json or {}).get("background"):
        raise ConfigurationError(
            "run_background_response needs a request built with use_responses_api=True and "
            "background=True."
        )
    deadline = time.monotonic() + timeout
    started = await send_with_retries(
        session,
        spec.method,
        spec.url,
        headers=spec.headers,
        json=spec.json,
        max_attempts=1,
        timeout=timeout,
    )
    parsed = openai_responses.parse_response(model, started.status, started.headers, started.body)
    status, headers, polls = started.status, started.headers, 0
    if parsed.error is not None or parsed.status not in openai_responses.PENDING_STATUSES:
        return BackgroundOutcome(parsed, status, headers, polls)
    url = f"{spec.url.rstrip('/')}/{parsed.response_id}"
    # Polls and the cancel are GETs/POSTs without a body: keep only the auth headers.
    poll_headers = {k: v for k, v in spec.headers.items() if k.lower() != "content-type"}
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return await _cancel(session, model, url, poll_headers, polls, timeout)
        await asyncio.sleep(min(poll_interval, remaining))
        got = await send_with_retries(
            session,
            "GET",
            url,
            headers=poll_headers,
            max_attempts=max_attempts,
            timeout=max(1.0, deadline - time.monotonic()),
        )
        polls += 1
        if not got.ok:
            return BackgroundOutcome(
                openai_responses.parse_response(model, got.status, got.headers, got.body),
                got.status,
                got.headers,
                polls,
            )
        parsed = openai_responses.parse_response(model, got.status, got.headers, got.body)
        if parsed.status not in openai_responses.PENDING_STATUSES:
            return BackgroundOutcome(parsed, got.status, got.headers, polls)


async def _cancel(
    session: aiohttp.ClientSession,
    model: APIModel,
    url: str,
    headers: dict[str, str],
    polls: int,
    timeout: float,
) -> BackgroundOutcome:
    response_id = url.rsplit("/", 1)[-1]
    got = await send_with_retries(session, "POST", f"{url}/cancel", headers=headers, max_attempts=2)
    note = "" if got.ok else f" (cancelling failed too: HTTP {got.status or 'no answer'})"
    # Not retried: a second run would most likely hit the same timeout.
    info = ErrorInfo(
        ErrorKind.GIVE_UP,
        f"Background response {response_id} did not finish within request_timeout="
        f"{timeout:g}s and was cancelled{note}. Raise request_timeout for long jobs.",
        None,
        None,
    )
    return BackgroundOutcome(ParsedResponse(error=info, response_id=response_id), 0, {}, polls)
