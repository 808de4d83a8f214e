"""Spend budgets: money reserved at its worst case before a request is sent, settled after.

A :class:`SpendLedger` counts US dollars over a rolling window. Before prompts are sent,
their *worst-case* cost (see :func:`worst_case_cost`) is reserved: a prompt is admitted
only while ``spent + reserved + its cost <= cap``, so a budget is never exceeded by what
the provider could bill. When its response is in, the reservation is settled with the
actual cost (the difference is refunded)::

    admitted  iff  S(now - window, now) + c <= cap
    S(a, b)   = sum of recorded amounts (reservations, then refunds) in (a, b]

Every amount is recorded at once as spend, and a refund (``actual - reserved``, usually
negative) is recorded when the answer comes: so what a crash forgets is only refunds, and
a ledger that comes back counts the requests in flight as fully spent (conservative).

Where it is kept. A client's own budget (``LLMClient(budget_usd=...)``) lives in memory
in the RateLimiter of the client's first key (:class:`ClientLedgers`), because its driver
and the SubAgents of its swarms, other processes, all reserve against it. A key's budget (``key_budget_usd`` over
``key_budget_window``) lives in the key's ``RateLimiter`` actor, which writes every amount
to the SQLite file :func:`spend_file_path` on its node (one row per minute), so the spend
survives a limiter restart on that node (Ray restarts an actor on any live node; a restart
elsewhere starts from that node's file, which is why the file should sit on shared storage,
``$DELUGE_RAY_CACHE_DIR``, on a multi-node cluster).

>>> t = [0.0]
>>> ledger = SpendLedger(clock=lambda: t[0])
>>> ledger.reserve([0.4, 0.4, 0.4], cap=1.0, window=60)
[True, True, False]
>>> ledger.settle(reserved=0.8, actual=0.1); round(ledger.spent(60), 6)
0.1
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable

__all__ = [
    "ClientLedgers",
    "SpendLedger",
    "budget_message",
    "spend_file_path",
    "worst_case_cost",
]

_BUCKET_SECONDS = 60.0  # the ledger keeps one amount per minute


def spend_file_path(limiter_name: str) -> str:
    """The SQLite file where the limiter ``limiter_name`` keeps its key's spend.

    Beside the CacheActor's files: ``$DELUGE_RAY_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/deluge_ray``, else ``~/.cache/deluge_ray``.

    >>> spend_file_path("limiter:openai:0123456789ab").endswith("spend-limiter_openai_0123456789ab.sqlite")
    True
    """
    base = os.environ.get("DELUGE_RAY_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "deluge_ray",
    )
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", limiter_name)
    return os.path.join(base, f"spend-{safe}.sqlite")


def worst_case_cost(model: object, estimated_tokens: int) -> float:
    """The most a request of ``estimated_tokens`` (prompt + max_new_tokens) can cost.

    Every token priced at the dearer of the model's input and output prices (US dollars
    per million tokens): an upper bound whatever the split between prompt and answer.
    """
    price = max(getattr(model, "input_cost", 0.0) or 0.0, getattr(model, "output_cost", 0.0) or 0.0)
    return max(0, estimated_tokens) * price / 1e6


def budget_message(which: str, cap: float, spent: float) -> str:
    """The error text of a prompt a budget stopped (names the budget and what to do)."""
    return (
        f"not sent: the {which} of ${cap:,.4f} is reached (${spent:,.4f} spent or reserved "
        f"at worst-case cost); raise {which} or wait for the window to pass"
    )


class SpendLedger:
    """Dollars spent over a rolling window, with worst-case reservations; see module doc.

    ``path`` (optional) is a SQLite file that keeps the amounts across restarts.
    """

    def __init__(self, path: str | None = None, *, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._amounts: dict[int, float] = {}  # minute index -> dollars
        self._db: sqlite3.Connection | None = None
        if path is not None:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS spend (minute INTEGER PRIMARY KEY, usd REAL NOT NULL)"
            )
            for minute, usd in self._db.execute("SELECT minute, usd FROM spend"):
                self._amounts[int(minute)] = float(usd)

    def _record(self, amount: float) -> None:
        if amount == 0:
            return
        minute = math.floor(self._clock() / _BUCKET_SECONDS)
        total = self._amounts.get(minute, 0.0) + amount
        self._amounts[minute] = total
        if self._db is not None:
            self._db.execute(
                "INSERT INTO spend (minute, usd) VALUES (?, ?) "
                "ON CONFLICT(minute) DO UPDATE SET usd = excluded.usd",
                (minute, total),
            )

    def spent(self, window: float) -> float:
        """Dollars recorded in the last ``window`` seconds (reservations count as spent)."""
        with self._lock:
            return self._spent(window)

    def _spent(self, window: float) -> float:
        if math.isinf(window):
            return sum(self._amounts.values())
        first = math.floor((self._clock() - window) / _BUCKET_SECONDS)
        return sum(usd for minute, usd in self._amounts.items() if minute > first)

    def reserve(self, costs: Iterable[float], *, cap: float, window: float) -> list[bool]:
        """Admit each cost in order while the budget allows it; admitted ones are recorded.

        Once one is refused, the rest are too (order is kept: a later, cheaper prompt does
        not overtake a refused one).
        """
        with self._lock:
            spent = self._spent(window)
            answers: list[bool] = []
            for cost in costs:
                ok = (not answers or answers[-1]) and spent + cost <= cap + 1e-12
                if ok:
                    spent += cost
                    self._record(cost)
                answers.append(ok)
            return answers

    def settle(self, *, reserved: float, actual: float) -> None:
        """Replace ``reserved`` dollars by the ``actual`` cost (a refund, usually)."""
        with self._lock:
            self._record(actual - reserved)


class ClientLedgers:
    """Clients' own budgets (``budget_usd``), kept by the limiter of the client's first key.

    A client's model calls may come from its driver and from the SubAgent actors of its
    swarms, in other processes: the one ledger they all reserve against lives in a shared
    actor, the RateLimiter of the client's first route (in memory: a client's budget lasts
    as long as the client, so it is not written to disk). Each process says what it has
    spent itself (``spent_here``) with every reservation, and a ledger the limiter does
    not know (a restarted limiter's) starts from that: a restart forgets at most what the
    *other* processes of the client spent. Each ledger's spend is also
    noted in the limiter's status book (``note_own_spend``), for ``deluge-ray status``
    and the ``deluge_ray_client_budget_remaining_usd`` gauge.

    >>> ledgers = ClientLedgers()
    >>> ledgers.reserve("client-1", [0.4, 0.4, 0.4], 1.0)
    ([True, True, False], 0.8)
    """

    def __init__(self) -> None:
        self._ledgers: dict[str, tuple[SpendLedger, float]] = {}  # client -> (ledger, cap)

    def reserve(
        self,
        client_id: str,
        costs: list[float],
        cap: float,
        book: object = None,
        spent_here: float = 0.0,
    ) -> tuple[list[bool], float]:
        """Reserve ``costs`` in the client's ledger (cap: the latest one asked with)."""
        if client_id not in self._ledgers:
            fresh = SpendLedger()
            fresh.reserve([max(0.0, spent_here)], cap=math.inf, window=math.inf)
            self._ledgers[client_id] = (fresh, cap)
        ledger = self._ledgers[client_id][0]
        self._ledgers[client_id] = (ledger, cap)
        admitted = ledger.reserve(costs, cap=cap, window=math.inf)
        spent = ledger.spent(math.inf)
        if book is not None:
            book.note_own_spend(client_id, spent, cap)  # type: ignore[attr-defined]
        return admitted, spent

    def settle(self, client_id: str, reserved: float, actual: float, book: object = None) -> None:
        """Replace the client's ``reserved`` dollars by the ``actual`` cost."""
        if client_id not in self._ledgers:
            return  # a limiter restarted since the reservation: nothing to settle
        ledger, cap = self._ledgers[client_id]
        ledger.settle(reserved=reserved, actual=actual)
        if book is not None:
            book.note_own_spend(client_id, ledger.spent(math.inf), cap)  # type: ignore[attr-defined]
