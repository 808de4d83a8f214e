"""A limiter's live status: the last minute of its grants, and the snapshot it answers with.

:class:`StatusBook` is what a :class:`~deluge_ray.ratelimit._service.LimiterService` notes
as leases pass through it (per client: requests and tokens granted, what came back, 429s
reported, dollars spent); it never influences a grant. :func:`build_status` turns the
book and the core's read-only state (``LimiterCore.status_state``) into a
:class:`LimiterStatus`: plain frozen dataclasses, so the snapshot pickles out of the
``RateLimiter`` actor and prints anywhere (``deluge-ray status``,
``LLMClient.limiter_status()``).

Rates are over the last :data:`WINDOW_S` seconds (or the limiter's life, if shorter):
*net* requests and tokens, that is granted minus given back unused, with tokens corrected
to what responses actually used. A client's ``share`` is its part of those requests.

>>> book = StatusBook(clock=lambda: 10.0)
>>> book.note_spend("client-1", 0.25); book.spend_of("client-1")
(0.25, None)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._priority import Tenant
from ._records import Lease, UsageReport

__all__ = ["WINDOW_S", "ClientStatus", "LimiterStatus", "StatusBook", "build_status"]

WINDOW_S = 60.0  # how far back "the last minute" looks


@dataclass(frozen=True)
class ClientStatus:
    """One client (an ``LLMClient``, however many callers serve it) of a limiter.

    ``share`` is its fraction of the limiter's net requests in the window; ``slots_held``
    the concurrency slots its callers hold (in flight, or kept for their next request);
    ``spend_usd`` what the budget layer has seen it spend (``None``: it has no budget, so
    nobody counts its dollars), out of ``budget_usd`` when that is known.
    """

    client_id: str
    name: str
    priority: int
    weight: float
    requests: int
    tokens: int
    share: float
    slots_held: int
    rate_limited: int
    spend_usd: float | None = None
    budget_usd: float | None = None


@dataclass(frozen=True)
class LimiterStatus:
    """A snapshot of one RateLimiter (one provider key); see the module doc.

    Limits are per minute (``None``: not limited): ``configured_*`` as the clients set
    them, ``learned_*`` from the provider's ``limit-*`` headers, ``effective_*`` in force
    now. ``requests`` / ``tokens`` / ``rate_limited`` count the last ``window_s`` seconds;
    ``request_rate`` and ``token_rate`` scale them to a minute. ``level`` is the request
    bucket (below zero: capacity already promised ahead).
    """

    name: str
    provider: str
    models: tuple[str, ...]
    configured_rpm: float | None
    configured_tpm: float | None
    learned_rpm: float | None
    learned_tpm: float | None
    effective_rpm: float | None
    effective_tpm: float | None
    max_concurrent: int | None
    window_s: float
    requests: int
    tokens: int
    in_flight: int
    free_slots: int | None
    cooldown_s: float
    rate_limited: int
    rate_limited_total: int
    level: float | None
    clients: tuple[ClientStatus, ...]
    key_spend_usd: float | None = None
    key_budget_usd: float | None = None
    incarnation: str = ""
    restarted: bool = False

    @property
    def request_rate(self) -> float:
        """Net requests per minute over the window."""
        return self.requests * 60.0 / self.window_s if self.window_s > 0 else 0.0

    @property
    def token_rate(self) -> float:
        """Net tokens per minute over the window."""
        return self.tokens * 60.0 / self.window_s if self.window_s > 0 else 0.0


def _client_key(caller_id: str, tenant: Tenant | None) -> str:
    # As in ``_priority``: a caller that names no client is a client of its own.
    return tenant.client_id if tenant is not None and tenant.client_id else f"caller:{caller_id}"


class StatusBook:
    """The last minute of a limiter's traffic, per client; see the module doc."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, window: float = WINDOW_S):
        self._clock = clock
        self.window = window
        self.started = clock()
        # (time, client key, net requests, net tokens, 429s), oldest first
        self._events: deque[tuple[float, str, int, int, int]] = deque()
        self._tenant_of_caller: dict[str, Tenant] = {}
        self._tenant_of_client: dict[str, Tenant] = {}
        self._last_seen: dict[str, float] = {}  # client -> its latest lease call
        self._key_spend: dict[str, float] = {}  # client -> dollars through the key budget
        self._own_spend: dict[str, tuple[float, float | None]] = {}  # client -> (spent, cap)

    def note_lease(
        self,
        caller_id: str,
        tenant: Tenant | None,
        lease: Lease,
        report: UsageReport | None,
        incarnation: str,
    ) -> None:
        """Count a lease call: what it granted, and what its report gave back or saw."""
        if tenant is not None:
            self._tenant_of_caller[caller_id] = tenant
        tenant = self._tenant_of_caller.get(caller_id)
        client = _client_key(caller_id, tenant)
        if tenant is not None:
            self._tenant_of_client[client] = tenant
        now = self._clock()
        self._last_seen[client] = now
        requests, tokens, limited = lease.requests, lease.tokens, 0
        if report is not None:
            limited = report.rate_limited
            # The core ignores what is given back to an earlier incarnation: so do we.
            if report.incarnation in ("", incarnation):
                requests -= report.returned_requests
                tokens += report.token_correction - report.returned_tokens
        if requests or tokens or limited:
            self._events.append((now, client, requests, tokens, limited))
            self._expire(now)

    def forget_caller(self, caller_id: str) -> None:
        """A caller left for good (with the ``caller@client`` ids it leased under)."""
        for caller in [c for c in self._tenant_of_caller if c.split("@")[0] == caller_id]:
            del self._tenant_of_caller[caller]

    def note_spend(self, client_id: str, amount: float) -> None:
        """Dollars reserved (positive) or refunded (negative) for a client's key budget."""
        if client_id:
            self._key_spend[client_id] = self._key_spend.get(client_id, 0.0) + amount

    def note_own_spend(self, client_id: str, spent: float, budget: float | None) -> None:
        """A client's own budget (``budget_usd``) and what it has spent of it so far."""
        if client_id:
            self._own_spend[client_id] = (spent, budget)

    def spend_of(self, client_id: str) -> tuple[float | None, float | None]:
        """``(spent, budget)`` of a client as far as budgets know (``None``: unknown)."""
        if client_id in self._own_spend:
            return self._own_spend[client_id]
        return self._key_spend.get(client_id), None

    def _expire(self, now: float) -> None:
        while self._events and now - self._events[0][0] > self.window:
            self._events.popleft()

    def totals(self) -> dict[str, list[int]]:
        """Per client seen in the window: ``[requests, tokens, 429s]`` over it."""
        now = self._clock()
        self._expire(now)
        for client, seen in list(self._last_seen.items()):
            if now - seen > self.window:  # gone quiet: forget it (a long-lived limiter
                del self._last_seen[client]  # sees many short-lived clients)
                self._tenant_of_client.pop(client, None)
                for caller in [
                    c for c, t in self._tenant_of_caller.items() if t.client_id == client
                ]:
                    del self._tenant_of_caller[caller]
        totals: dict[str, list[int]] = {client: [0, 0, 0] for client in self._last_seen}
        for _, client, requests, tokens, limited in self._events:
            row = totals.setdefault(client, [0, 0, 0])
            row[0] += requests
            row[1] += tokens
            row[2] += limited
        return totals

    def tenant(self, client: str) -> Tenant | None:
        """The latest tenant record a client's callers sent."""
        return self._tenant_of_client.get(client)


