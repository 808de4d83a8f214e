"""A swarm of agent loops on SubAgent actors, plus a main model delegating to sub-agents.

Runs against the built-in mock provider unless OPENAI_API_KEY is set. Each loop asks the
model to compute a number with a tool; the tool runs inside a SubAgent actor (one copy of
the tools per actor), model calls share the client's rate limiter, and results come back
in input order. Usage: ``python examples/agent_swarm.py [number_of_loops]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys

from deluge_ray import LLMClient
from deluge_ray.mock import MockProvider, Reply, RequestView, use_mock
from deluge_ray.tool import Tool
from deluge_ray.tool.prefab import SubAgentManager


def square(x: int) -> int:
    """Square an integer."""
    return x * x


def mock_model(view: RequestView) -> Reply | str:
    """What the mock "model" does: square the number, square the result, then answer."""
    results = [r["content"] for m in view.messages for r in m.tool_results]
    if view.tools == ["start_subagent", "check_subagent", "wait_for_subagent"]:
        if not results:
            return Reply.tool_calls(
                [("start_subagent", {"task": f"Square {n} twice"}) for n in (2, 3)]
            )
        if len(results) == 2:
            return Reply.tool_calls([("wait_for_subagent", {"agent_id": i}) for i in (0, 1)])
        return "The sub-agents said: " + " | ".join(results[2:])
    n = int(re.findall(r"\d+", view.messages[0].text)[0])
    if len(results) < 2:
        return Reply.tool_call("square", {"x": int(results[-1]) if results else n})
    return f"{n} squared twice is {results[-1]}"


async def main(n_loops: int) -> int:
    real = bool(os.environ.get("OPENAI_API_KEY"))
    with contextlib.ExitStack() as stack:
        if not real:
            mock = stack.enter_context(MockProvider())
            mock.script("*", mock_model)
            stack.enter_context(use_mock(mock))
        client = LLMClient("gpt-4.1-mini", max_new_tokens=128, progress="manual")
        tools = [Tool.from_function(square)]
        prompts = [
            f"Square {i} twice with the square tool, then say the result." for i in range(n_loops)
        ]
        results = await client.process_agent_loops_async(
            prompts, tools=tools, max_rounds=4, max_concurrent_agents=50, num_actors=2
        )
        for (conv, resp), i in zip(results[:3], range(3), strict=False):
            print(
                f"loop {i}: {resp.completion}  ({resp.agent_rounds} rounds, {len(conv.messages)} messages)"
            )
        failed = sum(1 for _, r in results if r.is_error)
        print(f"{len(results)} loops finished, {failed} failed")

        # A main model that delegates to sub-agents (here the same model; use a cheaper one).
        manager = SubAgentManager(client, tools=tools, max_rounds=4)
        try:
            _, resp = await client.run_agent_loop(
                "Square 2 and 3 twice each, using sub-agents.",
                tools=manager.get_tools(),
                max_rounds=4,
            )
            print(f"main model: {resp.completion}")
        finally:
            manager.close()
            client.shutdown()
    return 1 if failed or resp.is_error else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
