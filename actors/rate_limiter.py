"""The ``RateLimiter`` actor: one per provider and API key, shared by the whole cluster.

Only the Ray shell: the class is :class:`deluge_ray.ratelimit._service.LimiterService`
(a plain class around :class:`deluge_ray.ratelimit._core.LimiterCore`, where all the
logic and its documentation live), wrapped here with its actor options. Callers talk to it through
:class:`deluge_ray.ratelimit._lease_client.LeaseClient`, about once per block of requests.

Sharing. :func:`get_rate_limiter` gets or creates the actor named
``limiter:{provider}:{key_fingerprint}`` in the ``deluge_ray`` namespace, so every driver
using the same key shares one limiter. The actor is detached: it outlives the driver that
made it, since other drivers may still use it. When it already exists, the limits passed
are applied to it: *the last writer wins* (``None`` leaves a limit as it is).
:func:`aget_rate_limiter` is the same for async code.

Restarts. ``max_restarts=-1`` brings a lost actor back; Ray re-runs the constructor with
the arguments it was *created* with, so the limits are those of the creator (later
:meth:`set_limits` calls are lost until the next :func:`get_rate_limiter` re-applies them).
The new instance knows it was reconstructed and starts conservatively, with a new
incarnation id that tells callers to drop what they hold from the old one (the rule is in
``LimiterCore``'s docstring). The key budget's spend is the exception: it is written to the
SQLite file ``spend_file_path(name)`` on the actor's node and read back by the new
instance (see ``deluge_ray.ratelimit._budget``). ``max_task_retries=-1`` lets a lease call
issued during a restart wait for the new instance; one that still fails is retried by the
``LeaseClient``.

Placement. The limiter is a control-plane actor: created on the head node by default (a soft
affinity: elsewhere when the head cannot take it), overridable with
``DELUGE_RAY_CONTROL_NODE`` or ``placement=`` (see :mod:`deluge_ray.actors._placement`).

>>> import ray  # doctest: +SKIP
>>> limiter = get_rate_limiter("openai", key_fingerprint("sk-..."), rpm=3000, tpm=None,
...                            max_concurrent=None)  # doctest: +SKIP
>>> ray.get(limiter.stats.remote())["rpm"]  # doctest: +SKIP
3000

Status. ``status()`` returns a :class:`~deluge_ray.ratelimit._status.LimiterStatus`
snapshot (limits, last minute's rates, slots, cooldown, 429s, and each client with its
priority, share and spend): what ``deluge-ray status`` prints. With metrics available
(:mod:`deluge_ray.metrics`) the actor also sets its gauges every few seconds.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import ray

from deluge_ray._constants import RAY_NAMESPACE
from deluge_ray._process_gc import tune_server_gc
from deluge_ray.actors._placement import control_placement
from deluge_ray.errors import ConfigurationError
from deluge_ray.metrics import LIMITER_TICK_S, limiter_gauges
from deluge_ray.ratelimit._budget import spend_file_path
from deluge_ray.ratelimit._holders import ray_dead_holders
from deluge_ray.ratelimit._service import LimiterService, check_limits

__all__ = ["RateLimiter", "aget_rate_limiter", "get_rate_limiter", "limiter_name"]

# What deluge_ray._secrets.key_fingerprint produces. Anything else might be a raw key,
# which must never become part of an actor name (names show up in the dashboard and logs).
_FINGERPRINT = re.compile(r"^(?:[0-9a-f]{12}|nokey)$")
_PROVIDER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class _ReconstructableLimiter(LimiterService):
    """``LimiterService`` told by Ray whether this instance replaces a lost one."""

    def __init__(
        self, rpm: float | None, tpm: float | None, max_concurrent: int | None, name: str = ""
    ) -> None:
        tune_server_gc()  # this process is the actor's alone: see deluge_ray._process_gc
        restarted = ray.get_runtime_context().was_current_actor_reconstructed
        # The key budget's spend lives in a file on this node, so a restart keeps it.
        spend_path = spend_file_path(name) if name else None
        super().__init__(
            rpm,
            tpm,
            max_concurrent,
            restarted=restarted,
            spend_path=spend_path,
            name=name,
            gauges=limiter_gauges(name) if name else None,  # None when metrics are off
            tick_s=LIMITER_TICK_S,
            # A holder killed without a word (a SIGKILLed driver's callers) gives its
            # slots back within seconds instead of after slot_reclaim_seconds.
            holder_probe=ray_dead_holders,
        )


# max_task_retries=-1: a lease call caught by a restart waits for the new instance (a lease
# granted twice at worst leaves capacity unused, never over the limit).
RateLimiter = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1, max_concurrency=1000)(
    _ReconstructableLimiter
)
"""The ``RateLimiter`` actor class (``LimiterService`` wrapped by Ray)."""


def limiter_name(provider: str, key_fingerprint: str) -> str:
    """The actor name of the limiter for ``provider`` and a key's fingerprint.

    >>> limiter_name("openai", "0123456789ab")
    'limiter:openai:0123456789ab'
    """
    if not _PROVIDER.match(provider):
        raise ConfigurationError(f"invalid provider name for a rate limiter: {provider!r}")
    if not _FINGERPRINT.match(key_fingerprint):
        # Do not echo the value: it may be the key itself.
        raise ConfigurationError(
            "key_fingerprint must come from deluge_ray._secrets.key_fingerprint "
            "(12 hex digits or 'nokey'); never pass the API key itself"
        )
    return f"limiter:{provider}:{key_fingerprint}"


def _get_or_create(
    provider: str,
    key_fingerprint: str,
    rpm: float | None,
    tpm: float | None,
    max_concurrent: int | None,
    placement: str | None = None,
) -> tuple[Any, Any]:
    check_limits(rpm, tpm, max_concurrent)
    name = limiter_name(provider, key_fingerprint)
    handle = RateLimiter.options(
        name=name,
        namespace=RAY_NAMESPACE,
        get_if_exists=True,
        lifetime="detached",
        **control_placement(placement),
    ).remote(rpm, tpm, max_concurrent, name)
    # For a limiter that already existed the constructor arguments were ignored: apply the
    # limits (last writer wins). For a new limiter this is a no-op.
    return handle, handle.set_limits.remote(rpm, tpm, max_concurrent)


def get_rate_limiter(
    provider: str,
    key_fingerprint: str,
    *,
    rpm: float | None,
    tpm: float | None,
    max_concurrent: int | None,
    placement: str | None = None,
) -> Any:
    """Get or create the shared limiter for ``provider`` + key, and apply these limits.

    ``placement`` (``"head"``, ``"any"``, ``"resource:NAME"`` or a node id) says where a new limiter goes;
    ``None`` reads ``DELUGE_RAY_CONTROL_NODE`` (default: the head node).

    Needs a connected Ray. Outside an event loop it waits until the limits are in force;
    inside a running loop it must not block, so the limits are applied in the background
    (Ray does not order calls to an async actor, so a lease sent at once may still see the
    old limits): use :func:`aget_rate_limiter` there when that matters.
    """
    handle, applied = _get_or_create(provider, key_fingerprint, rpm, tpm, max_concurrent, placement)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        ray.get(applied)
    return handle


async def aget_rate_limiter(
    provider: str,
    key_fingerprint: str,
    *,
    rpm: float | None,
    tpm: float | None,
    max_concurrent: int | None,
    placement: str | None = None,
) -> Any:
    """:func:`get_rate_limiter` for async code: returns once the limits are in force."""
    handle, applied = _get_or_create(provider, key_fingerprint, rpm, tpm, max_concurrent, placement)
    await applied
    return handle
