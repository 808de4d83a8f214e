"""How a :class:`~deluge_ray.ratelimit._lease_client.LeaseClient` reaches its limiter.

:class:`LimiterLike` is all a ``LeaseClient`` needs (one async ``lease`` call): tests give it
an in-process ``LimiterCore``; :class:`ActorLimiter` adapts a ``RateLimiter`` actor handle,
turning Ray's "the actor is not there" errors into :class:`LimiterUnavailable`, which the
client answers by asking again while the actor restarts.
"""

from __future__ import annotations

from typing import Any, Protocol

from ._holders import announce_holder
from ._priority import Tenant
from ._records import Lease, UsageReport

__all__ = ["ActorLimiter", "LimiterLike", "LimiterUnavailable"]


class LimiterUnavailable(Exception):
    """The limiter could not answer (it is restarting, or its node is gone): ask again."""


class LimiterLike(Protocol):
    """What a LeaseClient needs from a limiter: one async ``lease`` method."""

    async def lease(
        self,
        caller_id: str,
        want_requests: int,
        tokens_per_request: int,
        report: UsageReport | None,
    ) -> Lease: ...


class ActorLimiter:
    """Adapts a ``RateLimiter`` actor handle to :class:`LimiterLike`."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._announced: str | None = None  # the limiter instance told which process we are

    async def lease(
        self,
        caller_id: str,
        want_requests: int,
        tokens_per_request: int,
        report: UsageReport | None,
        *tenant: Tenant,
    ) -> Lease:
        from ray.exceptions import NodeDiedError, ObjectLostError, RayActorError, RaySystemError

        try:
            # Awaiting the ObjectRef yields to the event loop; ray.get would block it.
            lease = await self._handle.lease.remote(
                caller_id, want_requests, tokens_per_request, report, *tenant
            )
        except (RayActorError, ObjectLostError, NodeDiedError, RaySystemError) as exc:
            # The actor restarts (max_restarts=-1), on another node if its node was lost
            # (RayActorError covers ActorDiedError and ActorUnavailableError): the caller
            # retries; never a failed request.
            raise LimiterUnavailable(
                f"the rate limiter did not answer ({type(exc).__name__})"
            ) from exc
        if lease.incarnation != self._announced:  # once per limiter instance: see _holders
            self._announced = lease.incarnation
            announce_holder(self._handle, caller_id)
        return lease
