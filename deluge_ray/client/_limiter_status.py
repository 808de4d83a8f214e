"""Every RateLimiter's status in the connected cluster: ``LLMClient.limiter_status()``.

Limiters are the named actors ``limiter:{provider}:{key fingerprint}`` in the ``deluge_ray``
namespace; :func:`collect_limiter_status` lists them (no dashboard or state API needed)
and asks each for its :class:`~deluge_ray.ratelimit._status.LimiterStatus`, all at once:
one actor call per limiter. ``deluge-ray status`` prints the same snapshots.
"""

from __future__ import annotations

from typing import Any

from .._constants import RAY_NAMESPACE
from ..ratelimit._status import LimiterStatus

__all__ = ["LimiterStatusMixin", "collect_limiter_status", "limiter_names"]

LIMITER_PREFIX = "limiter:"


def limiter_names(ray: Any) -> list[str]:
    """Names of the RateLimiter actors alive in the cluster ``ray`` is connected to."""
    actors = ray.util.list_named_actors(all_namespaces=True)
    return sorted(
        a["name"]
        for a in actors
        if a.get("namespace") == RAY_NAMESPACE and a["name"].startswith(LIMITER_PREFIX)
    )


def collect_limiter_status(ray: Any, timeout: float = 10.0) -> list[LimiterStatus]:
    """Each limiter's snapshot, by name; one that does not answer within ``timeout`` (being
    restarted, or on a lost node) is left out rather than failing the rest."""
    refs = {}
    for name in limiter_names(ray):
        try:
            refs[name] = ray.get_actor(name, namespace=RAY_NAMESPACE).status.remote()
        except ValueError:  # gone between the listing and the lookup
            continue
    ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout)
    done = set(ready)
    statuses = []
    for ref in refs.values():
        if ref in done:
            try:
                statuses.append(ray.get(ref))
            except Exception:  # a limiter that died answering: nothing to show for it
                continue
    return statuses


class LimiterStatusMixin:
    """``LLMClient.limiter_status()``: what every shared limiter of the cluster is doing."""

    address: str | None

    def limiter_status(self) -> list[LimiterStatus]:
        """A :class:`~deluge_ray.ratelimit._status.LimiterStatus` per RateLimiter in the
        cluster (limits, the last minute's rates, slots, cooldown, 429s, and each client
        with its name, priority, share and spend). Connects to Ray as the client would."""
        from ._runtime import ensure_ray

        return collect_limiter_status(ensure_ray(self.address))
