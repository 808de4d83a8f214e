"""LimiterCore driven by a fake clock: no Ray, no sleeping."""

from __future__ import annotations

import pytest

from deluge_ray.errors import ConfigurationError
from deluge_ray.ratelimit._core import Lease, LimiterCore, UsageReport
from deluge_ray.ratelimit._headers import RateLimitObservation


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(rpm=600, tpm=None, max_concurrent=None, **kw) -> tuple[LimiterCore, Clock]:
    clock = Clock()
    return LimiterCore(rpm, tpm, max_concurrent, clock=clock, **kw), clock


def test_slices_chain_with_continuous_refill() -> None:
    core, _clock = make(rpm=600)  # 10 requests/s
    first = core.lease("a", 10)
    assert (first.requests, first.starts_in, first.ends_in) == (10, 0.0, 1.0)
    # Whenever the next lease is asked for, the bucket has refilled exactly in proportion
    # to the time passed, so the new slice starts where the reserved one ends: t = 1.0.
    for asked_at in (0.3, 0.55, 0.9):
        probe, pclock = make(rpm=600)
        probe.lease("a", 10)
        pclock.now = asked_at
        nxt = probe.lease("a", 10)
        assert nxt.requests == 10
        assert asked_at + nxt.starts_in == pytest.approx(1.0)
        assert nxt.ends_in - nxt.starts_in == pytest.approx(1.0)


def send_times(at: float, lease: Lease) -> list[float]:
    span = lease.ends_in - lease.starts_in
    return [at + lease.starts_in + i * span / lease.requests for i in range(lease.requests)]


def test_idle_credit_is_capped_at_a_fraction_of_a_second() -> None:
    core, clock = make(rpm=600, bucket_seconds=0.25)
    clock.now = 100.0  # a long idle spell earns at most 0.25 s of rate (2.5 requests)
    sends = []
    for caller in "abcdef":
        lease = core.lease(caller, 10)
        sends += send_times(clock.now, lease)
    first_second = [s for s in sends if 100.0 <= s < 101.0]
    assert len(first_second) <= 10 + 2.5 + 1
    # and a whole minute's quota (600) is never handed out at once
    assert len(sends) < 100


def simulate(core: LimiterCore, clock: Clock, callers: int, seconds: float, tokens: int = 0):
    """Greedy callers that ask for the next lease when their reserved sends run low."""
    dt = 0.005
    pending: dict[int, list[float]] = {c: [] for c in range(callers)}
    retry_at = dict.fromkeys(range(callers), 0.0)
    sent: list[float] = []
    calls = 0
    while clock.now < seconds:
        for c in range(callers):
            queue = pending[c]
            while queue and queue[0] <= clock.now:
                sent.append(queue.pop(0))
            # ask when fewer than ~0.15 s of sends remain reserved (prefetch, like LeaseClient)
            low = not queue or queue[-1] - clock.now < 0.15
            if low and clock.now >= retry_at[c]:
                calls += 1
                lease = core.lease(f"caller-{c}", 1000, tokens)
                if lease.granted:
                    queue.extend(send_times(clock.now, lease))
                else:
                    retry_at[c] = clock.now + lease.retry_in
        clock.now = round(clock.now + dt, 9)
    return sent, calls


@pytest.mark.parametrize("callers", [1, 5])
def test_saturation_reaches_the_limit_without_exceeding_any_second(callers: int) -> None:
    core, clock = make(rpm=3000)  # 50 requests/s
    sent, calls = simulate(core, clock, callers, seconds=60.0)
    assert len(sent) >= 0.97 * 3000
    assert len(sent) <= 3000 + 1
    sent.sort()
    # every sliding 1-second window holds at most the per-second share plus one request
    j = 0
    for i, start in enumerate(sent):
        while j < len(sent) and sent[j] < start + 1.0:
            j += 1
        assert j - i <= 50 + 1, f"{j - i} sends in the second starting at {start:.3f}"
    assert calls <= len(sent) / 10


def test_token_limit_and_corrections_create_debt() -> None:
    plain, _plain_clock = make(rpm=None, tpm=60_000)  # 1000 tokens/s
    corrected, _corr_clock = make(rpm=None, tpm=60_000)
    for core in (plain, corrected):
        lease = core.lease("a", 100, tokens_per_request=100)
        assert (lease.requests, lease.tokens) == (10, 1000)
        assert lease.ends_in == pytest.approx(1.0)
    # the 10 responses used 2000 tokens instead of the estimated 1000: 1000 tokens of debt
    nxt_plain = plain.lease("a", 100, 100, UsageReport(token_correction=0))
    nxt_corr = corrected.lease("a", 100, 100, UsageReport(token_correction=1000))
    assert nxt_corr.starts_in - nxt_plain.starts_in == pytest.approx(1.0)
    # using less than estimated gives tokens back (as credit, capped at the bucket)
    cheaper, _ = make(rpm=None, tpm=60_000)
    cheaper.lease("a", 100, 100)
    refund = cheaper.lease("a", 100, 100, UsageReport(token_correction=-500))
    assert refund.starts_in == pytest.approx(nxt_plain.starts_in - 0.5)


