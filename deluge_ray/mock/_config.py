"""Configuration of the mock provider: rate limits, latency, faults and model behaviour.

Everything is a plain dataclass so a config can be built in a test, printed, and copied.

    >>> cfg = MockConfig(limits=Limits(rpm=600), latency=Latency.fixed(20), seed=1)
    >>> cfg.limits.rpm
    600
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal

from ..errors import ConfigurationError

__all__ = ["BATCH_OUTCOMES", "FAULT_KINDS", "Faults", "Latency", "Limits", "MockConfig"]

#: How the mock ends a batch job (``MockConfig.batch_outcome``).
BATCH_OUTCOMES = ("completed", "failed", "expired")


def _check_non_negative(name: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise ConfigurationError(f"{name} must be >= 0 (got {value!r}).")


@dataclass(frozen=True)
class Limits:
    """Rate limits enforced per API key and model, like a provider's tier.

    ``rpm``/``tpm`` are per-minute figures (``None`` means unlimited). ``input_tpm`` and
    ``output_tpm`` are Anthropic-style separate token limits. ``burst_seconds`` is how much
    of the per-minute rate may arrive at once: providers quantize a minute's quota into
    short buckets, so a client that bursts a whole minute of requests is mostly refused.
    """

    rpm: float | None = None
    tpm: float | None = None
    input_tpm: float | None = None
    output_tpm: float | None = None
    max_concurrent: int | None = None
    burst_seconds: float = 1.0

    def __post_init__(self) -> None:
        for name in ("rpm", "tpm", "input_tpm", "output_tpm", "max_concurrent"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigurationError(
                    f"Limits.{name} must be a positive number or None for unlimited (got {value!r})."
                )
        if self.burst_seconds <= 0:
            raise ConfigurationError(
                f"Limits.burst_seconds must be > 0 (got {self.burst_seconds!r})."
            )

    @property
    def max_admitted_in_one_second(self) -> float | None:
        """The most requests ``rpm`` admits within any one second (``None``: unlimited).

        A full bucket (``burst_seconds`` of rate) plus one second of refill: at 9,000 RPM
        that is 150 + 150 = 300, twice the 150/s average, which is what providers' short
        windows allow too. This, not ``rpm / 60``, is what a per-second peak of admitted
        requests can be checked against.

        >>> Limits(rpm=9_000).max_admitted_in_one_second
        300.0
        """
        if self.rpm is None:
            return None
        rate = self.rpm / 60.0
        return max(1.0, rate * self.burst_seconds) + rate

    @property
    def unlimited(self) -> bool:
        """True when no limit at all is configured (the fast path)."""
        return all(
            getattr(self, n) is None
            for n in ("rpm", "tpm", "input_tpm", "output_tpm", "max_concurrent")
        )


@dataclass(frozen=True)
class Latency:
    """Server-side delay before a response (and per-token pacing for streams).

    ``median_ms`` is the typical delay. With ``p99_ms`` set, delays are lognormal with that
    median and 99th percentile (a realistic long tail); otherwise every request waits
    exactly ``median_ms``. Streams wait ``ttft_ms`` before the first token frame and
    ``inter_token_ms`` between frames.
    """

    median_ms: float = 0.0
    p99_ms: float | None = None
    ttft_ms: float = 0.0
    inter_token_ms: float = 0.0

    def __post_init__(self) -> None:
        for name in ("median_ms", "p99_ms", "ttft_ms", "inter_token_ms"):
            _check_non_negative(f"Latency.{name}", getattr(self, name))
        if self.p99_ms is not None and self.p99_ms < self.median_ms:
            raise ConfigurationError(
                f"Latency.p99_ms ({self.p99_ms}) must be >= median_ms ({self.median_ms})."
            )

    @classmethod
    def fixed(cls, ms: float, *, ttft_ms: float = 0.0, inter_token_ms: float = 0.0) -> Latency:
        """Every request waits exactly ``ms`` milliseconds."""
        return cls(median_ms=ms, ttft_ms=ttft_ms, inter_token_ms=inter_token_ms)

    @classmethod
    def lognormal(
        cls, median_ms: float, p99_ms: float, *, ttft_ms: float = 0.0, inter_token_ms: float = 0.0
    ) -> Latency:
        """Lognormal delays with the given median and 99th percentile."""
        return cls(
            median_ms=median_ms, p99_ms=p99_ms, ttft_ms=ttft_ms, inter_token_ms=inter_token_ms
        )

    def sample_seconds(self, rng: random.Random) -> float:
        """Draw one delay in seconds."""
        if self.median_ms <= 0:
            return 0.0
        if self.p99_ms is None or self.p99_ms == self.median_ms:
            return self.median_ms / 1000.0
        # ln(X) ~ N(mu, sigma); the median is e^mu and the p99 is e^(mu + 2.326 sigma).
        mu = math.log(self.median_ms)
        sigma = (math.log(self.p99_ms) - mu) / 2.3263478740408408
        return rng.lognormvariate(mu, sigma) / 1000.0


FAULT_KINDS = (
    "server_error",  # 500
    "unavailable",  # 503
    "overloaded",  # 529
    "connection_reset",
    "hang",
    "malformed_json",
    "truncated_stream",
)


@dataclass(frozen=True)
class Faults:
    """Probabilities (0-1, summing to at most 1) of injecting each fault into a request.

    ``hang`` holds the request for ``hang_seconds`` (set it past the client's timeout) and
    then closes the connection. ``truncated_stream`` cuts a streamed response off halfway; on
    a non-streamed request it sends half of the JSON body, like ``malformed_json``.
    """

    server_error: float = 0.0
    unavailable: float = 0.0
    overloaded: float = 0.0
    connection_reset: float = 0.0
    hang: float = 0.0
    malformed_json: float = 0.0
    truncated_stream: float = 0.0
    hang_seconds: float = 30.0

    def __post_init__(self) -> None:
        total = 0.0
        for kind in FAULT_KINDS:
            rate = getattr(self, kind)
            if not 0.0 <= rate <= 1.0:
                raise ConfigurationError(f"Faults.{kind} must be between 0 and 1 (got {rate!r}).")
            total += rate
        if total > 1.0 + 1e-9:
            raise ConfigurationError(f"Fault rates sum to {total:g}; they must sum to at most 1.")
        _check_non_negative("Faults.hang_seconds", self.hang_seconds)

    @classmethod
    def spread(cls, rate: float, **overrides: float) -> Faults:
        """Split ``rate`` evenly over the retryable server errors (500, 503, 529)."""
        share = rate / 3.0
        values = {"server_error": share, "unavailable": share, "overloaded": share}
        values.update(overrides)
        return cls(**values)

    def pick(self, rng: random.Random) -> str | None:
        """Choose the fault for one request (or ``None``), consuming one random draw."""
        draw = rng.random()
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += getattr(self, kind)
            if draw < edge:
                return kind
        return None


@dataclass
class MockConfig:
    """Everything that shapes the mock provider's behaviour.

    ``model_limits`` overrides ``limits`` for particular model names. ``known_models``
    (when set) makes the server refuse any other model name with the provider's
    "model not found" error; by default every model name is accepted.
    ``require_auth`` makes requests without a key header fail with 401.

    ``batch_outcome`` decides how batch jobs created from now on end, with the provider's
    own shapes: ``"completed"`` (every request runs); ``"failed"`` (OpenAI: the job fails
    validation with ``errors.data`` naming ``token_limit_exceeded``; Anthropic, which has
    no failed job state: every request is ``errored`` with an ``api_error``); ``"expired"``
    (the first half of the requests run, the rest expire: OpenAI writes them to the error
    file with code ``batch_expired`` and the job ends ``expired``; Anthropic gives them
    result type ``expired``).
    """

    limits: Limits = field(default_factory=Limits)
    model_limits: dict[str, Limits] = field(default_factory=dict)
    latency: Latency = field(default_factory=Latency)
    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    known_models: frozenset[str] | None = None
    require_auth: bool = True
    embedding_dimensions: int = 256
    batch_seconds: float = 0.05
    batch_outcome: Literal["completed", "failed", "expired"] = "completed"

    def __post_init__(self) -> None:
        if self.batch_outcome not in BATCH_OUTCOMES:
            raise ConfigurationError(
                f"MockConfig.batch_outcome must be one of {list(BATCH_OUTCOMES)} "
                f"(got {self.batch_outcome!r})."
            )
        if self.known_models is not None:
            self.known_models = frozenset(self.known_models)
        if self.embedding_dimensions <= 0:
            raise ConfigurationError(
                f"MockConfig.embedding_dimensions must be positive (got {self.embedding_dimensions})."
            )

    def limits_for(self, model: str) -> Limits:
        """The limits that apply to ``model``."""
        return self.model_limits.get(model, self.limits)
