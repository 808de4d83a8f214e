"""deluge_ray's Prometheus metrics, recorded through Ray's own pipeline (``ray.util.metrics``).

Every Ray node exports the metrics of its processes on its metrics port, where Prometheus
(and the Ray dashboard's Grafana) scrape them; ``docs/grafana/deluge_ray.json`` is a ready
dashboard. Ray adds the prefix ``ray_`` (and ``_total`` / ``_bucket`` suffixes) on export.

Recorded where a ProviderCaller finishes prompts (``transport/_caller.py``), once per list
of results it streams back, not once per request (tags ``model``; ``client``, the
client's name, where it helps):

- ``deluge_ray_requests`` (counter; ``model``, ``outcome`` = ``ok`` / ``error``, ``client``):
  prompts answered
- ``deluge_ray_http_requests``, ``deluge_ray_rate_limited``, ``deluge_ray_retries``
  (counters; ``model``): HTTP requests sent, 429s received, retries made
- ``deluge_ray_tokens`` (counter; ``model``, ``kind`` = ``input`` / ``output`` /
  ``cache_read`` / ``cache_write``)
- ``deluge_ray_cost_usd`` (counter; ``model``, ``client``)
- ``deluge_ray_latency_seconds`` (histogram; ``model``): from the caller receiving a
  prompt to its answer (lease wait and retries included)

The model calls of swarm loops, made in SubAgent actors, are recorded there with the same
counters (not ``deluge_ray_requests`` and the latency histogram: a loop's calls are
reported per round, not per request): once per batch of loop events the actor streams
back (:class:`SwarmMetrics`, from ``actors/sub_agent.py``).

Recorded by each RateLimiter every :data:`LIMITER_TICK_S` seconds (tag ``limiter``, the
actor name, which holds a key *fingerprint*, never a key): ``deluge_ray_limiter_level``
(requests in the bucket; negative: promised ahead), ``deluge_ray_limiter_in_flight``,
``deluge_ray_limiter_cooldown_seconds``, ``deluge_ray_limiter_request_rate`` (net requests
per minute), ``deluge_ray_limiter_effective_rpm`` and
``deluge_ray_limiter_budget_remaining_usd`` (the key budget, when one is set) and
``deluge_ray_client_budget_remaining_usd`` (tag ``client``, the client's name: the own
budget, ``budget_usd``, of each client whose budget that limiter keeps).

Nothing is recorded when metrics cannot be exported: without Ray's default extras
(``pip install 'deluge-ray[metrics]'``), outside a Ray worker or driver, or with
``DELUGE_RAY_METRICS=0`` in the environment of the Ray processes (an embedded Ray inherits
the driver's; on a cluster, set it where ``ray start`` runs).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "LIMITER_TICK_S",
    "METRIC_NAMES",
    "LimiterGauges",
    "ResultMetrics",
    "SwarmMetrics",
    "limiter_gauges",
    "metrics_available",
    "result_metrics",
    "swarm_metrics",
]

LIMITER_TICK_S = 5.0  # how often a limiter records its gauges (Prometheus scrapes ~15 s)
LATENCY_BOUNDARIES = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")

_available: bool | None = None
_instruments: dict[str, Any] = {}


def metrics_available() -> bool:
    """Whether recording here reaches an exporter (decided once per process)."""
    global _available
    if _available is None:
        _available = _probe()
    return _available


def _probe() -> bool:
    if os.environ.get("DELUGE_RAY_METRICS", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    import ray

    # Without ray[default] no node runs a metrics agent: recording would go nowhere. Ray
    # decides by importing its optional dependencies (0.5 s and more); finding them is
    # enough here and costs microseconds.
    extras = ("aiohttp_cors", "opencensus", "prometheus_client")
    return ray.is_initialized() and all(importlib.util.find_spec(m) is not None for m in extras)


def _instrument(kind: str, name: str, description: str, tags: tuple[str, ...]) -> Any:
    if name not in _instruments:
        from ray.util import metrics

        if kind == "histogram":
            _instruments[name] = metrics.Histogram(
                name, description, boundaries=LATENCY_BOUNDARIES, tag_keys=tags
            )
        else:
            cls = metrics.Counter if kind == "counter" else metrics.Gauge
            _instruments[name] = cls(name, description, tag_keys=tags)
    return _instruments[name]


def _client_name(spec: Any) -> str:
    tenant = getattr(spec.routes[0], "tenant", None) if spec.routes else None
    return (getattr(tenant, "name", "") or "") if tenant is not None else ""


class ResultMetrics:
    """Records the results of one ``WorkBatch`` as its caller streams them back.

    :meth:`timed` wraps the ``emit`` each prompt's coroutine calls, to note when it was
    answered; :meth:`record` is called once per list yielded and records the list.
    """

    def __init__(self, batch: Any, clock: Callable[[], float] = time.monotonic):
        # Results carry only their item's key: the client's name comes from its spec.
        names = {spec_id: _client_name(spec) for spec_id, spec in batch.specs.items()}
        self._client_of = {item.key: names[item.spec_id] for item in batch.items}
        self._clock = clock
        self._started = clock()
        self._latency: dict[int, float] = {}  # item key -> seconds to its answer

    def timed(self, emit: Callable[[Any], None]) -> Callable[[Any], None]:
        """``emit`` noting each result's latency first."""

        def emit_timed(result: Any) -> None:
            self._latency[result.key] = self._clock() - self._started
            emit(result)

        return emit_timed

    def record(self, results: list[Any]) -> None:
        """Record one list of ``WorkResult`` s: counters summed per tag set, then sent.

        Never raises: a metrics failure must not cost a result.
        """
        with contextlib.suppress(Exception):
            self._record(results)

    def _record(self, results: list[Any]) -> None:
        counts: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

        def add(metric: str, amount: float, **tags: str) -> None:
            if amount:
                key = (metric, tuple(sorted(tags.items())))
                counts[key] = counts.get(key, 0.0) + amount

        latency = _instrument(
            "histogram", "deluge_ray_latency_seconds", "Seconds to answer a prompt", ("model",)
        )
        for result in results:
            response = result.response
            model = response.model_internal or "unknown"
            client = self._client_of.get(result.key, "")
            outcome = "error" if response.is_error else "ok"
            add("deluge_ray_requests", 1, model=model, outcome=outcome, client=client)
            add("deluge_ray_http_requests", result.requests_sent, model=model)
            add("deluge_ray_rate_limited", result.rate_limited, model=model)
            add("deluge_ray_retries", result.retries, model=model)
            usage = response.usage
            if usage is not None:
                for kind in TOKEN_KINDS:
                    add(
                        "deluge_ray_tokens",
                        getattr(usage, f"{kind}_tokens"),
                        model=model,
                        kind=kind,
                    )
            add("deluge_ray_cost_usd", response.cost or 0.0, model=model, client=client)
            seconds = self._latency.pop(result.key, None)
            if seconds is not None:
                latency.observe(seconds, tags={"model": model})
        for (metric, tags), amount in counts.items():
            names = tuple(name for name, _ in tags)
            _instrument("counter", metric, _DESCRIPTIONS[metric], names).inc(amount, dict(tags))