def test_a_request_bigger_than_the_bucket_goes_as_debt_and_is_rejectable_above_the_budget():
    core, clock = make(rpm=None, tpm=6000)  # 100 tokens/s, bucket holds 25
    assert core.max_request_tokens() == 6000
    big = core.lease("a", 1, tokens_per_request=3000)
    assert big.requests == 1 and big.starts_in == 0.0
    refused = core.lease("a", 1, tokens_per_request=3000)
    assert not refused.granted
    # 3000 tokens of debt at 100/s: about 30 s minus the reservation horizon
    assert 20.0 < refused.retry_in <= 30.0
    clock.now = refused.retry_in
    assert core.lease("a", 1, tokens_per_request=3000).granted


def test_concurrency_slots_are_granted_and_come_back_by_report() -> None:
    core, _clock = make(rpm=60_000, max_concurrent=3)
    assert core.lease("a", 10).slots == 3
    refused = core.lease("b", 10)
    assert not refused.granted and refused.retry_in > 0
    again = core.lease("a", 10, report=UsageReport(released_slots=2, completed=2))
    # "b" is short of slots: "a" grows back to its share of two (ceil(3 / 2)), no further.
    assert (again.slots, again.slot_cap) == (1, 2)
    # One request per slot "a" will hold (its busy one included: sent once it is free).
    assert again.requests == 2
    assert core.lease("b", 10).slots == 1  # the one "a" left
    assert core.stats()["in_use"] == 3


def test_a_caller_above_its_share_leases_no_more_than_it_while_another_has_no_slot() -> None:
    """10 callers sharing 5,000 slots of 10 s requests kept one at 0 slots for three
    waves: the first to lease held more than their share and kept it for their own
    leased requests. Here "a" leased alone, so it holds all ten slots."""
    core, _clock = make(rpm=60_000, max_concurrent=10)
    assert core.lease("a", 10).slots == 10
    assert not core.lease("b", 10).granted  # no slot free: "b" is short of its share
    # All ten of "a"'s requests finished; it still has work and keeps the slots as spare.
    again = core.lease("a", 10, report=UsageReport(completed=10, spare_slots=10))
    # Held to its share while "b" has none: five requests for ten slots, so the client
    # finds five spare and gives them back (its next report) as its requests end.
    assert (again.requests, again.slots, again.slot_cap) == (5, 0, 5)
    core.lease("a", 0, report=UsageReport(released_slots=5))
    assert core.lease("b", 10).slots == 5
    # Once "b" has its share, "a" may take free slots beyond its own again.
    core.lease("b", 0, report=UsageReport(released_slots=5))
    assert core.lease("a", 10, report=UsageReport(spare_slots=5)).slots == 5


def test_spare_slots_are_reused_before_new_ones_are_taken() -> None:
    core, _clock = make(rpm=60_000, max_concurrent=4)
    assert core.lease("a", 4).slots == 4
    # All four finished; "a" kept their slots and still has work.
    reuse = core.lease("a", 10, report=UsageReport(completed=4, spare_slots=4))
    assert (reuse.requests, reuse.slots) == (4, 0)
    assert core.stats()["in_use"] == 4
    # A report cannot claim spare slots it was never granted.
    assert core.lease("b", 10, report=UsageReport(spare_slots=50)).granted is False


def test_cooldown_after_429_honours_retry_after() -> None:
    core, clock = make(rpm=600)
    core.lease("a", 10)
    clock.now = 1.0
    stopped = core.lease("a", 10, report=UsageReport(rate_limited=1, retry_after=5.0))
    assert not stopped.granted and stopped.retry_in == pytest.approx(5.0)
    clock.now = 4.0
    other = core.lease("b", 10)  # everyone stops, not just the caller that saw the 429
    assert not other.granted and other.retry_in == pytest.approx(2.0)
    clock.now = 6.0
    resumed = core.lease("b", 10)
    assert resumed.granted and resumed.starts_in == 0.0
    assert core.stats()["cooldowns"] == 1


def test_cooldown_defaults_and_uses_the_observed_retry_after() -> None:
    core, _clock = make(rpm=600, default_cooldown=2.0)
    assert core.lease("a", 5, report=UsageReport(rate_limited=1)).retry_in == pytest.approx(2.0)
    core2, _ = make(rpm=600)
    report = UsageReport(rate_limited=1, observation=RateLimitObservation(retry_after=7.0))
    assert core2.lease("a", 5, report=report).retry_in == pytest.approx(7.0)


