"""Priorities between the clients of one limiter: who gets capacity when demand exceeds it.

A :class:`Tenant` is what a lease request says about the *client* behind a caller: its id
(one client's requests may go through several callers), its priority ``level`` (higher
first) and its ``weight`` within its class. :class:`PriorityBook` is the part of
:class:`~deluge_ray.ratelimit._core.LimiterCore` that remembers each active caller's
tenant and demand and turns them into shares.

The rule. Shares are of the *rate*, measured over the last ``W = active_seconds``: ``u_x``
is the fraction of ``rate * W`` granted to client ``x`` in that window (per bucket, the
largest), and a client is *saturating* when one of its callers asked for at least a whole
block at its latest lease (the lease client asks for that while its queue keeps up). Its
demand is then the whole rate, otherwise what it used plus what it asks for now (``a_x``,
its callers' latest asks as shares): ``d_x = 1`` or ``min(1, u_x + a_x)``. With ``D_L``
the sum over class ``L`` (at most 1) and ``phi`` = ``floor_fraction`` (default 5 %)::

    kept_below(L) = sum over active classes j below L of min(phi, D_j)
    give(L)       = min(D_L, left(L) - kept_below(L))        classes from the highest down
    left(next)    = left(L) - give(L)                         (left(top) = 1)

and within a class ``give(L)`` is water-filled among its clients by weight (a client
wanting less than its share gets what it wants, the rest is shared by weight again): the
client's *entitlement* ``e_x``. While another active client is saturating, a caller of
client ``x`` is granted at most ``floor((e_x - u_x) * rate * W)`` requests; below one it
is refused while another saturating client is *hungry* (below its entitlement: it takes
what is left), and otherwise still granted one request (nobody would take the rest, and
quota must not idle). No cap applies when the plain fair share (``1/k`` of the rate to
each of the ``k`` active callers) cannot hold anyone below its entitlement: when client
``x``'s callers' part ``n_x / k`` is below ``e_x``, or every other saturating client's part
is at least its own (three equal clients with one caller each). ``u_x`` counts grants
when made, up to two slices ahead of their sends, so at saturation it swings by a whole
lease around ``e_x``: capping there refused every client at once and left the rate idle
(three equal clients drew 93 % of it, with 63 sends in one second against 50). So a
higher class takes all it asks for except the floor each lower class keeps; what it does not ask for flows down (a client that is not saturating is entitled to
what it uses, and a saturating one to the rest): priority never leaves quota idle. With
one client active, or for callers that name no client, nothing changes.

Jumping the queue. At saturation the bucket is reserved about two slices ahead, so a
request of a higher class would wait behind lower-class grants already made. While a
higher class is active, each lower-class grant of cost ``c`` (per bucket) is charged
``c * (1 + rho)`` and the surplus ``c * rho`` goes into a *priority credit*, while the
credit is below ``max(u1, rho * rate)`` (``u1`` the cost of one higher-class request: the
surcharge stops there); a grant to the highest active class is paid from it and starts at
once when, in each bucket, the credit covers its cost or the bucket has room for it now
(that bucket then pays: a limit far from binding needs no credit), the credit in one at
least. ``rho`` is twice the share of the
rate the higher classes used over ``W``, clamped to ``[min_reserve, max_reserve]``
(4 % .. 5 %: at less, one jump a second outran the refill), so what is held back follows
what they use. A jump sends now what the lower classes' schedule leaves room for a little
later, so for a moment the rate is
exceeded by at most the credit: one request, or ``0.05 * rate``, which a provider's
one-second window absorbs. Once no other class is present (competing, or granted anything
within ``W``), the credit goes back to the bucket except a *standing credit* of
``max(u1, min_reserve * rate)`` per bucket (with the first higher-class request yet to
come, ``u1`` is one request and no tokens: the token part is ``min_reserve * rate``),
which a lone class of clients (callers naming a client) fills by ``rho = min_reserve`` of
its grants and never spends itself:
the first request of a class arriving above it (a notebook's first prompt beside a batch
job) jumps the queue at once, instead of waiting behind the schedule reserved ahead.
It holds back ``min_reserve`` of one second's rate once per jump, never a rate. A caller of the highest of several
classes that is not saturating is granted ``floor(credit)`` requests at most, and at
least when it asks for them, while the credit holds one or more
(:meth:`PriorityBook.jump_cap`, :meth:`PriorityBook.jump_size`): whatever the buckets'
schedule ahead and the fair share among the callers (a batch job's many callers would
otherwise leave it none), a lease the credit covers jumps, where a larger one would wait
whole behind the schedule.

>>> parse_priority("interactive"), parse_priority(7)
(2, 7)
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import ConfigurationError

__all__ = [
    "PRIORITY_CLASSES",
    "PriorityBook",
    "Tenant",
    "parse_priority",
    "tenant_caller_id",
    "water_fill",
]

# Requests a client held to its share may still take when nobody is hungry: holding it
# back then would leave quota idle.
IDLE_GUARD_REQUESTS = 1

# Named classes and their levels; integers may be used directly (higher goes first).
PRIORITY_CLASSES = {"interactive": 2, "default": 1, "batch": 0}


def parse_priority(priority: object) -> int:
    """The level of a priority name or integer; a clear error for anything else.

    >>> parse_priority("urgent")
    Traceback (most recent call last):
    ...
    deluge_ray.errors.ConfigurationError: unknown priority 'urgent'; use one of 'interactive', 'default', 'batch' or an integer (higher goes first).
    """
    if isinstance(priority, bool):
        priority = repr(priority)  # True is an int to Python, not a priority
    if isinstance(priority, int):
        return priority
    if isinstance(priority, str) and priority in PRIORITY_CLASSES:
        return PRIORITY_CLASSES[priority]
    names = ", ".join(repr(name) for name in PRIORITY_CLASSES)
    raise ConfigurationError(
        f"unknown priority {priority!r}; use one of {names} or an integer (higher goes first)."
    )


@dataclass(frozen=True)
class Tenant:
    """The client behind a lease request: id, priority level (higher first), weight.

    ``name`` and ``models`` (``(provider, model id)`` pairs) only label the client in the
    limiter's status; they play no part in sharing.
    """

    client_id: str
    level: int = PRIORITY_CLASSES["default"]
    weight: float = 1.0
    name: str = ""
    models: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not (isinstance(self.weight, (int, float)) and self.weight > 0):
            raise ConfigurationError(f"a client's weight must be positive, got {self.weight!r}")


DEFAULT_TENANT = Tenant("")


def tenant_caller_id(actor_id: str, client_id: str) -> str:
    """The caller id an actor leases under for one client (the actor's own id if none).

    >>> tenant_caller_id("caller-0", "client-1"), tenant_caller_id("caller-0", "")
    ('caller-0@client-1', 'caller-0')
    """
    return f"{actor_id}@{client_id}" if client_id else actor_id


def water_fill(capacity: float, demands: dict[str, float], weights: dict[str, float]):
    """Share ``capacity`` by weight, giving no one more than its demand.

    >>> water_fill(10, {"a": 2, "b": 20}, {"a": 1, "b": 1})
    {'a': 2, 'b': 8.0}
    """
    given = dict.fromkeys(demands, 0.0)
    open_ = {key for key, want in demands.items() if want > 0}
    left = capacity
    while open_ and left > 1e-9:
        total_weight = sum(weights[key] for key in open_)
        sated = {k for k in open_ if demands[k] - given[k] <= left * weights[k] / total_weight}
        if not sated:  # everyone wants more than its share: split what is left by weight
            for key in open_:
                given[key] += left * weights[key] / total_weight
            break
        for key in sated:
            left -= demands[key] - given[key]
            given[key] = demands[key]
        open_ -= sated
    return given


def _client_key(caller_id: str, tenant: Tenant) -> str:
    # A caller leasing without a tenant is a client of its own.
    return tenant.client_id or f"caller:{caller_id}"


class PriorityBook:
    """Tenants, demand and recent grants of the callers of one limiter; see the module doc."""

    def __init__(
        self,
        *,
        window: float = 2.0,
        floor_fraction: float = 0.05,
        min_reserve: float = 0.04,
        max_reserve: float = 0.05,
    ) -> None:
        if not 0 <= floor_fraction < 1:
            raise ConfigurationError(f"floor_fraction must be in [0, 1), got {floor_fraction!r}")
        self.window = window
        self.floor_fraction = floor_fraction
        self._min_reserve, self._max_reserve = min_reserve, max_reserve
        self.tenants: dict[str, Tenant] = {}  # caller -> tenant
        self.saturating: dict[str, bool] = {}  # caller -> asked for a whole block last time
        self.asked: dict[str, float] = {}  # caller -> its latest ask, as a share of rate * W
        self.credit = {"requests": 0.0, "tokens": 0.0}
        self.jump_unit = {"requests": 1.0, "tokens": 0.0}  # one higher-class request's cost
        self.request_share = 0.0  # one request of the current lease's size (set by the core)
        # (time, level, client key, share of rate * window) of every recent grant
        self._grants: deque[tuple[float, int, str, float]] = deque()

    def note(self, caller_id: str, tenant: Tenant | None, saturating: bool, asked: float) -> None:
        """Remember on whose behalf ``caller_id`` asks, how much, and whether a whole block."""
        if tenant is not None:
            self.tenants[caller_id] = tenant
        self.saturating[caller_id] = saturating
        self.asked[caller_id] = asked

    def forget(self, caller_id: str) -> None:
        """A caller left for good (dead or silent): drop what we knew of it."""
        self.tenants.pop(caller_id, None)
        self.saturating.pop(caller_id, None)
        self.asked.pop(caller_id, None)

    def tenant_of(self, caller_id: str) -> Tenant:
        return self.tenants.get(caller_id, DEFAULT_TENANT)

    def client_of(self, caller_id: str) -> str:
        return _client_key(caller_id, self.tenant_of(caller_id))

    def record_grant(self, now: float, caller_id: str, share: float) -> None:
        """Count a grant of ``share`` (of ``rate * window``) for the caller's client."""
        tenant = self.tenant_of(caller_id)
        self._grants.append((now, tenant.level, _client_key(caller_id, tenant), share))
        self._expire(now)

    def _expire(self, now: float) -> None:
        while self._grants and now - self._grants[0][0] > self.window:
            self._grants.popleft()

    def used(self, now: float) -> dict[str, float]:
        """Each client's share of the rate over the window."""
        self._expire(now)
        used: dict[str, float] = {}
        for _, _, client, share in self._grants:
            used[client] = used.get(client, 0.0) + share
        return used

    def levels_present(self, callers: Iterable[str], now: float) -> set[int]:
        """Levels of the competing ``callers`` and of every grant in the window.

        A client sending one prompt now and then is between leases most of the time:
        its class still counts as present while it was granted anything in the window.
        """
        self._expire(now)
        return {self.tenant_of(c).level for c in callers} | {lv for _, lv, _, _ in self._grants}

    def entitlements(self, callers: Iterable[str], now: float) -> dict[str, float]:
        """Each active client's entitlement ``e_x`` (a fraction of the rate)."""
        used = self.used(now)
        level: dict[str, int] = {}
        weight: dict[str, float] = {}
        demand: dict[str, float] = {}
        for c in callers:
            tenant = self.tenant_of(c)
            client = _client_key(c, tenant)
            level[client], weight[client] = tenant.level, tenant.weight
            if client not in demand:
                demand[client] = used.get(client, 0.0)
            if self.saturating.get(c, False):
                demand[client] = 1.0
            else:
                demand[client] = min(1.0, demand[client] + self.asked.get(c, 0.0))
        levels = sorted(set(level.values()), reverse=True)
        by_level = {lv: [x for x in level if level[x] == lv] for lv in levels}
        class_demand = {lv: min(1.0, sum(demand[x] for x in by_level[lv])) for lv in levels}
        given: dict[str, float] = {}
        left = 1.0
        for index, lv in enumerate(levels):
            kept = sum(min(self.floor_fraction, class_demand[j]) for j in levels[index + 1 :])
            give = max(0.0, min(class_demand[lv], left - kept))
            members = by_level[lv]
            given.update(
                water_fill(
                    give,
                    {x: demand[x] for x in members},
                    {x: weight[x] for x in members},
                )
            )
            left -= give
        return given

    def cap_for(self, caller_id: str, callers: Iterable[str], now: float) -> float | None:
        """Shares of ``rate * W`` the caller may take now (``None``: no cap): its
        entitlement's (:meth:`entitled_cap`), and a jump's (:meth:`jump_cap`)."""
        callers = list(callers)
        caps = [self.entitled_cap(caller_id, callers, now), self.jump_cap(caller_id, callers, now)]
        known = [cap for cap in caps if cap is not None]
        return min(known) if known else None

    def jump_cap(self, caller_id: str, callers: Iterable[str], now: float) -> float | None:
        """What the priority credit covers, for a caller of the highest of several classes
        that is not saturating (a notebook's few prompts): its lease is cut to what can
        jump the queue at once, rather than wait whole behind the schedule. ``None``
        otherwise, or when the credit holds less than one request."""
        if self.saturating.get(caller_id, False) or caller_id not in self.tenants:
            return None
        level = self.tenant_of(caller_id).level
        levels = self.levels_present(callers, now) | {level}
        if len(levels) < 2 or level < max(levels):
            return None
        covered = math.floor(self.credit["requests"] + 1e-9)
        return covered * self.request_share if covered >= 1 else None

    def jump_size(self, caller_id: str, callers: Iterable[str], now: float) -> int:
        """Requests the caller may take from the priority credit at once, whatever the
        buckets' schedule and the fair share among callers (0: it may not jump)."""
        if self.jump_cap(caller_id, callers, now) is None:
            return 0
        return math.floor(self.credit["requests"] + 1e-9)

    def entitled_cap(self, caller_id: str, callers: Iterable[str], now: float) -> float | None:
        """Shares of ``rate * W`` the caller's client may still take (``None``: no cap).

        A client is held to its entitlement only while another active client is *hungry*
        (saturating and below its entitlement): that one takes whatever is left, so
        holding back leaves nothing idle. Otherwise nobody waits for what it takes, and
        holding it back could leave quota idle.
        """
        if caller_id not in self.tenants:
            return None  # a caller that names no client keeps the plain fair share
        everyone = list(callers)
        callers = [c for c in everyone if c in self.tenants]
        mine = self.client_of(caller_id)
        saturating = {self.client_of(c) for c in callers if self.saturating.get(c, False)} - {mine}
        if not saturating:
            return None
        entitled = self.entitlements(callers, now)
        # The plain fair share gives each of the k callers 1/k. When that alone cannot put
        # us above our entitlement, or already gives every other saturating client its
        # own, no cap is needed (three equal clients, one caller each). Capping anyway
        # would judge us on our recent grants, which at saturation swing by a whole lease
        # around the entitlement: every client was refused at once and the rate went idle.
        natural = self.natural_shares(everyone)
        if natural.get(mine, 0.0) < entitled.get(mine, 0.0) - 1e-9 or all(
            natural.get(x, 0.0) >= entitled.get(x, 0.0) - 1e-9 for x in saturating
        ):
            return None
        used = self.used(now)
        left = entitled.get(mine, 0.0) - used.get(mine, 0.0)
        if not any(used.get(x, 0.0) < entitled.get(x, 0.0) for x in saturating):
            # Nobody hungry: still held near its share, but never refused outright.
            return max(left, self.request_share * IDLE_GUARD_REQUESTS)
        return left

    def natural_shares(self, callers: Iterable[str]) -> dict[str, float]:
        """Each client's part of the rate under the plain fair share (1/k per caller)."""
        per_client = Counter(self.client_of(c) for c in callers)
        k = sum(per_client.values())
        return {client: n / k for client, n in per_client.items()}

    def charge(self, caller_id: str, callers: Iterable[str], costs, t: int, now: float):
        """Take a grant's ``costs`` (``(name, bucket, cost)``) from the buckets, or from the
        priority credit when it jumps the queue; returns ``(ends_in, span)`` (see the
        module doc and "Waiting" in ``_core``)."""
        mine = self.tenant_of(caller_id).level
        levels = self.levels_present(callers, now) | {mine}
        below_top = mine < max(levels)
        several = len(levels) > 1
        # Only clients keep a standing credit: a caller naming none keeps the plain pacing.
        standing = caller_id in self.tenants
        if not several:
            for name, bucket, _ in costs:  # one jump is kept for a newcomer; the rest is rate
                excess = self.credit[name] - (self._standing(name, bucket) if standing else 0.0)
                if excess > 0:
                    bucket.credit(excess)
                    self.credit[name] -= excess
        # The highest class jumps the queue when, in every bucket, the credit held for it
        # covers the grant or the bucket itself has room for it now (a limit far away).
        from_credit = (
            several
            and not below_top
            and any(self.credit[nm] >= c for nm, _, c in costs)
            and all(self.credit[nm] >= c or b.level >= c for nm, b, c in costs)
        )
        if several and not below_top:
            self.jump_unit = {"requests": 1.0, "tokens": float(t)}  # what one jump costs
        if below_top:
            rho = self.reserve_fraction(mine, now)
        else:  # alone: fill the standing credit of one jump; top of several: hold nothing
            rho = 0.0 if several or not standing else self._min_reserve
        ends_in, span = 0.0, 0.0
        for name, bucket, cost in costs:
            rate = bucket.rate
            span = max(span, cost / rate)
            if from_credit:
                if bucket.level >= cost:
                    bucket.level -= cost  # room now: the credit is kept for the next jump
                else:
                    self.credit[name] -= cost
                ends_in = max(ends_in, cost / rate)
                continue
            ends_in = max(ends_in, cost / rate, (cost - bucket.level) / rate)
            bucket.level -= cost
            # The credit never exceeds one jump or rho * rate: jumps are what overrun the
            # rate for a moment, so that bounds the overrun.
            most = (
                max(self.jump_unit[name], rho * rate) if several else self._standing(name, bucket)
            )
            surplus = min(cost * rho, max(0.0, most - self.credit[name])) if rho else 0.0
            self.credit[name] += surplus
            bucket.level -= surplus
        return ends_in, span

    def _standing(self, name: str, bucket) -> float:
        """The standing credit a lone class keeps in one bucket (see the module doc)."""
        return max(self.jump_unit[name], self._min_reserve * bucket.rate)

    def reserve_fraction(self, level: int, now: float) -> float:
        """``rho``: the share held back from ``level`` for the classes above it."""
        self._expire(now)
        above = sum(share for _, lv, _, share in self._grants if lv > level)
        return min(self._max_reserve, max(self._min_reserve, 2.0 * above))