_DESCRIPTIONS = {
    "deluge_ray_requests": "Prompts answered, by model, outcome and client",
    "deluge_ray_http_requests": "HTTP requests sent to providers",
    "deluge_ray_rate_limited": "429 answers received from providers",
    "deluge_ray_retries": "Requests sent again after an error",
    "deluge_ray_tokens": "Tokens used, by kind (input, output, cache_read, cache_write)",
    "deluge_ray_cost_usd": "US dollars spent, by model and client",
}


def result_metrics(batch: Any) -> ResultMetrics | None:
    """A recorder for one ``WorkBatch`` 's results, or ``None`` when metrics are off."""
    return ResultMetrics(batch) if metrics_available() else None


class SwarmMetrics:
    """Records the model calls of one swarm's loops in a SubAgent, per batch of events."""

    def __init__(self, setup: Any) -> None:
        route = setup.spec.routes[0]
        self._model = route.model.id  # a checkpoint carries no response to name it
        self._client = _client_name(setup.spec)

    def record(self, events: list[Any]) -> None:
        """Record one batch of ``LoopEvent`` s (their ``spent``); never raises."""
        with contextlib.suppress(Exception):
            self._record(events)

    def _record(self, events: list[Any]) -> None:
        totals = {"http": 0, "limited": 0, "retries": 0, "cost": 0.0}
        tokens = dict.fromkeys(TOKEN_KINDS, 0)
        for event in events:
            spent = event.spent
            totals["http"] += spent.requests_sent
            totals["limited"] += spent.rate_limited
            totals["retries"] += spent.retries
            totals["cost"] += spent.cost
            for kind in TOKEN_KINDS:
                tokens[kind] += getattr(spent.usage, f"{kind}_tokens", 0) or 0
        model = {"model": self._model}
        for metric, amount in (
            ("deluge_ray_http_requests", totals["http"]),
            ("deluge_ray_rate_limited", totals["limited"]),
            ("deluge_ray_retries", totals["retries"]),
        ):
            if amount:
                _instrument("counter", metric, _DESCRIPTIONS[metric], ("model",)).inc(amount, model)
        for kind, amount in tokens.items():
            if amount:
                tags = ("kind", "model")
                counter = _instrument("counter", "deluge_ray_tokens", _DESCRIPTIONS["deluge_ray_tokens"], tags)  # fmt: skip
                counter.inc(amount, {"kind": kind, **model})
        if totals["cost"]:
            tags = ("client", "model")
            counter = _instrument("counter", "deluge_ray_cost_usd", _DESCRIPTIONS["deluge_ray_cost_usd"], tags)  # fmt: skip
            counter.inc(totals["cost"], {"client": self._client, **model})


