"""Dollar budgets: worst-case reservation, refund with actual cost, a rolling window, and a
key's spend surviving a limiter restart (the SQLite file beside the cache's)."""

from __future__ import annotations

import asyncio

import pytest

from deluge_ray.models import APIModel
from deluge_ray.ratelimit._budget import SpendLedger, spend_file_path, worst_case_cost
from deluge_ray.ratelimit._service import LimiterService


def test_reservations_stop_at_the_cap_and_refunds_make_room_again() -> None:
    t = [0.0]
    ledger = SpendLedger(clock=lambda: t[0])
    assert ledger.reserve([0.3, 0.3, 0.3, 0.3], cap=1.0, window=3600) == [True] * 3 + [False]
    assert ledger.spent(3600) == pytest.approx(0.9)
    # the answers cost far less than their worst case: the rest comes back
    ledger.settle(reserved=0.9, actual=0.12)
    assert ledger.spent(3600) == pytest.approx(0.12)
    assert ledger.reserve([0.3, 0.3, 0.3, 0.3], cap=1.0, window=3600) == [True] * 2 + [False] * 2


def test_spend_older_than_the_window_no_longer_counts() -> None:
    t = [0.0]
    ledger = SpendLedger(clock=lambda: t[0])
    assert ledger.reserve([1.0], cap=1.0, window=3600) == [True]
    t[0] = 1800.0
    assert ledger.reserve([0.5], cap=1.0, window=3600) == [False]
    t[0] = 3700.0
    assert ledger.reserve([0.5], cap=1.0, window=3600) == [True]


def test_worst_case_prices_every_token_at_the_dearer_price() -> None:
    model = APIModel("m", "m", "openai", "openai", None, "u", input_cost=2.0, output_cost=8.0)
    assert worst_case_cost(model, 1_000_000) == pytest.approx(8.0)
    assert worst_case_cost(model, 0) == 0.0


def test_a_key_budget_survives_a_limiter_restart(tmp_path) -> None:
    path = str(tmp_path / "spend.sqlite")

    async def run():
        first = LimiterService(rpm=600, tpm=None, max_concurrent=None, spend_path=path)
        admitted, spent = await first.reserve_spend([0.4, 0.4], 1.0, 86_400)
        assert admitted == [True, True] and spent == pytest.approx(0.8)
        await first.settle_spend(0.4, 0.05)  # one answered: its refund is recorded
        # the actor dies with one request in flight; Ray builds a new instance
        second = LimiterService(
            rpm=600, tpm=None, max_concurrent=None, restarted=True, spend_path=path
        )
        assert await second.key_spend(86_400) == pytest.approx(0.45)
        admitted, _ = await second.reserve_spend([0.4, 0.4], 1.0, 86_400)
        return admitted

    # what was spent before the restart still counts: only one more fits
    assert asyncio.run(run()) == [True, False]


def test_the_spend_file_sits_beside_the_cache_files(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DELUGE_RAY_CACHE_DIR", str(tmp_path))
    path = spend_file_path("limiter:openai:0123456789ab")
    assert path.startswith(str(tmp_path))
    assert "sk-" not in path


def test_a_client_budget_kept_by_a_limiter_survives_its_restart_as_the_process_saw_it() -> None:
    import math

    def service() -> LimiterService:
        return LimiterService(rpm=600, tpm=None, max_concurrent=None, clock=lambda: 0.0)

    first = service()
    admitted, spent = asyncio.run(
        first.reserve_spend([0.4, 0.4], 1.0, math.inf, "client-1", scope="client")
    )
    assert admitted == [True, True] and spent == 0.8
    asyncio.run(first.settle_spend(0.8, 0.3, "client-1", scope="client"))
    # the process has spent 0.3 of it; a restarted limiter starts the client's ledger there
    restarted = service()
    admitted, spent = asyncio.run(
        restarted.reserve_spend([0.5, 0.5], 1.0, math.inf, "client-1", "client", 0.3)
    )
    assert admitted == [True, False] and spent == 0.8
    # a ledger the limiter knows ignores what one process says it spent
    admitted, spent = asyncio.run(
        restarted.reserve_spend([0.1], 1.0, math.inf, "client-1", "client", 0.0)
    )
    assert admitted == [True] and round(spent, 9) == 0.9
    # and the key's own ledger is a different one
    assert asyncio.run(restarted.key_spend(math.inf)) == 0.0
