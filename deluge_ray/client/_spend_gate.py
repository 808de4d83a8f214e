"""The budget check: reserve each prompt's worst-case cost before it is sent.

:class:`SpendGate` checks a client's own budget (``budget_usd``) and the key budget
(``key_budget_usd`` over ``key_budget_window``) of every key a prompt may use. Both
ledgers live in RateLimiter actors, because a client's model calls come from its driver
*and* from the SubAgent actors of its swarms: the key's budget in the key's limiter (see
:mod:`deluge_ray.ratelimit._budget`), the client's own in the limiter of its first key
(:class:`~deluge_ray.ratelimit._budget.ClientLedgers`; in this process's memory when no
route has a limiter). One actor call per limiter per intake batch reserves, one per batch
of results settles: never one per prompt on the driver.

A prompt is admitted only if every budget admits it. One that does not fit is *held*
(:data:`HOLD`) while this gate has reservations in flight: they are worst cases, and the
refund of each answer's unused part may make room. Once nothing of this gate's is in
flight, a prompt that still does not fit is refused: it comes back as an error result
naming the budget, and nothing is sent for it. So a job stops less than one prompt's
worst case short of its budget, never beyond it.

:class:`BudgetedModel` is the same check around a SubAgent's model call (one actor call
per model call: a swarm's loops make their calls one by one).
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from ..ratelimit._budget import SpendLedger, budget_message, worst_case_cost
from ._tenancy import Tenancy

__all__ = ["HOLD", "BudgetedModel", "SpendGate"]

# Settles a gate remembers, to wait for before its next reservation (see ``admit``).
_SETTLES_KEPT = 64

#: The reason :meth:`SpendGate.admit` gives a prompt that must wait for refunds.
HOLD = "hold: the budget may have room once the answers in flight are settled"


def _limiters(routes: Any) -> list[Any]:
    unique = {}
    for route in routes:
        if route.limiter is not None:
            unique.setdefault(route.limiter_name, route.limiter)
    return [unique[name] for name in sorted(unique)]


class SpendGate:
    """Reserves and settles a client's prompts against its budgets; see the module doc."""

    def __init__(self, tenancy: Tenancy) -> None:
        self._tenancy = tenancy
        self._local = SpendLedger() if tenancy.budget_usd is not None else None
        self._client_id = tenancy.tenant.client_id  # the limiters' status shows spend by client
        self._outstanding = 0.0  # dollars this gate reserved and has not settled yet
        self._spent_here = 0.0  # of the client's own budget, by this process (see admit)
        self._waiters: list[asyncio.Future] = []
        self._settling: list[Any] = []  # settles sent to limiters and not yet applied

    @property
    def active(self) -> bool:
        """True when the client has any budget to enforce."""
        return self._local is not None or self._tenancy.key_budget_usd is not None

    @staticmethod
    def cost(routes: Any, estimated_tokens: int) -> float:
        """The worst-case cost of a prompt that may go to any of ``routes``."""
        return max(worst_case_cost(route.model, estimated_tokens) for route in routes)

    def _ledgers(self, routes: Any) -> list[tuple[str, Any, tuple]]:
        """``(budget name, limiter or None, reserve args)`` of every budget to check."""
        tenancy, cid = self._tenancy, self._client_id
        out = []
        if tenancy.key_budget_usd is not None:
            for lim in _limiters(routes):
                args = (tenancy.key_budget_usd, tenancy.key_budget_window, cid)
                out.append(("key_budget_usd", lim, args))
        if tenancy.budget_usd is not None:
            home = _limiters(routes)[:1]
            out.append(
                ("budget_usd", home[0] if home else None, (tenancy.budget_usd, math.inf, cid))
            )
        return out

    async def admit(self, routes: Any, costs: list[float]) -> list[str | None]:
        """For each cost: ``None`` (reserved in every budget), :data:`HOLD`, or why not."""
        ledgers = self._ledgers(routes)
        if self._settling:
            # A refund must be in its ledger before the reservation it makes room for: an
            # actor may run two calls of one caller out of order.
            settling, self._settling = self._settling, []
            await asyncio.gather(*settling, return_exceptions=True)

        async def reserve(lim: Any, args: tuple) -> tuple[list[bool], float]:
            if lim is None:
                assert self._local is not None
                ok = self._local.reserve(costs, cap=args[0], window=math.inf)
                return ok, self._local.spent(math.inf)
            if not math.isinf(args[1]):
                return await lim.reserve_spend.remote(costs, *args)
            # What this process spent: a restarted limiter's new ledger starts from it.
            here = self._spent_here
            return await lim.reserve_spend.remote(costs, *args, scope="client", spent_here=here)

        answers = await asyncio.gather(*(reserve(lim, args) for _, lim, args in ledgers))
        reasons: list[str | None] = [None] * len(costs)
        for (name, _, args), (admitted, spent) in zip(ledgers, answers, strict=True):
            for i, ok in enumerate(admitted):
                if not ok and reasons[i] is None:
                    reasons[i] = budget_message(name, args[0], spent)
        # What one budget reserved for a prompt another budget stopped is given back.
        for (_, lim, args), (admitted, _) in zip(ledgers, answers, strict=True):
            back = sum(c for c, ok, r in zip(costs, admitted, reasons, strict=True) if ok and r)
            if back:
                self._settle_one(lim, args, back, 0.0)
        admitted = sum(c for c, r in zip(costs, reasons, strict=True) if r is None)
        self._outstanding += admitted
        self._spent_here += admitted
        if self._outstanding > 0:
            reasons = [HOLD if r is not None else None for r in reasons]
        return reasons

    def _settle_one(self, lim: Any, args: tuple, reserved: float, actual: float) -> None:
        if lim is None:
            assert self._local is not None
            self._local.settle(reserved=reserved, actual=actual)
        else:
            scope = "client" if math.isinf(args[1]) else "key"
            ref = lim.settle_spend.remote(reserved, actual, self._client_id, scope=scope)
            self._settling.append(ref)
            del self._settling[:-_SETTLES_KEPT]  # older ones are long applied

    def settle(self, routes: Any, reserved: float, actual: float) -> None:
        """Replace ``reserved`` dollars by ``actual`` in every budget (fire and forget).

        Wakes whoever waits in :meth:`settled` (prompts held for room).
        """
        if reserved or actual:
            for _, lim, args in self._ledgers(routes):
                self._settle_one(lim, args, reserved, actual)
        self._spent_here += actual - reserved
        self._outstanding = max(0.0, self._outstanding - reserved)
        if self._outstanding < 1e-12:
            self._outstanding = 0.0
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def settled(self) -> None:
        """Wait for the next :meth:`settle` (of this gate, in this event loop)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter


class BudgetedModel:
    """A SubAgent's model call with its client's budgets checked first.

    Wraps anything with ``call(spec, conversation, estimated_tokens) -> WorkResult``; a
    call a budget stops returns an error result naming that budget, without a request.
    """

    def __init__(self, model: Any, tenancy: Tenancy) -> None:
        self._model = model
        self._gate = SpendGate(tenancy)

    async def call(self, spec: Any, conversation: Any, estimated_tokens: int) -> Any:
        """The model's answer, or the error result of a budget that stopped the call."""
        from ..transport._work import error_result

        routes = spec.routes
        cost = self._gate.cost(routes, estimated_tokens)
        while True:
            (reason,) = await self._gate.admit(routes, [cost])
            if reason != HOLD:
                break
            await self._gate.settled()
        if reason is not None:
            return error_result(-1, routes[0], reason)
        actual = cost  # if the call fails unexpectedly, its worst case stays counted
        try:
            result = await self._model.call(spec, conversation, estimated_tokens)
            actual = result.response.cost or 0.0
            return result
        finally:
            self._gate.settle(routes, cost, actual)


def budgeted_model(model: Any, tenancy: Tenancy | None) -> Any:
    """``model`` with its client's budgets checked when the client has any, else itself."""
    if tenancy is None or not SpendGate(tenancy).active:
        return model
    return BudgetedModel(model, tenancy)