def swarm_metrics(setup: Any) -> SwarmMetrics | None:
    """A recorder for a swarm's model calls in a SubAgent, or ``None`` when metrics are off."""
    return SwarmMetrics(setup) if metrics_available() else None


class LimiterGauges:
    """The gauges one RateLimiter sets on its tick (tag ``limiter``: its actor name)."""

    GAUGES = {
        "deluge_ray_limiter_level": "Requests in the limiter's bucket (negative: promised ahead)",
        "deluge_ray_limiter_in_flight": "Concurrency slots in use",
        "deluge_ray_limiter_cooldown_seconds": "Seconds left in the cooldown after a 429",
        "deluge_ray_limiter_request_rate": "Net requests per minute over the last minute",
        "deluge_ray_limiter_effective_rpm": "Requests-per-minute limit in force",
        "deluge_ray_limiter_budget_remaining_usd": "US dollars left in the key budget",
    }
    CLIENT_GAUGES = {
        "deluge_ray_client_budget_remaining_usd": "US dollars left in a client's own budget",
    }

    def __init__(self, limiter: str) -> None:
        self._tags = {"limiter": limiter}

    def record(self, status: Any) -> None:
        """Set every gauge from a :class:`~deluge_ray.ratelimit._status.LimiterStatus`."""
        values = {
            "deluge_ray_limiter_level": status.level,
            "deluge_ray_limiter_in_flight": status.in_flight,
            "deluge_ray_limiter_cooldown_seconds": status.cooldown_s,
            "deluge_ray_limiter_request_rate": status.request_rate,
            "deluge_ray_limiter_effective_rpm": status.effective_rpm,
            "deluge_ray_limiter_budget_remaining_usd": (
                None
                if status.key_budget_usd is None
                else max(0.0, status.key_budget_usd - (status.key_spend_usd or 0.0))
            ),
        }
        for name, value in values.items():
            if value is not None:
                _instrument("gauge", name, self.GAUGES[name], ("limiter",)).set(value, self._tags)
        name = "deluge_ray_client_budget_remaining_usd"
        for client in status.clients:
            if client.budget_usd is not None and client.spend_usd is not None:
                remaining = max(0.0, client.budget_usd - client.spend_usd)
                gauge = _instrument("gauge", name, self.CLIENT_GAUGES[name], ("client",))
                gauge.set(remaining, {"client": client.name})


METRIC_NAMES = (
    *_DESCRIPTIONS,
    "deluge_ray_latency_seconds",
    *LimiterGauges.GAUGES,
    *LimiterGauges.CLIENT_GAUGES,
)
"""Every metric deluge_ray records (before Ray's ``ray_`` prefix and type suffixes)."""


def limiter_gauges(limiter: str) -> LimiterGauges | None:
    """The gauges of the limiter named ``limiter``, or ``None`` when metrics are off."""
    return LimiterGauges(limiter) if metrics_available() else None
