"""The engine's budget check: reserve each prompt's worst-case cost before it is sent.

:class:`SpendGate` holds a client's own budget (``budget_usd``, a
:class:`~deluge_ray.ratelimit._budget.SpendLedger` in memory: a client is one process)
and asks the RateLimiter of every key a prompt may use for the key's budget
(``key_budget_usd`` over ``key_budget_window``; kept by the limiter, see
:mod:`deluge_ray.ratelimit._budget`). One actor call per limiter per intake batch
reserves, one per batch of results settles: never one per prompt.

A prompt is admitted only if every budget admits it; a prompt a budget refused comes back
as an error result naming that budget, and nothing is sent for it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..ratelimit._budget import SpendLedger, budget_message, worst_case_cost
from ._tenancy import Tenancy

__all__ = ["SpendGate"]


def _limiters(routes: Any) -> list[Any]:
    unique = {}
    for route in routes:
        if route.limiter is not None:
            unique.setdefault(route.limiter_name, route.limiter)
    return list(unique.values())


class SpendGate:
    """Reserves and settles a client's prompts against its budgets; see the module doc."""

    def __init__(self, tenancy: Tenancy) -> None:
        self._tenancy = tenancy
        self._own = SpendLedger() if tenancy.budget_usd is not None else None
        self._client_id = tenancy.tenant.client_id  # the limiters' status shows spend by client

    @property
    def active(self) -> bool:
        """True when the client has any budget to enforce."""
        return self._own is not None or self._tenancy.key_budget_usd is not None

    @staticmethod
    def cost(routes: Any, estimated_tokens: int) -> float:
        """The worst-case cost of a prompt that may go to any of ``routes``."""
        return max(worst_case_cost(route.model, estimated_tokens) for route in routes)

    async def admit(self, routes: Any, costs: list[float]) -> list[str | None]:
        """For each cost: ``None`` (reserved in every budget) or why it may not be sent."""
        reasons: list[str | None] = [None] * len(costs)
        tenancy = self._tenancy
        key_limiters = _limiters(routes) if tenancy.key_budget_usd is not None else []
        answers = await asyncio.gather(
            *(
                lim.reserve_spend.remote(
                    costs, tenancy.key_budget_usd, tenancy.key_budget_window, self._client_id
                )
                for lim in key_limiters
            )
        )
        for admitted, spent in answers:
            for i, ok in enumerate(admitted):
                if not ok and reasons[i] is None:
                    reasons[i] = budget_message("key_budget_usd", tenancy.key_budget_usd, spent)
        if self._own is not None:
            wanted = [c if r is None else 0.0 for c, r in zip(costs, reasons, strict=True)]
            own_ok = self._own.reserve(wanted, cap=tenancy.budget_usd, window=float("inf"))
            spent = self._own.spent(float("inf"))
            for i, ok in enumerate(own_ok):
                if not ok and reasons[i] is None:
                    reasons[i] = budget_message("budget_usd", tenancy.budget_usd, spent)
        # What a key reserved for a prompt that another budget stopped is given back.
        for lim, (admitted, _) in zip(key_limiters, answers, strict=True):
            given_back = sum(
                c for c, ok, r in zip(costs, admitted, reasons, strict=True) if ok and r
            )
            if given_back:
                lim.settle_spend.remote(given_back, 0.0, self._client_id)
        return reasons

    def settle(self, routes: Any, reserved: float, actual: float) -> None:
        """Replace ``reserved`` dollars by ``actual`` in every budget (fire and forget)."""
        if self._own is not None:
            self._own.settle(reserved=reserved, actual=actual)
        if self._tenancy.key_budget_usd is not None and (reserved or actual):
            for lim in _limiters(routes):
                lim.settle_spend.remote(reserved, actual, self._client_id)
        elif self._own is not None:  # only shown in `deluge-ray status`
            spent = self._own.spent(float("inf"))
            for lim in _limiters(routes):
                lim.note_client_spend.remote(self._client_id, spent, self._tenancy.budget_usd)
