"""The one retry policy: backoff formula, retry-after parsing, header casing, the decision."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from deluge_ray.api_requests import ErrorKind, classify_error
from deluge_ray.ratelimit import read_rate_limit_headers
from deluge_ray.transport._retry import (
    BACKOFF_BASE_S,
    BACKOFF_CAP_S,
    backoff,
    lower_headers,
    retry_after,
    should_retry,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_backoff_doubles_per_attempt_within_half_jitter() -> None:
    rng = random.Random(7)
    for attempt in range(1, 8):
        ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        delays = [backoff(attempt, None, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        # Jittered: the 200 draws are spread, not one value repeated.
        assert max(delays) - min(delays) > ceiling / 4


def test_backoff_is_capped_however_many_attempts() -> None:
    rng = random.Random(0)
    assert all(backoff(40, None, rng) <= BACKOFF_CAP_S for _ in range(50))
    assert backoff(40, None, rng) >= BACKOFF_CAP_S / 2


def test_backoff_obeys_the_server_but_not_beyond_the_cap() -> None:
    rng = random.Random(0)
    assert backoff(1, 2.5, rng) == 2.5
    assert backoff(5, 0.0, rng) == 0.0
    assert backoff(1, 3600.0, rng) == BACKOFF_CAP_S


def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    first = [backoff(a, None, random.Random(3)) for a in (1, 2, 3)]
    again = [backoff(a, None, random.Random(3)) for a in (1, 2, 3)]
    assert first == again


def test_backoff_rejects_a_zero_attempt() -> None:
    with pytest.raises(ValueError, match="1-based"):
        backoff(0, None, random.Random(0))


def test_lower_headers_lowercases_names_and_keeps_values() -> None:
    assert lower_headers({"Retry-After": "3", "X-Thing": "A"}) == {
        "retry-after": "3",
        "x-thing": "A",
    }
    assert lower_headers(None) == {}


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"retry-after-ms": "1500"}, None, 1.5),
        ({"Retry-After-Ms": "250", "retry-after": "9"}, None, 0.25),  # ms is more precise
        ({"retry-after": "3"}, None, 3.0),
        ({"retry-after": "-4"}, None, 0.0),  # never negative
        ({"retry-after": "Thu, 01 Jan 2026 12:00:30 GMT"}, None, 30.0),
        ({"retry-after": "Thu, 01 Jan 2026 11:00:00 GMT"}, None, 0.0),  # a past date
        ({"retry-after-ms": "soon", "retry-after": "2"}, None, 2.0),  # unreadable ms skipped
        ({"retry-after": "whenever"}, None, None),
        ({}, {"error": {"details": [{"@type": "x"}, {"retryDelay": "31s"}]}}, 31.0),
        ({}, b'{"error": {"details": [{"retryDelay": "0.5s"}]}}', 0.5),
        ({}, b"not json", None),
        ({}, None, None),
    ],
)
def test_retry_after_reads_every_spelling(headers, body, expected) -> None:
    assert retry_after(headers, body, now=NOW) == expected


def test_the_header_reader_and_the_error_classifier_use_the_same_parser() -> None:
    headers = {"Retry-After": "Thu, 01 Jan 2026 12:00:10 GMT"}
    assert read_rate_limit_headers(headers, now=NOW).retry_after == 10.0
    ms = {"retry-after-ms": "1200", "retry-after": "5"}
    assert read_rate_limit_headers(ms).retry_after == 1.2
    assert classify_error(429, ms, b"{}").retry_after == 1.2


def test_should_retry_only_what_a_wait_can_fix() -> None:
    assert should_retry(ErrorKind.RATE_LIMITED) and should_retry(ErrorKind.RETRY)
    assert not should_retry(ErrorKind.RETRY_OTHER_MODEL)
    assert not should_retry(ErrorKind.GIVE_UP)
