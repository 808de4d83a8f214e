"""ToolComposer against a hostile model: memory, CPU and output bombs end in the worker.

Each snippet must end as an error the model sees (none of them ends by itself: only the
worker's limits stop them); the host's peak RSS must not grow with the snippet's appetite;
and the host loop must keep running other tasks meanwhile: a ticker task started after the
bombs must run while every one of them is still pending, and the canary call `add(2, 3)`
must be answered while the bombs run (a snippet run on the loop thread would block the loop
until it ended, so the ticker would only ever see finished bombs). Ordering, not wall-clock
bounds: a loaded machine slows everything but changes no outcome. The limits are small
(256 MiB, 0.5 s of CPU, 1 s of wall clock) and the bombs run four at a time (each in its
own worker) to keep the module fast.
"""

from __future__ import annotations

import asyncio
import resource

import pytest

from deluge_ray.tool import Tool
from deluge_ray.tool.prefab import ToolComposer

from .helpers import add

TIMEOUT = 1.0


async def hang() -> str:
    """A tool that never returns."""
    await asyncio.Event().wait()
    return "never"


def blob() -> str:
    """A tool with a 4 MB result: more than a pipe holds."""
    return "x" * 4_000_000


@pytest.fixture(scope="module")
def composer() -> ToolComposer:
    tools = [Tool.from_function(add), Tool.from_function(hang), Tool.from_function(blob)]
    return ToolComposer(tools, timeout=TIMEOUT, cpu_seconds=0.5, memory_mb=256, max_steps=1_000_000)


# The issue's snippets first (memory, then CPU), then more of each kind.
BOMBS = {
    "percent-width-loop": "x = 'a'\nfor i in range(100):\n    s = '%*s' % (10**9, x)",
    "extend-doubling": "l = [1]\nwhile True:\n    l.extend(l)",
    "json-indent": "print(json.dumps([[1, 2]] * 1000, indent=10**8))",
    "list-comprehension": "x = [[0] * 100000 for i in range(10000)]",
    "bigint-square": "x = 10**9999\nwhile True:\n    x = x * x",
    "sum-of-lists": "ls = [[0] * 1000 for i in range(5000)]\nr = sum(ls, [])\nr = sum([r] * 900, [])",
    "sorted-million": "xs = list(range(999999))\nfor i in range(10000):\n    ys = sorted(xs, key=str)",
    "bigint-cube": "x = 2**9999\nfor i in range(40):\n    x = x ** 3",
    "many-copies": "x = list(range(99999))\nys = [x * 10 for i in range(1000)]",
    "many-strings": "ys = ['a' * 999990 + str(i) for i in range(2000)]",
    "many-sets": "ys = [set(range(999999)) for i in range(300)]",
    "shared-nesting-dumps": "x = [1]\nfor i in range(60):\n    x = [x, x]\nprint(json.dumps(x))",
    "dict-fromkeys": "ds = [dict(zip(range(999999), range(999999))) for i in range(500)]",
    "max-in-loop": "ys = [max(range(999999)) for i in range(100000)]",
    "count-search": "s = 'a' * 999999\nn = [s.count('a' * 500000 + 'b') for i in range(100000)]",
    "replace-growth": "s = 'ab' * 200000\nwhile True:\n    s = s.replace('ab', 'ab')\n    t = [s] * 1",
    "split-join": "s = 'a ' * 499999\nys = [' '.join(s.split()) for i in range(100000)]",
    "str-of-bigint": "x = 7**9000\nys = [x * x * x for i in range(100000)]",
    "nested-parens": "x = " + "(" * 5000 + "1" + ")" * 5000,
    "deep-json": "x = json.loads('[' * 200000 + ']' * 200000)",
    "deep-lists": "x = " + "[" * 3000 + "]" * 3000,
    "print-flood": "while True:\n    print('x' * 999999)",
    "tool-flood": "while True:\n    add(1, 2)",
    "tool-fanout": "rs = [add(i, i) for i in range(1000000)]",
    "tool-hangs": "r = hang()\nprint(r)",
    "set-ops": "a = set(range(999999))\nys = [a.union(set(range(i, i + 999999))) for i in range(1000)]",
    # The result arrives while the worker is in one long C call (its GIL held, its pipe
    # unread): the host must not block writing it.
    "big-result-during-bigint": "r = blob()\nx = 10**9999\nwhile True:\n    x = x * x",
    "sorted-reverse": "xs = list(range(999999))\nwhile True:\n    xs = sorted(xs, reverse=True)",
}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_NAMES = sorted(BOMBS)
_GROUPS = [_NAMES[i : i + 4] for i in range(0, len(_NAMES), 4)]


