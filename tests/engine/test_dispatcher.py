"""The dispatcher without Ray: in-process fake callers driven by the test."""

from __future__ import annotations

import asyncio

import pytest

from deluge_ray.client._dispatcher import Dispatcher
from deluge_ray.transport._work import WorkItem, WorkResult


class CallerLost(Exception):
    """Stands in for Ray's ActorDiedError."""


class NodeGone(CallerLost):
    """Stands in for a caller lost with its node."""


class FakePool:
    """Callers answer each item with its conversation text; scripted deaths and errors."""

    def __init__(
        self,
        n_callers: int = 2,
        *,
        die_after: dict[str, int] | None = None,
        always_die: bool = False,
        broken: bool = False,
    ) -> None:
        self.callers = [f"c{i}" for i in range(n_callers)]
        self.spawned = n_callers
        self.batches: list[tuple[str, list[int], frozenset[str]]] = []
        self.sent_conversations: list[str] = []
        self.die_after = dict(die_after or {})  # caller -> results to send before dying
        self.always_die = always_die
        self.broken = broken
        self.replaced: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.gate: asyncio.Event | None = None
        self.blocklist_from: dict[str, str] = {}  # conversation -> model it blocklists
        self.node_losses = 0  # the next deaths that take the caller's node with them

    def live_callers(self):
        return list(self.callers)

    async def stream_batch(self, caller, items, blocklisted):
        self.batches.append((caller, [i.key for i in items], blocklisted))
        self.sent_conversations.extend(i.conversation for i in items)
        self.in_flight += len(items)
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(0)
        if self.broken:
            raise ValueError("cannot unpickle")
        budget = 0 if self.always_die else self.die_after.pop(caller, None)
        for n, item in enumerate(items):
            if budget is not None and n >= budget:
                if self.node_losses > 0:
                    self.node_losses -= 1
                    raise NodeGone(f"{caller}'s node died")
                raise CallerLost(f"{caller} died")
            self.in_flight -= 1
            yield [
                WorkResult(
                    key=item.key,
                    response=f"answer:{item.conversation}",
                    blocklisted_models=tuple(
                        [self.blocklist_from[item.conversation]]
                        if item.conversation in self.blocklist_from
                        else []
                    ),
                )
            ]

    def is_caller_lost(self, exc):
        return isinstance(exc, CallerLost)

    def is_node_lost(self, exc):
        return isinstance(exc, NodeGone)

    async def replace(self, caller):
        if caller in self.callers:
            self.callers.remove(caller)
            self.callers.append(f"c{self.spawned}")
            self.spawned += 1
            self.replaced.append(caller)


def error_result(item: WorkItem, message: str) -> WorkResult:
    return WorkResult(key=item.key, response=f"error:{message}")


def entries(texts):
    return [(WorkItem(-1, t, 1, 0), t, (idx, t)) for idx, t in enumerate(texts)]


async def run(pool, texts, **kwargs):
    delivered: dict[int, object] = {}
    deliveries = []

    def on_results(pairs):
        for waiters, result in pairs:
            for idx, _ in waiters:
                assert idx not in delivered, "a position was answered twice"
                delivered[idx] = result.response
        deliveries.append(len(pairs))

    d = Dispatcher(pool, on_results=on_results, make_error=error_result, **kwargs)
    d.submit(entries(texts))
    await asyncio.wait_for(d.wait_idle(), 10)
    return d, [delivered[i] for i in range(len(texts))]


async def test_every_item_answered_in_place_and_batched_per_caller():
    pool = FakePool(n_callers=3)
    texts = [f"p{i}" for i in range(30)]
    _, results = await run(pool, texts)
    assert results == [f"answer:{t}" for t in texts]
    # One burst is split into one batch per caller, evenly.
    assert len(pool.batches) == 3
    assert sorted(len(keys) for _, keys, _ in pool.batches) == [10, 10, 10]


async def test_identical_prompts_in_flight_are_sent_once():
    pool = FakePool()
    _, results = await run(pool, ["same", "other", "same", "same"])
    assert results == ["answer:same", "answer:other", "answer:same", "answer:same"]
    assert sorted(pool.sent_conversations) == ["other", "same"]


