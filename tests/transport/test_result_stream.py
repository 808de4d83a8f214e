"""The one result-batching loop of the actors, on a virtual clock (no real time passes)."""

from __future__ import annotations

import asyncio

from deluge_ray.transport._result_stream import FLUSH_S, stream_in_batches


class VirtualClock:
    """Items become ready at virtual times; time moves only when every coroutine waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._gates: list[tuple[float, asyncio.Event]] = []

    def at(self, when: float) -> asyncio.Event:
        gate = asyncio.Event()
        self._gates.append((when, gate))
        if when <= self.now:
            gate.set()
        return gate

    def _open_due(self) -> None:
        for when, gate in self._gates:
            if when <= self.now:
                gate.set()

    async def sleep(self, seconds: float) -> None:
        """The injected sleep: wakes when the virtual clock reaches its deadline."""
        self.sleeps.append(seconds)
        await self.at(self.now + seconds).wait()

    def advance_to_next(self) -> None:
        waiting = [when for when, gate in self._gates if not gate.is_set()]
        assert waiting, "nothing left to happen: the stream would hang"
        self.now = max(self.now, min(waiting))
        self._open_due()


async def _settle() -> None:
    for _ in range(10):  # let every runnable coroutine run until it waits again
        await asyncio.sleep(0)


def _emitter(clock: VirtualClock, schedule: list[tuple[float, object]]):
    def start(emit):
        async def one(when: float, item: object) -> None:
            await clock.at(when).wait()
            emit(item)

        return [one(when, item) for when, item in schedule]

    return start


async def _drive(clock: VirtualClock, gen) -> list[list]:
    """Collect every batch, moving the clock to the next arrival whenever all are idle."""
    batches: list[list] = []

    async def collect() -> None:
        async for batch in gen:
            batches.append(batch)

    collector = asyncio.ensure_future(collect())
    await _settle()
    while not collector.done():
        clock.advance_to_next()
        await _settle()
    await collector
    return batches


async def test_items_ready_within_the_window_travel_together():
    clock = VirtualClock()
    # Three results: two close together, one 0.5 s later (after the first window closed).
    schedule = [(0.0, "a"), (0.01, "b"), (0.5, "c")]
    gen = stream_in_batches(_emitter(clock, schedule), 3, sleep=clock.sleep)
    batches = await _drive(clock, gen)
    assert batches == [["a", "b"], ["c"]]
    # One window for the first batch; "c" was the last outstanding item: yielded at once.
    assert clock.sleeps == [FLUSH_S]


async def test_a_lone_item_is_yielded_without_waiting():
    clock = VirtualClock()
    gen = stream_in_batches(_emitter(clock, [(0.0, "only")]), 1, sleep=clock.sleep)
    assert await _drive(clock, gen) == [["only"]]
    assert clock.sleeps == []


async def test_progress_events_do_not_end_the_stream():
    clock = VirtualClock()
    # Two loops: each sends a checkpoint (not final) and then its end (final).
    schedule = [(0.0, ("cp", 0)), (0.0, ("cp", 1)), (1.0, ("end", 0)), (2.0, ("end", 1))]
    gen = stream_in_batches(
        _emitter(clock, schedule), 2, is_final=lambda e: e[0] == "end", sleep=clock.sleep
    )
    batches = await _drive(clock, gen)
    assert batches == [[("cp", 0), ("cp", 1)], [("end", 0)], [("end", 1)]]
    # Two loops outstanding for the first two batches (a window each), one for the last.
    assert clock.sleeps == [FLUSH_S, FLUSH_S]


async def test_closing_the_stream_early_cancels_the_work():
    started: list[asyncio.Task] = []

    def start(emit):
        async def first() -> None:
            emit("first")

        async def never() -> None:
            started.append(asyncio.current_task())
            await asyncio.Event().wait()

        return [first(), never()]

    windows: list[float] = []

    async def instant(seconds: float) -> None:  # the window passes at once
        windows.append(seconds)

    gen = stream_in_batches(start, 2, sleep=instant)
    assert await gen.__anext__() == ["first"]
    await gen.aclose()
    await asyncio.sleep(0)
    assert windows == [FLUSH_S]
    assert started and started[0].cancelled()