def _provider_of(name: str) -> str:
    # limiter:{provider}:{fingerprint}; anything else (a test's service) has none.
    parts = name.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "limiter" else ""


def build_status(
    name: str,
    state: dict[str, Any],
    book: StatusBook,
    *,
    key_spend_usd: float | None = None,
    key_budget_usd: float | None = None,
) -> LimiterStatus:
    """The snapshot of a limiter named ``name`` from ``LimiterCore.status_state()``."""
    totals = book.totals()
    held_by_client: dict[str, int] = {}
    tenants: dict[str, Tenant] = state["tenants"]
    for caller, held in state["slots_held"].items():
        if held:
            client = _client_key(caller, tenants.get(caller))
            held_by_client[client] = held_by_client.get(client, 0) + held
    all_requests = sum(max(0, row[0]) for row in totals.values())
    provider = _provider_of(name)
    clients = []
    models: dict[str, None] = {}
    for client in sorted(set(totals) | set(held_by_client)):
        requests, tokens, limited = totals.get(client, [0, 0, 0])
        tenant = book.tenant(client)
        spent, budget = book.spend_of(client)
        if tenant is not None:
            for model_provider, model_id in tenant.models:
                if not provider or model_provider == provider:
                    models.setdefault(model_id, None)
        clients.append(
            ClientStatus(
                client_id=client,
                name=(tenant.name if tenant is not None else "") or client,
                priority=tenant.level if tenant is not None else 1,
                weight=tenant.weight if tenant is not None else 1.0,
                requests=requests,
                tokens=tokens,
                share=max(0, requests) / all_requests if all_requests else 0.0,
                slots_held=held_by_client.get(client, 0),
                rate_limited=limited,
                spend_usd=spent,
                budget_usd=budget,
            )
        )
    clients.sort(key=lambda c: (-c.priority, -c.requests, c.name))
    max_concurrent = state["max_concurrent"]
    in_use = state["in_use"]
    return LimiterStatus(
        name=name,
        provider=provider,
        models=tuple(models),
        configured_rpm=state["configured"]["rpm"],
        configured_tpm=state["configured"]["tpm"],
        learned_rpm=state["learnt"]["rpm"],
        learned_tpm=state["learnt"]["tpm"],
        effective_rpm=state["effective"]["rpm"],
        effective_tpm=state["effective"]["tpm"],
        max_concurrent=max_concurrent,
        window_s=min(book.window, max(0.0, state["now"] - book.started)),
        requests=sum(row[0] for row in totals.values()),
        tokens=sum(row[1] for row in totals.values()),
        in_flight=in_use,
        free_slots=None if max_concurrent is None else max(0, max_concurrent - in_use),
        cooldown_s=state["cooldown_s"],
        rate_limited=sum(row[2] for row in totals.values()),
        rate_limited_total=state["counts"]["rate_limited"],
        level=state["levels"]["requests"],
        clients=tuple(clients),
        key_spend_usd=key_spend_usd,
        key_budget_usd=key_budget_usd,
        incarnation=state["incarnation"],
        restarted=state["restarted"],
    )