def test_lower_limit_header_lowers_the_effective_limit_but_never_raises_it() -> None:
    core, _clock = make(rpm=600, tpm=100_000)
    obs = RateLimitObservation(limit_requests=300, remaining_requests=290, limit_tokens=50_000)
    core.lease("a", 1, report=UsageReport(observation=obs))
    assert core.effective_limits()["rpm"] == 300
    assert core.effective_limits()["tpm"] == 50_000
    assert core.max_request_tokens() == 50_000
    higher = RateLimitObservation(limit_requests=1200)
    core.lease("a", 1, report=UsageReport(observation=higher))
    assert core.effective_limits()["rpm"] == 600


def test_nearly_empty_provider_quota_means_a_shared_quota_and_slows_us_down() -> None:
    core, clock = make(rpm=600)
    # remaining 3 of 600 is below 10 % (60): factor max(0.1, 3/60) = 0.1 for the reset time
    obs = RateLimitObservation(limit_requests=600, remaining_requests=3, reset_requests=10.0)
    core.lease("a", 1, report=UsageReport(observation=obs))
    assert core.effective_limits()["rpm"] == pytest.approx(60)
    clock.now = 5.0
    slow = core.lease("a", 100)
    assert slow.requests / (slow.ends_in - slow.starts_in) == pytest.approx(1.0)  # 60 rpm
    clock.now = 10.5  # the provider's window has been restored
    assert core.effective_limits()["rpm"] == 600
    # a healthy reading clears the factor at once
    core.lease("a", 1, report=UsageReport(observation=obs))
    healthy = RateLimitObservation(limit_requests=600, remaining_requests=500)
    core.lease("a", 1, report=UsageReport(observation=healthy))
    assert core.effective_limits()["rpm"] == 600


def test_fair_share_when_several_callers_are_active() -> None:
    # 100 requests/s; blocks of 3 s (300 requests) so that the share, not the block, binds.
    alone = make(rpm=6000, lease_seconds=3.0)[0].lease("x", 10_000)
    assert alone.requests == 300
    core, _ = make(rpm=6000, lease_seconds=3.0)
    for caller in ("a", "b", "c"):
        assert core.lease(caller, 1).requests == 1  # competing callers, holding one each
    greedy = core.lease("d", 10_000)
    # four active callers: a horizon of 9 slices of 1 s holds 900 - 3 + 1 grantable requests
    assert greedy.requests == 898 // 4
    # a caller that already holds a block ahead waits until only one slice of it is left
    again = core.lease("d", 10_000)
    assert not again.granted
    assert again.retry_in == pytest.approx(greedy.ends_in - 1.0)


def test_greedy_callers_end_up_with_equal_shares() -> None:
    fair, fclock = make(rpm=3000)
    per_caller: dict[str, int] = {}
    for step in range(3000):
        fclock.now = step * 0.01
        for caller in ("a", "b", "c", "d"):
            lease = fair.lease(caller, 10_000)
            per_caller[caller] = per_caller.get(caller, 0) + lease.requests
    counts = sorted(per_caller.values())
    assert counts[0] >= 0.8 * counts[-1]
    assert sum(counts) <= 3000 / 60 * 30 + 50 * 2  # never more than the rate (+ horizon)


def test_set_limits_validates_and_applies() -> None:
    core, _clock = make(rpm=600)
    with pytest.raises(ConfigurationError, match="rpm"):
        core.set_limits(rpm=0)
    with pytest.raises(ConfigurationError, match="max_concurrent"):
        LimiterCore(60, None, -1)
    core.set_limits(rpm=6000, tpm=1000, max_concurrent=4)
    assert core.effective_limits() == {"rpm": 6000, "tpm": 1000, "max_concurrent": 4}
    core.set_limits(rpm=1200)  # None keeps the others
    assert core.effective_limits() == {"rpm": 1200, "tpm": 1000, "max_concurrent": 4}
    assert core.lease("a", 1000).requests == 4


def test_returned_requests_are_reused_and_report_only_calls_grant_nothing() -> None:
    core, _clock = make(rpm=600)
    core.lease("a", 10)
    back = core.lease("a", 0, report=UsageReport(returned_requests=10, released_slots=10))
    assert not back.granted
    # the 10 reserved-but-unused requests came back, so the next slice starts now again
    assert core.lease("b", 10).starts_in == 0.0
    stats = core.stats()
    assert stats["returned_requests"] == 10 and stats["lease_calls"] == 3
    assert stats["granted_requests"] == 20


def test_unlimited_limiter_grants_big_blocks_immediately() -> None:
    core, _clock = make(rpm=None, tpm=None)
    lease = core.lease("a", 5000)
    assert (lease.requests, lease.starts_in, lease.ends_in) == (1000, 0.0, 0.0)
