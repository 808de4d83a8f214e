"""What an LLMClient is to the shared limiters: its identity, priority and budgets.

:func:`client_tenancy` checks the constructor arguments ``priority``, ``budget_usd``,
``key_budget_usd`` and ``key_budget_window`` (a clear error naming the argument, before
anything runs) and returns a :class:`Tenancy`. Its :attr:`Tenancy.tenant` travels with
every lease request (through the ``ModelRoute``), so the RateLimiter knows which client a
caller works for and with what priority (see :mod:`deluge_ray.ratelimit._priority`).

>>> client_tenancy(priority="batch").tenant.level
0
>>> client_tenancy(budget_usd=0)
Traceback (most recent call last):
...
deluge_ray.errors.ConfigurationError: budget_usd must be a positive number of US dollars or None, got 0.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ConfigurationError
from ..ratelimit._priority import Tenant, parse_priority

__all__ = ["Tenancy", "client_tenancy", "default_client_name"]


def default_client_name(argv: list[str] | None = None, pid: int | None = None) -> str:
    """What a client without a chosen ``name`` is called in ``deluge-ray status``.

    The script that made it and its process id, so two runs of one script are told apart.

    >>> default_client_name(["/jobs/nightly.py", "--fast"], pid=42)
    'nightly.py:42'
    >>> default_client_name([], pid=7)
    'python:7'
    """
    argv = sys.argv if argv is None else argv
    script = os.path.basename(argv[0]) if argv and argv[0] else ""
    if script in ("", "-c", "-m") or script.startswith("ipykernel"):
        script = "notebook" if script.startswith("ipykernel") else "python"
    return f"{script}:{os.getpid() if pid is None else pid}"


@dataclass(frozen=True)
class Tenancy:
    """A client's tenant record (id, priority level, weight) and its budgets."""

    tenant: Tenant
    budget_usd: float | None = None
    key_budget_usd: float | None = None
    key_budget_window: float = 86_400.0

    def tenant_for(self, models: Iterable[Any]) -> Tenant:
        """The tenant labelled with the client's models (``APIModel`` s), for the status."""
        pairs = tuple(dict.fromkeys((m.provider, m.id) for m in models))
        return replace(self.tenant, models=pairs)


def _check_positive(name: str, value: object, what: str, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if not ok:
        tail = " or None" if allow_none else ""
        raise ConfigurationError(
            f"{name} must be a positive number of {what}{tail}, got {value!r}."
        )


def client_tenancy(
    *,
    priority: object = "default",
    weight: object = 1.0,
    budget_usd: object = None,
    key_budget_usd: object = None,
    key_budget_window: object = 86_400.0,
    name: str | None = None,
) -> Tenancy:
    """Check the tenancy arguments and give the client a fresh id (see the module doc).

    ``name`` is how the client shows in ``deluge-ray status`` (default: see
    :func:`default_client_name`).
    """
    level = parse_priority(priority)
    _check_positive("weight", weight, "shares", allow_none=False)
    _check_positive("budget_usd", budget_usd, "US dollars")
    _check_positive("key_budget_usd", key_budget_usd, "US dollars")
    _check_positive("key_budget_window", key_budget_window, "seconds", allow_none=False)
    # A random id: two clients of the same name are still two tenants.
    tenant = Tenant(
        client_id=f"client-{uuid.uuid4().hex[:10]}",
        level=level,
        weight=float(weight),  # type: ignore[arg-type]
        name=str(name) if name else default_client_name(),
    )
    return Tenancy(
        tenant=tenant,
        budget_usd=None if budget_usd is None else float(budget_usd),  # type: ignore[arg-type]
        key_budget_usd=None if key_budget_usd is None else float(key_budget_usd),  # type: ignore[arg-type]
        key_budget_window=float(key_budget_window),  # type: ignore[arg-type]
    )