@pytest.mark.parametrize("names", _GROUPS, ids=["+".join(g) for g in _GROUPS])
async def test_bombs_end_as_errors_within_the_timeout_and_the_loop_keeps_ticking(
    composer: ToolComposer, names: list[str]
) -> None:
    [tool] = composer.get_tools()
    # Warm one worker per bomb first (the pool keeps 4 idle): the bound is on running a
    # snippet, not on booting an interpreter.
    await asyncio.gather(*[tool.acall(code="x = 1") for _ in names])
    rss_before = _peak_rss_mib()

    bombs = [asyncio.ensure_future(tool.acall(code=BOMBS[name])) for name in names]
    pending_at_ticks: list[int] = []

    async def ticker() -> None:
        while not all(bomb.done() for bomb in bombs):
            pending_at_ticks.append(sum(not bomb.done() for bomb in bombs))
            await asyncio.sleep(0.01)

    ticking = asyncio.ensure_future(ticker())
    canary = await tool.acall(code="result = add(2, 3)")
    outs = await asyncio.gather(*bombs)
    await ticking
    assert canary == "5"
    assert pending_at_ticks and pending_at_ticks[0] == len(names), (
        f"the host loop did not run while {names} were in their workers: {pending_at_ticks[:5]}"
    )
    for name, out in zip(names, outs, strict=True):
        assert out.startswith("Execution error:"), (name, out)
    # The host never holds the snippet's data: its peak RSS stays where it was.
    assert _peak_rss_mib() - rss_before < 64, names


def test_there_are_the_issues_bombs_and_fifteen_more() -> None:
    assert len(BOMBS) >= 12 + 15


async def test_killed_worker_is_replaced_and_the_next_snippet_works(
    composer: ToolComposer,
) -> None:
    [tool] = composer.get_tools()
    out = await tool.acall(code=BOMBS["bigint-square"])
    assert "CPU" in out or "did not finish" in out, out
    out = await tool.acall(code="l = [1]\nwhile True:\n    l.extend(l)")
    assert out.startswith("Execution error:"), out  # MemoryError, or the clock on a busy host
    assert await tool.acall(code="result = add(2, 3)") == "5"


async def test_wall_clock_timeout_names_the_limit(composer: ToolComposer) -> None:
    out = await composer.get_tools()[0].acall(code="r = hang()\nprint(r)")
    assert (
        out
        == f"Execution error: the snippet did not finish within {TIMEOUT} seconds and was stopped."
    )


async def test_concurrent_snippets_use_separate_workers(composer: ToolComposer) -> None:
    [tool] = composer.get_tools()
    outs = await asyncio.gather(
        tool.acall(code=BOMBS["sorted-reverse"]),
        *[tool.acall(code=f"result = add({i}, 1)") for i in range(4)],
    )
    assert "Execution error" in outs[0]
    assert outs[1:] == ["1", "2", "3", "4"]


def test_bad_limits_are_refused_with_a_clear_message() -> None:
    from deluge_ray.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="memory_mb=64 is too small"):
        ToolComposer([], memory_mb=64)
    with pytest.raises(ConfigurationError, match="cpu_seconds and timeout must be positive"):
        ToolComposer([], cpu_seconds=0)
