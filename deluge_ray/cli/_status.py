"""``deluge-ray status``: every RateLimiter of a running cluster, as tables.

Which cluster (:func:`which_cluster`): ``--address``, else ``RAY_ADDRESS``, else a cluster
already running on this machine. It never starts one: with none found or reachable it
says so in one line and exits with status 1. Each limiter prints its limits (configured,
learned from the provider, in force), the last minute's net requests and tokens, slots in
flight and free, the cooldown, 429s, the key budget, then one row per client (its name,
priority, share of the last minute, slots, 429s and spend). ``--watch`` redraws every
few seconds until Ctrl-C.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from ..errors import RuntimeUnavailableError
from ..ratelimit._priority import PRIORITY_CLASSES
from ..ratelimit._status import LimiterStatus

__all__ = ["render_status", "run_status", "which_cluster"]

EXIT_NO_CLUSTER = 1
_CLASS_NAMES = {level: name for name, level in PRIORITY_CLASSES.items()}


def _local_cluster() -> str | None:
    """The address of the cluster `ray start` last started on this machine, if any."""
    try:
        from ray._private.services import find_bootstrap_address

        return find_bootstrap_address(None)
    except Exception:  # no record, unreadable temp dir, an older Ray: no local cluster
        return None


def _local_head() -> dict[str, Any] | None:
    """This machine's deluge_ray head (``deluge-ray up``, or the first client's), if running."""
    from ..client._local_head import describe_local_head

    try:
        return describe_local_head()
    except Exception:  # an unreadable state dir is "no head", not a traceback
        return None


def which_cluster(address: str | None) -> str | None:
    """The address ``deluge-ray status`` reads: ``address``, else ``RAY_ADDRESS``, else this
    machine's deluge_ray head, else a cluster ``ray start`` made on this machine; ``None``
    when there is none (it never starts one).
    """
    if address:
        return address
    from_env = os.environ.get("RAY_ADDRESS", "").strip()
    if from_env:
        return from_env
    head = _local_head()
    if head is not None:
        return str(head["address"])
    return _local_cluster()


def _describe_target(target: str) -> str:
    """``target`` for the title line; this machine's head says how long it has left."""
    head = _local_head()
    if head is None or head["address"] != target:
        return target
    idle = head["idle_timeout_s"]
    stops = "never stops by itself" if idle is None else f"stops after {idle:.0f} s idle"
    drivers = "?" if head["drivers"] is None else head["drivers"]
    return (
        f"this machine's local head at {target} (up {head['uptime_s']:.0f} s, "
        f"{drivers} driver(s) connected, {stops}; `deluge-ray down` stops it)"
    )


def _num(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.0f}{unit}"


def _usd(value: float | None) -> str:
    if value is None:
        return "—"
    # Test runs and cheap models spend fractions of a cent: keep them visible.
    return f"${value:,.4f}" if value == 0 or abs(value) >= 0.01 else f"${value:.6f}"


def _limit(status: LimiterStatus, dim: str) -> str:
    effective = getattr(status, f"effective_{dim}")
    configured = getattr(status, f"configured_{dim}")
    learned = getattr(status, f"learned_{dim}")
    if effective is None:
        return "unlimited"
    return f"{effective:,.0f} (configured {_num(configured)}, learned {_num(learned)})"


