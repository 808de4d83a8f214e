"""The pure rate-limit windows, driven by an injected clock (no sleeps, no timing flakes)."""

from __future__ import annotations

import pytest

from deluge_ray.mock import Limits, RateWindows


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _send_at_rate(windows, clock, limits, per_second, seconds, tokens=(10, 5), key="k"):
    """Send evenly spaced requests; return (accepted, refused). Requests finish at once."""
    accepted = refused = 0
    interval = 1.0 / per_second
    for _ in range(int(per_second * seconds)):
        decision = windows.admit(key, "m", limits, *tokens)
        if decision.allowed:
            accepted += 1
            windows.release(key, "m")
        else:
            refused += 1
        clock.now += interval
    return accepted, refused


def test_client_at_twice_the_rpm_sees_about_half_refused():
    clock = Clock()
    windows = RateWindows(clock=clock)
    limits = Limits(rpm=600)
    accepted, refused = _send_at_rate(windows, clock, limits, per_second=20, seconds=60)
    assert refused / (accepted + refused) == pytest.approx(0.5, abs=0.02)
    # Over the minute the server admitted its quota plus the one-second burst, no more.
    assert accepted <= 600 + 10 + 1


def test_paced_client_at_95_percent_is_never_refused():
    clock = Clock()
    windows = RateWindows(clock=clock)
    accepted, refused = _send_at_rate(windows, clock, Limits(rpm=600), per_second=9.5, seconds=60)
    assert refused == 0
    assert accepted == 570


def test_bursting_a_minutes_quota_at_once_is_mostly_refused():
    clock = Clock()
    windows = RateWindows(clock=clock)
    limits = Limits(rpm=600)
    results = [windows.admit("k", "m", limits, 1, 1).allowed for _ in range(600)]
    assert sum(results) == 10  # one second's worth
    refused = windows.admit("k", "m", limits, 1, 1)
    assert refused.reason == "requests"
    assert refused.retry_after == pytest.approx(0.1)
    clock.now += 0.1
    assert windows.admit("k", "m", limits, 1, 1).allowed


def test_limits_are_per_key_and_model():
    clock = Clock()
    windows = RateWindows(clock=clock)
    limits = Limits(rpm=60)
    assert windows.admit("a", "m", limits, 1, 1).allowed
    assert not windows.admit("a", "m", limits, 1, 1).allowed
    assert windows.admit("b", "m", limits, 1, 1).allowed
    assert windows.admit("a", "other", limits, 1, 1).allowed


def test_token_limit_counts_input_plus_output_and_reports_wait():
    clock = Clock()
    windows = RateWindows(clock=clock)
    limits = Limits(tpm=6000)  # 100 tokens/s, bucket of 100
    assert windows.admit("k", "m", limits, 60, 30).allowed
    refused = windows.admit("k", "m", limits, 10, 10)
    assert not refused.allowed and refused.reason == "tokens"
    assert refused.retry_after == pytest.approx(0.1)  # 10 short at 100/s
    clock.now += refused.retry_after
    assert windows.admit("k", "m", limits, 10, 10).allowed


def test_request_larger_than_the_bucket_is_admitted_when_full_then_pays_it_back():
    clock = Clock()
    windows = RateWindows(clock=clock)
    limits = Limits(tpm=600)  # 10 tokens/s
    assert windows.admit("k", "m", limits, 50, 0).allowed  # drives the bucket to -40
    refused = windows.admit("k", "m", limits, 1, 0)
    assert refused.retry_after == pytest.approx(4.1)


def test_separate_input_and_output_token_limits():
    clock = Clock()
    windows = RateWindows(clock=clock)
    limits = Limits(input_tpm=60_000, output_tpm=600)
    assert windows.admit("k", "m", limits, 500, 10).allowed
    refused = windows.admit("k", "m", limits, 5, 5)
    assert refused.reason == "output_tokens"


def test_concurrency_cap_frees_a_slot_on_release():
    clock = Clock()
    windows = RateWindows(clock=clock)
    limits = Limits(max_concurrent=2)
    assert windows.admit("k", "m", limits, 1, 1).allowed
    assert windows.admit("k", "m", limits, 1, 1).allowed
    refused = windows.admit("k", "m", limits, 1, 1)
    assert refused.reason == "concurrency" and refused.retry_after > 0
    windows.release("k", "m")
    assert windows.admit("k", "m", limits, 1, 1).allowed


def test_readings_report_minute_usage_for_headers():
    clock = Clock()
    windows = RateWindows(clock=clock)
    limits = Limits(rpm=600, tpm=60_000)
    decision = None
    for _ in range(5):
        decision = windows.admit("k", "m", limits, 100, 20)
        windows.release("k", "m")
    assert decision.readings["requests"].limit == 600
    assert decision.readings["requests"].remaining == 595
    assert decision.readings["tokens"].remaining == 60_000 - 5 * 120
    clock.now += 61
    later = windows.admit("k", "m", limits, 1, 0)
    assert later.readings["requests"].remaining == 599  # the old minute rolled off


def test_unlimited_admits_everything_without_state():
    windows = RateWindows(clock=Clock())
    assert all(windows.admit("k", "m", Limits(), 10**6, 10**6).allowed for _ in range(1000))


def test_remaining_header_follows_the_providers_token_bucket_not_a_rolling_window() -> None:
    # Providers document their per-minute quota as a bucket refilled continuously. A client
    # pacing at exactly the limit keeps it nearly full, for minutes on end; only a burst (or
    # another user of the key) drains it. A rolling-window count would instead report the
    # quota nearly spent after a minute of perfect pacing, and a client that learns from
    # ``remaining`` would wrongly slow down.
    t = [0.0]
    windows = RateWindows(clock=lambda: t[0])
    lim = Limits(rpm=600)  # 10 requests/s
    lowest = 600.0
    for i in range(900):  # 90 s at exactly the limit
        t[0] = i * 0.1
        decision = windows.admit("k", "m", lim, 0, 0)
        assert decision.allowed
        lowest = min(lowest, decision.readings["requests"].remaining)
    assert lowest >= 0.95 * 600
    # A burst against a fresh key drains the quota it reports.
    burst = Limits(rpm=600, burst_seconds=60.0)
    for _ in range(300):
        decision = windows.admit("k2", "m", burst, 0, 0)
    assert decision.readings["requests"].remaining == 300
