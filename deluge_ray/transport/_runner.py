"""One prompt through the provider: choose a model, lease capacity, send, retry, classify.

:class:`RequestRunner` is the logic inside a :class:`ProviderCaller` actor, kept free of
Ray so it can be tested in-process. It is given a ``send`` coroutine (the HTTP layer) and
a ``lease_for`` function returning the lease holder of a route's rate limiter.

Per attempt: pick a model by weight among those not blocklisted, ``acquire`` capacity for
the estimated tokens, build the request, send it with the spec's timeout, parse it, and
report the actual usage (or the 429 and its retry-after, and the rate-limit headers) back
to the lease holder. Then, by :class:`~deluge_ray.api_requests.ErrorKind`:

* ``RATE_LIMITED`` – wait the provider's retry-after (else back off) and retry;
* ``RETRY`` – jittered exponential backoff, same model;
* ``RETRY_OTHER_MODEL`` – another model at once; 401/403/404 also blocklist the model;
* ``GIVE_UP`` – answer with an error response.

Every path ends in an :class:`APIResponse`; nothing raises out of :meth:`RequestRunner.run`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ..api_requests import ErrorInfo, ErrorKind
from ..api_requests._errors import redact_secrets, with_called_url
from ..api_requests.response import APIResponse, attach_raw_body
from ..errors import ConfigurationError
from ._fallback import FallbackChain
from ._retry import BLOCKLIST_STATUSES, backoff, should_retry
from ._work import CallSpec, ModelRoute, WorkItem, WorkResult

__all__ = ["BLOCKLIST_STATUSES", "LeaseHolder", "RequestRunner"]


# (status, headers, body) of one HTTP exchange.
HttpReply = tuple[int, dict[str, str], bytes]
SendFn = Callable[[Any, float], Awaitable[HttpReply]]
# Background mode: (model, request, timeout) -> (status, headers, parsed final answer).
BackgroundSendFn = Callable[[Any, Any, float], Awaitable[tuple[int, dict[str, str], Any]]]


class LeaseHolder(Protocol):
    """The caller-side handle of one RateLimiter (``deluge_ray.ratelimit._lease_client.LeaseClient``)."""

    async def acquire(self, estimated_tokens: int) -> Any: ...

    def complete(
        self,
        permit: Any,
        *,
        actual_tokens: int | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        observation: Any = None,
    ) -> None: ...


class RequestRunner:
    """Runs work items against providers; see the module docstring.

    ``blocklisted`` is shared by every item this runner serves, so one 401 spares the
    other in-flight items of the same caller a wasted request.
    """

    def __init__(
        self,
        *,
        send: SendFn,
        lease_for: Callable[[ModelRoute], LeaseHolder | None],
        build_request: Callable[..., Any],
        parse_response: Callable[..., Any],
        read_headers: Callable[[dict[str, str]], Any] | None = None,
        rng: random.Random | None = None,
        send_background: BackgroundSendFn | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._send = send
        self._send_background = send_background
        self._lease_for = lease_for
        self._build_request = build_request
        self._parse_response = parse_response
        self._read_headers = read_headers
        self._rng = rng or random.Random()
        self._sleep = sleep  # injectable: tests record the waits instead of waiting
        self.blocklisted: set[str] = set()

    def _choose(self, spec: CallSpec, exclude: set[str]) -> ModelRoute | None:
        routes = spec.routes
        if len(routes) == 1:  # the common case: no draw needed (random.choices is slow)
            only = routes[0]
            usable_alone = only.model.id not in self.blocklisted and only.model.id not in exclude
            return only if usable_alone else None
        usable = [
            r
            for r in spec.routes
            if r.model.id not in self.blocklisted and r.model.id not in exclude
        ]
        if not usable:
            return None
        weighted = [r for r in usable if r.weight > 0]
        pool = weighted or usable
        return self._rng.choices(pool, weights=[r.weight for r in weighted] or None)[0]

    async def run(self, item: WorkItem, spec: CallSpec) -> WorkResult:
        """Serve one item to completion (success, or an error response)."""
        requests_sent = rate_limited = 0
        new_blocklisted: list[str] = []
        route = self._choose(spec, set())
        chain = FallbackChain.of(spec, route)  # fallback models, tried in order
        budget = chain.attempt_budget(spec.max_attempts) if chain else spec.max_attempts
        last_error: ErrorInfo | None = None
        last_route = route or spec.routes[0]
        attempt = 0
        while attempt < budget:
            if route is None:
                break
            attempt += 1
            last_route = route
            requests_sent += 1
            reply = await self._attempt(item, spec, route)
            if isinstance(reply, APIResponse):
                return WorkResult(
                    key=item.key,
                    response=reply,
                    requests_sent=requests_sent,
                    rate_limited=rate_limited,
                    retries=attempt - 1,
                    blocklisted_models=tuple(new_blocklisted),
                )
            last_error = reply
            if should_retry(reply.kind):
                if reply.kind is ErrorKind.RATE_LIMITED:
                    rate_limited += 1
                if chain and chain.must_move_on(budget - attempt + 1, self.blocklisted):
                    route = chain.step(self.blocklisted)
                    continue
                delay = backoff(attempt, reply.retry_after, self._rng)
            elif reply.kind is ErrorKind.RETRY_OTHER_MODEL:
                if reply.status in BLOCKLIST_STATUSES and route.model.id not in self.blocklisted:
                    self.blocklisted.add(route.model.id)
                    new_blocklisted.append(route.model.id)
                route = (
                    chain.step(self.blocklisted) if chain else self._choose(spec, {route.model.id})
                )
                continue
            else:  # GIVE_UP: the request itself is wrong
                break
            if attempt < budget:
                await self._sleep(delay)
        return WorkResult(
            key=item.key,
            response=self._error_response(item, spec, last_route, last_error, attempt),
            requests_sent=requests_sent,
            rate_limited=rate_limited,
            retries=max(0, attempt - 1),
            blocklisted_models=tuple(new_blocklisted),
        )

    async def _attempt(
        self, item: WorkItem, spec: CallSpec, route: ModelRoute
    ) -> APIResponse | ErrorInfo:
        """One HTTP exchange, with the lease taken before and settled after."""
        try:
            request = self._build_request(
                route.model,
                item.conversation,
                route.sampling_params,
                tools=list(spec.tools) if spec.tools else None,
                output_schema=spec.output_schema,
                cache_pattern=spec.cache_pattern,
                service_tier=spec.service_tier,
                extra_headers=spec.extra_headers,
                extra_body=spec.extra_body,
                use_responses_api=spec.use_responses_api,
                background=spec.background,
                api_key=route.api_key,  # a Secret: unwrapped only inside the header builder
                base_url=route.base_url,
            )
        except Exception as exc:
            return ErrorInfo(ErrorKind.GIVE_UP, f"could not build the request: {exc}", None, None)

        lease = self._lease_for(route)
        try:
            permit = await lease.acquire(item.estimated_tokens) if lease is not None else None
        except ConfigurationError as exc:  # e.g. larger than the limiter's whole budget
            return ErrorInfo(ErrorKind.GIVE_UP, str(exc), None, None)
        status: int | None = None
        headers: dict[str, str] = {}
        try:
            if spec.background:
                # Start the job, poll it to its end (or cancel it at request_timeout).
                if self._send_background is None:
                    raise RuntimeError("this runner was built without background support")
                status, headers, parsed = await self._send_background(
                    route.model, request, spec.request_timeout
                )
            else:
                status, headers, body = await self._send(request, spec.request_timeout)
                parsed = self._parse_response(
                    route.model, status, headers, body, use_responses_api=spec.use_responses_api
                )
        except (asyncio.TimeoutError, TimeoutError):
            error = ErrorInfo(
                ErrorKind.RETRY,
                f"no answer within request_timeout={spec.request_timeout:g}s",
                None,
                None,
            )
            self._settle(lease, permit, status=None, headers={}, error=error, usage=None)
            return error
        except Exception as exc:
            error = ErrorInfo(
                ErrorKind.RETRY, f"connection error: {type(exc).__name__}: {exc}", None, None
            )
            self._settle(lease, permit, status=None, headers={}, error=error, usage=None)
            return error
        except BaseException:
            # Cancelled mid-request (the driver went away, the client shut down): give the
            # concurrency slot back, or the lease holder would count it busy for good.
            self._settle(lease, permit, status=None, headers={}, error=None, usage=None)
            raise

        self._settle(
            lease, permit, status=status, headers=headers, error=parsed.error, usage=parsed.usage
        )
        if parsed.error is not None:
            return with_called_url(parsed.error, request.url)
        response = APIResponse.from_parsed(
            parsed,
            id=item.key,
            model=route.model,
            prompt={},  # the driver re-attaches its own copy: no need to ship it back
            sampling_params=route.sampling_params,
            status_code=status,
        )
        if not spec.background and type(body) is bytes and isinstance(parsed.raw, dict):
            # Ship the body, not its parsed tree (see api_requests.response.attach_raw_body);
            # a streamed answer has no body: its send returns it parsed.
            attach_raw_body(response, body)
        return response

    def _settle(self, lease, permit, *, status, headers, error, usage) -> None:
        if lease is None:
            return
        observation = self._read_headers(headers) if (self._read_headers and headers) else None
        lease.complete(
            permit,
            actual_tokens=usage.total_tokens if usage is not None else None,
            status=status,
            retry_after=error.retry_after if error is not None else None,
            observation=observation,
        )

    def _error_response(
        self,
        item: WorkItem,
        spec: CallSpec,
        route: ModelRoute,
        error: ErrorInfo | None,
        attempts: int,
    ) -> APIResponse:
        if error is None:
            blocked = sorted(self.blocklisted)
            message = (
                f"every model of this client is blocklisted after 401/403/404 answers "
                f"({', '.join(blocked)}); check the API keys and model names"
            )
            status = None
        else:
            tries = "attempt" if attempts == 1 else "attempts"
            # The one place a provider's error becomes this response's message: a key the
            # provider echoed back is removed here, before anything can show or store it.
            said = redact_secrets(error.message, [r.api_key for r in spec.routes])
            message = f"{route.model.id}: {said} (gave up after {attempts} {tries})"
            status = error.status
        return APIResponse.error(
            id=item.key,
            model=route.model,
            prompt={},
            sampling_params=route.sampling_params,
            message=message,
            status_code=status,
            kind=error.kind if error is not None else None,
        )