def _limiter_table(status: LimiterStatus) -> Any:
    from rich.table import Table

    models = ", ".join(status.models) or "—"
    table = Table(title=f"{status.name}  ({models})", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    window = f"last {status.window_s:.0f} s"
    slots = f"{status.in_flight:,} in flight"
    if status.free_slots is not None:
        slots += f", {status.free_slots:,} free of {status.max_concurrent:,}"
    rows = [
        ("requests/min", _limit(status, "rpm")),
        ("tokens/min", _limit(status, "tpm")),
        (
            "rate",
            f"{status.request_rate:,.0f} req/min, {status.token_rate:,.0f} tok/min ({window})",
        ),
        ("slots", slots),
        ("cooldown", f"{status.cooldown_s:.1f} s" if status.cooldown_s > 0 else "none"),
        ("429s", f"{status.rate_limited:,} ({window}), {status.rate_limited_total:,} in all"),
    ]
    if status.key_budget_usd is not None:
        rows.append(
            ("key budget", f"{_usd(status.key_spend_usd)} of {_usd(status.key_budget_usd)}")
        )
    for label, value in rows:
        table.add_row(label, value)
    return table


def _clients_table(status: LimiterStatus) -> Any:
    from rich.table import Table

    table = Table(title=f"clients of {status.name}", title_justify="left")
    for heading in ("client", "priority", "share", "requests", "tokens", "slots", "429s", "spend"):
        table.add_column(heading, justify="left" if heading == "client" else "right")
    for client in status.clients:
        spend = _usd(client.spend_usd)
        if client.budget_usd is not None:
            spend += f" of {_usd(client.budget_usd)}"
        table.add_row(
            client.name,
            _CLASS_NAMES.get(client.priority, str(client.priority)),
            f"{client.share:.0%}",
            f"{client.requests:,}",
            f"{client.tokens:,}",
            f"{client.slots_held:,}",
            f"{client.rate_limited:,}",
            spend,
        )
    return table


def render_status(statuses: Sequence[LimiterStatus], where: str) -> Any:
    """A rich renderable of ``statuses`` (an empty cluster says so)."""
    from rich.console import Group
    from rich.text import Text

    if not statuses:
        return Text(
            f"no RateLimiter on the Ray cluster at {where} (no deluge_ray client has used it)"
        )
    parts: list[Any] = [Text(f"Ray cluster: {where}")]
    for status in sorted(statuses, key=lambda s: s.name):
        parts.append(_limiter_table(status))
        if status.clients:
            parts.append(_clients_table(status))
    return Group(*parts)


def _connect(address: str | None) -> tuple[Any, str] | None:
    """``(ray, where)`` connected to the chosen cluster; ``None`` when there is none."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():  # already connected (an embedding program)
        return ray, "the one this process is connected to"
    target = which_cluster(address)
    if target is None:
        return None
    from ..client._runtime import ensure_ray

    where = _describe_target(target)  # before joining: its count of drivers is of others
    return ensure_ray(target), where


def run_status(
    address: str | None,
    watch: float | None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rounds: int | None = None,
    width: int | None = None,
) -> int:
    """Print the status once, or every ``watch`` seconds (``rounds`` times, or until Ctrl-C).

    ``out`` / ``width``: where to print and how wide (default: the terminal).
    Returns the exit status: 0, or 1 when no cluster is found or reachable.
    """
    from rich.console import Console

    from ..client._limiter_status import collect_limiter_status

    err = err or sys.stderr
    try:
        connected = _connect(address)
    except RuntimeUnavailableError as exc:
        print(f"deluge-ray: no Ray cluster reachable: {exc}", file=err)
        return EXIT_NO_CLUSTER
    if connected is None:
        print(
            "deluge-ray: no Ray cluster found on this machine; give --address, set "
            "RAY_ADDRESS, or start the local head with `deluge-ray up` (`deluge-ray status` "
            "never starts one)",
            file=err,
        )
        return EXIT_NO_CLUSTER
    ray, where = connected
    console = Console(file=out, width=width) if out is not None else Console(width=width)
    if watch is None:
        console.print(render_status(collect_limiter_status(ray), where))
        return 0
    from rich.live import Live

    done = 0
    with Live(console=console, auto_refresh=False) as live:
        try:
            while rounds is None or done < rounds:
                live.update(render_status(collect_limiter_status(ray), where), refresh=True)
                done += 1
                if rounds is None or done < rounds:
                    sleep(watch)
        except KeyboardInterrupt:
            pass
    return 0
