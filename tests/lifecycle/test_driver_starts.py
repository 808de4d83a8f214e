"""The driver answers its first prompts itself while its first caller process starts
(issue 15, item 2; the rule is in ``client/_starter.py``).

Ray-free: the Ray callers are a stand-in whose process is not up until the test says so
(its ``ping`` and its batches wait), and the driver's own part goes through the real
in-process caller to the real mock provider.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from deluge_ray._secrets import Secret
from deluge_ray.client._starter import DRIVER, DRIVER_ITEMS, StarterPool
from deluge_ray.config import SamplingParams
from deluge_ray.mock import MockProvider
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation
from deluge_ray.transport._work import CallSpec, ModelRoute, WorkItem, error_result


class StartingCaller:
    """A Ray caller whose worker process is still starting until ``up`` is set."""

    def __init__(self) -> None:
        self.up = asyncio.Event()
        self.ping = SimpleNamespace(remote=self.up.wait)


class StartingPool:
    """The Ray pool as the dispatcher sees it, with one caller that is not up yet."""

    def __init__(self, route: ModelRoute) -> None:
        self.caller = StartingCaller()
        self.route = route
        self.sent: list[int] = []  # sizes of the batches the Ray caller got
        self.grown = 0

    def live_callers(self):
        return [self.caller]

    async def stream_batch(self, caller, items, blocklisted):
        self.sent.append(len(items))
        await caller.up.wait()
        yield [error_result(item.key, self.route, "answered by the Ray caller") for item in items]

    def grow(self) -> None:
        self.grown += 1

    def is_caller_lost(self, exc):
        return False

    async def replace(self, caller):
        raise AssertionError("nothing was lost")


@pytest.fixture
def mock():
    with MockProvider() as server:
        yield server


def setup(mock) -> tuple[StarterPool, StartingPool]:
    route = ModelRoute(
        model=get_model("gpt-4.1-mini"),
        sampling_params=SamplingParams(max_new_tokens=16),
        weight=1.0,
        base_url=mock.openai_base_url,
        api_key=Secret("sk-test"),
    )
    specs = {0: CallSpec(spec_id=0, routes=(route,), max_attempts=1, request_timeout=30)}
    pool = StartingPool(route)
    return StarterPool(pool, specs), pool


def items(n: int) -> list[WorkItem]:
    return [
        WorkItem(key=k, conversation=Conversation().user(f"q{k}"), estimated_tokens=20, spec_id=0)
        for k in range(n)
    ]


async def collect(starter: StarterPool, caller, batch: list[WorkItem]):
    answered = {}
    async for results in starter.stream_batch(caller, batch, frozenset()):
        answered.update({r.key: r.response for r in results})
    return answered


def test_a_lone_prompt_is_answered_by_the_driver_while_the_caller_starts(mock):
    async def scenario():
        starter, pool = setup(mock)
        offered = starter.live_callers()
        assert offered == [DRIVER, pool.caller]  # the dispatcher picks the first idle one
        answered = await asyncio.wait_for(collect(starter, DRIVER, items(1)), 30)
        await starter.aclose()
        return answered, pool

    answered, pool = asyncio.run(scenario())
    assert not answered[0].is_error and answered[0].completion
    assert pool.sent == []  # the caller that was still starting got nothing
    assert pool.grown >= 1  # a first answer starts the deferred callers, as a caller's does
    assert mock.stats()["requests"] == 1


def test_the_driver_serves_at_most_eight_and_forwards_the_rest_to_a_caller(mock):
    async def scenario():
        starter, pool = setup(mock)
        pool.caller.up.set()
        answered = await asyncio.wait_for(collect(starter, DRIVER, items(20)), 30)
        await starter.aclose()
        return answered, pool

    answered, pool = asyncio.run(scenario())
    assert sorted(answered) == list(range(20))
    by_driver = [k for k, r in answered.items() if not r.is_error]
    assert len(by_driver) == DRIVER_ITEMS == mock.stats()["requests"]
    assert pool.sent == [20 - DRIVER_ITEMS]


def test_once_a_caller_is_up_the_driver_is_no_longer_offered(mock):
    async def scenario():
        starter, pool = setup(mock)
        assert DRIVER in starter.live_callers()
        pool.caller.up.set()  # its ping answers
        for _ in range(3):
            await asyncio.sleep(0)
        offered = starter.live_callers()
        await starter.aclose()
        return offered, pool

    offered, pool = asyncio.run(scenario())
    assert offered == [pool.caller]
