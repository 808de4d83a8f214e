"""A limiter's status snapshot, built by LimiterService from its core, in virtual time."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from deluge_ray.ratelimit._headers import RateLimitObservation
from deluge_ray.ratelimit._priority import Tenant
from deluge_ray.ratelimit._records import UsageReport
from deluge_ray.ratelimit._service import LimiterService

NAME = "limiter:openai:0123456789ab"
NOTEBOOK = Tenant("client-nb", level=2, name="notebook:1", models=(("openai", "gpt-4.1-mini"),))
NIGHTLY = Tenant(
    "client-job",
    level=0,
    name="nightly.py:2",
    models=(("openai", "gpt-4.1"), ("anthropic", "claude-3-5-haiku")),
)


def run(coro):
    return asyncio.run(coro)


def service(now: list[float], **kwargs) -> LimiterService:
    return LimiterService(
        rpm=600, tpm=60_000, max_concurrent=10, clock=lambda: now[0], name=NAME, **kwargs
    )


def test_the_snapshot_shows_limits_rates_slots_and_each_client() -> None:
    now = [0.0]
    svc = service(now)
    # 600 rpm: a block is 20 requests (min_lease_requests) of 100 tokens each
    first = run(svc.lease("caller-0@client-job", 40, 100, tenant=NIGHTLY))
    now[0] = 1.0
    nb = run(svc.lease("caller-1@client-nb", 2, 100, tenant=NOTEBOOK))
    now[0] = 2.0
    # the batch job gives 5 requests back unused, and its responses used 50 more tokens
    # than estimated; one of its requests met a 429 and the provider says its limit is 500
    report = UsageReport(
        returned_requests=5,
        returned_tokens=500,
        token_correction=50,
        released_slots=7,
        rate_limited=1,
        retry_after=4.0,
        observation=RateLimitObservation(limit_requests=500, remaining_requests=400),
        incarnation=first.incarnation,
    )
    run(svc.lease("caller-0@client-job", 0, 100, report))
    status = run(svc.status())

    assert status.name == NAME and status.provider == "openai"
    # only this limiter's provider's models (the job also uses an Anthropic model)
    assert set(status.models) == {"gpt-4.1-mini", "gpt-4.1"}
    assert (status.configured_rpm, status.learned_rpm, status.effective_rpm) == (600, 500, 500)
    assert (status.configured_tpm, status.learned_tpm) == (60_000, None)
    job_net = first.requests - 5
    assert status.requests == job_net + nb.requests
    assert status.tokens == first.tokens - 500 + 50 + nb.tokens
    assert status.window_s == 2.0 and status.request_rate == status.requests * 30
    assert status.in_flight == first.slots - 7 + nb.slots
    assert status.free_slots == 10 - status.in_flight
    assert status.cooldown_s == 4.0
    assert (status.rate_limited, status.rate_limited_total) == (1, 1)

    by_name = {c.name: c for c in status.clients}
    assert list(by_name) == ["notebook:1", "nightly.py:2"]  # higher priority first
    job, notebook = by_name["nightly.py:2"], by_name["notebook:1"]
    assert (job.priority, notebook.priority) == (0, 2)
    assert job.requests == job_net and notebook.requests == nb.requests
    assert job.share == job_net / (job_net + nb.requests)
    assert job.slots_held == first.slots - 7 and notebook.slots_held == nb.slots
    assert (job.rate_limited, notebook.rate_limited) == (1, 0)
    assert job.spend_usd is None  # no budget: nobody counts its dollars
    # the snapshot crosses process boundaries
    assert pickle.loads(pickle.dumps(status)) == status


def test_the_last_minute_forgets_older_traffic_and_the_cooldown_ends() -> None:
    now = [0.0]
    svc = service(now)
    lease = run(svc.lease("c", 20, 0, tenant=NOTEBOOK))
    run(svc.lease("c", 0, 0, UsageReport(rate_limited=1, released_slots=lease.slots)))
    now[0] = 61.0
    status = run(svc.status())
    assert (status.requests, status.rate_limited, status.rate_limited_total) == (0, 0, 1)
    assert status.window_s == 60.0 and status.cooldown_s == 0.0
    assert status.clients == ()  # nothing in the minute and no slot held


def test_spend_by_client_comes_from_the_budgets() -> None:
    now = [0.0]
    svc = service(now)
    admitted, _ = run(svc.reserve_spend([0.4, 0.4, 0.4], 1.0, 3600, "client-job"))
    assert admitted == [True, True, False]
    run(svc.settle_spend(0.8, 0.3, "client-job"))
    run(svc.note_client_spend("client-nb", 0.05, 2.0))
    run(svc.lease("a@client-job", 5, 0, tenant=NIGHTLY))
    run(svc.lease("b@client-nb", 5, 0, tenant=NOTEBOOK))
    status = run(svc.status())
    assert status.key_budget_usd == 1.0
    assert status.key_spend_usd == pytest.approx(0.3)
    by_id = {c.client_id: c for c in status.clients}
    assert by_id["client-job"].spend_usd == pytest.approx(0.3)
    assert (by_id["client-nb"].spend_usd, by_id["client-nb"].budget_usd) == (0.05, 2.0)


def test_asking_for_the_status_never_changes_a_grant() -> None:
    clocks = ([0.0], [0.0])
    plain, watched = service(clocks[0]), service(clocks[1])
    grants = ([], [])
    for step in range(40):
        for index, svc in enumerate((plain, watched)):
            clocks[index][0] = step * 0.07
            if index == 1:
                run(svc.status())
            tenant = NOTEBOOK if step % 3 else NIGHTLY
            caller = f"c{step % 3}@{tenant.client_id}"
            grants[index].append(run(svc.lease(caller, 30, 50, tenant=tenant)))
    assert any(g.requests for g in grants[0]) and any(g.retry_in for g in grants[0])
    assert [g.requests for g in grants[0]] == [g.requests for g in grants[1]]
    assert [g.retry_in for g in grants[0]] == [g.retry_in for g in grants[1]]


class Gauges:
    def __init__(self) -> None:
        self.seen: list = []

    def record(self, status) -> None:
        self.seen.append(status)


def test_the_limiter_sets_its_gauges_on_its_own_tick() -> None:
    gauges = Gauges()

    async def scenario() -> None:
        svc = LimiterService(
            rpm=600, tpm=None, max_concurrent=None, name=NAME, gauges=gauges, tick_s=0.0
        )
        await svc.lease("c", 5, tenant=NOTEBOOK)
        for _ in range(3):
            await asyncio.sleep(0)
        assert svc._ticker is not None
        svc._ticker.cancel()

    run(scenario())
    assert len(gauges.seen) >= 2  # once at the first lease, then on every tick
    assert gauges.seen[0].name == NAME and gauges.seen[0].requests == 5
