"""Header parsing for the formats OpenAI and Anthropic really send."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deluge_ray.ratelimit._headers import (
    RateLimitObservation,
    parse_duration,
    read_rate_limit_headers,
)

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("1h2m3.5s", 3723.5),
        ("0s", 0.0),
        ("17.303s", 17.303),
        ("2", 2.0),
        ("", None),
        ("soon", None),
        ("1s garbage", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    got = parse_duration(text)
    assert got == pytest.approx(seconds) if seconds is not None else got is None


def test_openai_headers_case_insensitive() -> None:
    obs = read_rate_limit_headers(
        {
            "X-RateLimit-Limit-Requests": "3000",
            "x-ratelimit-limit-tokens": "250000",
            "X-Ratelimit-Remaining-Requests": "2999",
            "x-ratelimit-remaining-tokens": "249980",
            "x-ratelimit-reset-requests": "20ms",
            "x-ratelimit-reset-tokens": "6m0s",
        },
        now=NOW,
    )
    assert obs == RateLimitObservation(
        limit_requests=3000,
        remaining_requests=2999,
        reset_requests=0.02,
        limit_tokens=250000,
        remaining_tokens=249980,
        reset_tokens=360.0,
    )


def test_anthropic_headers_with_rfc3339_resets() -> None:
    in_30s = (NOW + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    obs = read_rate_limit_headers(
        {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": in_30s,
            "anthropic-ratelimit-tokens-limit": "40000",
            "anthropic-ratelimit-tokens-remaining": "39000",
            "anthropic-ratelimit-tokens-reset": (NOW + timedelta(seconds=2)).isoformat(),
            "anthropic-ratelimit-input-tokens-limit": "30000",
            "anthropic-ratelimit-input-tokens-remaining": "29500",
            "anthropic-ratelimit-input-tokens-reset": in_30s,
            "anthropic-ratelimit-output-tokens-limit": "10000",
            "anthropic-ratelimit-output-tokens-remaining": "9500",
            "Anthropic-RateLimit-Output-Tokens-Reset": (NOW - timedelta(seconds=5)).isoformat(),
            "retry-after": "30",
        },
        now=NOW,
    )
    assert (obs.limit_requests, obs.remaining_requests) == (50, 0)
    assert obs.reset_requests == pytest.approx(30.0)
    assert (obs.limit_tokens, obs.remaining_tokens, obs.reset_tokens) == (40000, 39000, 2.0)
    assert (obs.limit_input_tokens, obs.remaining_input_tokens) == (30000, 29500)
    assert obs.reset_input_tokens == pytest.approx(30.0)
    assert (obs.limit_output_tokens, obs.remaining_output_tokens) == (10000, 9500)
    assert obs.reset_output_tokens == 0.0  # a reset in the past means "now", never negative
    assert obs.retry_after == 30.0


def test_retry_after_ms_wins_over_retry_after() -> None:
    obs = read_rate_limit_headers({"Retry-After-Ms": "250", "Retry-After": "3"}, now=NOW)
    assert obs.retry_after == 0.25


def test_retry_after_http_date() -> None:
    obs = read_rate_limit_headers({"Retry-After": "Thu, 02 Jan 2025 03:04:17 GMT"}, now=NOW)
    assert obs.retry_after == pytest.approx(12.0)


def test_absent_or_garbled_headers_give_an_empty_observation() -> None:
    assert read_rate_limit_headers({"content-type": "application/json"}).is_empty()
    obs = read_rate_limit_headers(
        {"x-ratelimit-remaining-requests": "many", "retry-after": "later"}, now=NOW
    )
    assert obs.is_empty()
    assert not read_rate_limit_headers({"retry-after": "0"}, now=NOW).is_empty()


def test_rate_limit_headers_are_found_among_many_others() -> None:
    # Only the rate-limit names are kept (every response passes here); the rest are noise.
    headers = {
        "Content-Type": "application/json",
        "X-Request-Id": "req_1",
        "X-RateLimit-Limit-Tokens": "90000",
        "Anthropic-RateLimit-Requests-Remaining": "7",
        "Retry-After-Ms": "250",
        "Server": "mock",
    }
    obs = read_rate_limit_headers(headers, now=NOW)
    assert (obs.limit_tokens, obs.remaining_requests, obs.retry_after) == (90000, 7, 0.25)
    assert obs.limit_requests is None
