"""ToolComposer cost: per snippet (warm worker pool) and per tool call proxied to the host.

Run:  python benchmarks/bench_composer.py [--snippets N] [--calls K] [--json PATH]

Two ways of running the same snippets over the same tools are timed:

- ``process``: what ``ToolComposer.execute`` does, the snippet in a pooled worker process
  with its tool calls sent back over the pipe (the pool is warmed first, so no interpreter
  start is counted);
- ``inline``: the restricted interpreter on the caller's loop, as ToolComposer ran before
  snippets moved out of process (the interpreter is the same module, called directly).

Per-snippet cost is the mean over ``N`` runs of a snippet without tool calls; per-call cost
is the extra time of a snippet making ``K`` sequential tool calls (each waits for the
previous result, so no overlap hides the cost), divided by ``K``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from deluge_ray.tool import Tool
from deluge_ray.tool.prefab import ToolComposer
from deluge_ray.tool.prefab._sandbox import Interpreter


def echo(x: int) -> int:
    """Return x unchanged."""
    return x


SIMPLE = "total = 0\nfor i in range(20):\n    total += i\nresult = total"


def _chain(calls: int) -> str:
    # Each call takes the previous result, so calls run one after another.
    return "v = 0\n" + "v = echo(x=v + 1)\n" * calls + "result = v"


async def _time(run, code: str, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        await run(code)
    return (time.perf_counter() - start) / repeats


async def measure(snippets: int, calls: int) -> dict[str, Any]:
    """Mean seconds per snippet and per proxied call, for both ways of running."""
    composer = ToolComposer([Tool.from_function(echo)])
    functions = composer._functions  # the same ToolFunctions the worker's calls reach

    async def inline(code: str) -> Any:
        return await Interpreter(functions).run(code)

    chain = _chain(calls)
    assert await composer.execute(chain) == str(calls)  # also warms the pool
    await asyncio.gather(*[composer.execute(SIMPLE) for _ in range(2)])
    out: dict[str, Any] = {"snippets": snippets, "calls_per_snippet": calls}
    for label, run in (("process", composer.execute), ("inline", inline)):
        per_snippet = await _time(run, SIMPLE, snippets)
        per_chain = await _time(run, chain, max(1, snippets // 4))
        out[label] = {
            "ms_per_snippet": round(per_snippet * 1000, 3),
            "ms_per_tool_call": round((per_chain - per_snippet) / calls * 1000, 3),
        }
    return out


def main() -> None:
    """Parse arguments, measure, print the JSON result (and write it with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snippets", type=int, default=200)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    result = asyncio.run(measure(args.snippets, args.calls))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