async def test_a_finished_prompt_is_sent_again_when_resubmitted():
    pool = FakePool()
    d, _ = await run(pool, ["again"])
    got = []
    d._on_results = lambda pairs: got.extend(pairs)
    d.submit(entries(["again"]))
    await asyncio.wait_for(d.wait_idle(), 5)
    assert pool.sent_conversations == ["again", "again"]
    assert got[0][1].response == "answer:again"


async def test_lost_caller_work_is_resent_to_a_replacement():
    pool = FakePool(n_callers=2, die_after={"c0": 2})
    texts = [f"p{i}" for i in range(10)]
    _, results = await run(pool, texts)
    assert results == [f"answer:{t}" for t in texts]
    assert pool.replaced == ["c0"]
    # c0 answered 2 of its 5 before dying; exactly its other 3 were sent a second time.
    assert len(pool.sent_conversations) == 13


async def test_items_whose_callers_keep_dying_get_error_results():
    pool = FakePool(n_callers=1, always_die=True)
    _, results = await run(pool, ["a", "b"], max_losses=3)
    assert all(r.startswith("error:") and "lost 3 times" in r for r in results)


async def test_callers_lost_with_their_nodes_do_not_count_against_the_items():
    # Five node losses in a row (a cluster scaling down, spot instances reclaimed), then
    # two crashes of the caller itself: only the crashes count, so the items are answered.
    pool = FakePool(n_callers=1, die_after={"c0": 0, "c1": 0, "c2": 0, "c3": 0, "c4": 0, "c5": 0})
    pool.node_losses = 5
    pool.die_after["c6"] = 0
    _, results = await run(pool, ["a", "b"], max_losses=3)
    assert results == ["answer:a", "answer:b"]
    assert len(pool.replaced) == 7


async def test_crashes_still_count_after_node_losses():
    pool = FakePool(n_callers=1, always_die=True)
    pool.node_losses = 4
    _, results = await run(pool, ["a"], max_losses=3)
    assert results[0].startswith("error:") and "lost 3 times" in results[0]
    assert len(pool.replaced) == 4 + 3  # four node losses were free, the third crash is not


async def test_unexpected_caller_error_becomes_error_results_not_a_hang():
    pool = FakePool(broken=True)
    _, results = await run(pool, ["a", "b", "c"])
    assert all("ValueError: cannot unpickle" in r for r in results)


async def test_outstanding_items_are_bounded():
    pool = FakePool(n_callers=2)
    texts = [f"p{i}" for i in range(100)]
    _, results = await run(pool, texts, max_outstanding=8, max_batch=4)
    assert results == [f"answer:{t}" for t in texts]
    assert pool.max_in_flight <= 8
    assert all(len(keys) <= 4 for _, keys, _ in pool.batches)


async def test_blocklisted_models_reach_later_batches():
    pool = FakePool(n_callers=1)
    pool.blocklist_from = {"first": "bad-model"}
    d, _ = await run(pool, ["first"])
    assert d.blocklisted_models == frozenset({"bad-model"})
    d.submit(entries(["second"]))
    await asyncio.wait_for(d.wait_idle(), 5)
    assert pool.batches[-1][2] == frozenset({"bad-model"})


async def test_in_flight_counts_items_with_callers():
    pool = FakePool(n_callers=2)
    pool.gate = asyncio.Event()
    d = Dispatcher(pool, on_results=lambda pairs: None, make_error=error_result)
    d.submit(entries(["a", "b", "c"]))
    while len(pool.batches) < 2:
        await asyncio.sleep(0)
    assert d.in_flight == 3 and d.unfinished == 3
    pool.gate.set()
    await asyncio.wait_for(d.wait_idle(), 5)
    assert d.in_flight == 0 and d.unfinished == 0


@pytest.mark.parametrize("n", [1, 7])
async def test_submissions_from_many_ticks_all_complete(n):
    pool = FakePool(n_callers=2)
    got = []
    d = Dispatcher(pool, on_results=lambda pairs: got.extend(pairs), make_error=error_result)
    for i in range(n):
        d.submit(entries([f"t{i}"]))
        await asyncio.sleep(0)
    await asyncio.wait_for(d.wait_idle(), 5)
    assert sorted(r.response for _, r in got) == sorted(f"answer:t{i}" for i in range(n))
