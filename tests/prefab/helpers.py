"""Tools for the prefab tests that record when each call starts and ends.

The record is an ordered event log, not timestamps: two calls overlapped exactly when the
second started before the first ended, which no scheduler jitter can fake.
"""

from __future__ import annotations

import asyncio

from deluge_ray.tool import Tool


class Recorder:
    """Makes async tools that log ``("start", name)`` / ``("end", name)`` events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def tool(self, name: str, result: object = None) -> Tool:
        async def run(x: int = 0) -> object:
            self.events.append(("start", f"{name}:{x}"))
            for _ in range(3):  # yield to the loop so concurrent calls can interleave
                await asyncio.sleep(0)
            self.events.append(("end", f"{name}:{x}"))
            return result if result is not None else {"tool": name, "x": x}

        return Tool(
            name=name, description=f"Test tool {name}.", parameters={"x": int}, required=[], run=run
        )

    def overlapped(self, a: str, b: str) -> bool:
        """Whether the intervals of calls ``a`` and ``b`` intersect."""
        pos = {event: i for i, event in enumerate(self.events)}
        return pos[("start", b)] < pos[("end", a)] and pos[("start", a)] < pos[("end", b)]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def fails(message: str) -> str:
    """Always raises."""
    raise RuntimeError(message)
