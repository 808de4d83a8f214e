"""SubAgentManager: a main model delegates sub-tasks to sub-loops on SubAgent actors."""

from __future__ import annotations

import json
import pickle

import pytest

from deluge_ray.agents._loop import run_agent_loop
from deluge_ray.mock import Reply, RequestView
from deluge_ray.tool import Tool
from deluge_ray.tool.prefab._subagents import SubAgentManager

CAPITALS = {"France": "Paris", "Peru": "Lima"}


def capital(country: str) -> str:
    """The capital of a country."""
    return CAPITALS.get(country, "unknown")


def script(view: RequestView) -> Reply | str:
    rounds = [m.tool_results for m in view.messages if m.tool_results]
    if "nano" in view.model:  # a sub-agent: look the capital up, then answer
        country = view.messages[0].text.split()[-1]
        return (
            f"Capital: {rounds[0][0]['content']}"
            if rounds
            else Reply.tool_call("capital", {"country": country})
        )
    # The main model: start two, check one, wait for both, answer with what they said.
    if len(rounds) == 0:
        return Reply.tool_calls(
            [
                ("start_subagent", {"task": "Find the capital of France"}),
                ("start_subagent", {"task": "Find the capital of Peru"}),
            ]
        )
    if len(rounds) == 1:
        return Reply.tool_calls(
            [("check_subagent", {"agent_id": 0}), ("check_subagent", {"agent_id": 7})]
        )
    if len(rounds) == 2:
        return Reply.tool_calls(
            [("wait_for_subagent", {"agent_id": 0}), ("wait_for_subagent", {"agent_id": 1})]
        )
    answers = [r["content"] for r in rounds[2]]
    return "Answers: " + "; ".join(answers)


async def test_main_model_delegates_to_two_subagents(mock, make_client):
    mock.script("*", script)
    main = make_client("gpt-4.1-mini")
    manager = SubAgentManager(
        make_client("gpt-4.1-nano"), tools=[Tool.from_function(capital)], max_rounds=3
    )
    try:
        conv, resp = await run_agent_loop(
            main, "Capitals of France and Peru?", tools=manager.get_tools(), max_rounds=6
        )
        assert resp.completion == "Answers: Capital: Paris; Capital: Lima", resp.error_message
        results = [r.result for m in conv.messages for r in m.tool_results]
        assert results[0] == {"agent_id": 0, "status": "running"}
        assert results[1] == {"agent_id": 1, "status": "running"}
        assert results[2] in ("Capital: Paris",) or "still running" in results[2]
        assert "no subagent with agent_id 7" in results[3]
        sub_conv, sub_resp = manager.result(1)
        assert sub_resp.agent_rounds == 2 and sub_conv.messages[2].tool_results[0].result == "Lima"
    finally:
        manager.close()


def test_manager_tools_and_refusals(make_client):
    manager = SubAgentManager(make_client("gpt-4.1-nano"))
    assert [t.name for t in manager.get_tools()] == [
        "start_subagent",
        "check_subagent",
        "wait_for_subagent",
    ]
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(manager)


def fan_out_script(view: RequestView) -> Reply | str:
    rounds = [m.tool_results for m in view.messages if m.tool_results]
    if "nano" in view.model:  # a sub-agent: square its number, then answer
        n = int(view.messages[0].text.split()[-1])
        return f"square {rounds[0][0]['content']}" if rounds else Reply.tool_call("sq", {"x": n})
    if len(rounds) == 0:  # the main model: 60 sub-agents in one reply, then wait for all
        return Reply.tool_calls([("start_subagent", {"task": f"Square {n}"}) for n in range(60)])
    if len(rounds) == 1:
        ids = [json.loads(r["content"])["agent_id"] for r in rounds[0]]
        return Reply.tool_calls([("wait_for_subagent", {"agent_id": i}) for i in ids])
    return "; ".join(r["content"] for r in rounds[1])


def sq(x: int) -> int:
    """Square a number."""
    return x * x


async def test_main_model_fans_out_to_60_subagents_on_the_shared_limiter(mock, make_client):
    mock.script("*", fan_out_script)
    main = make_client("gpt-4.1-mini", max_new_tokens=4096)  # 60 calls in one reply
    sub_client = make_client("gpt-4.1-nano")
    manager = SubAgentManager(
        sub_client, tools=[Tool.from_function(sq)], max_rounds=3, max_concurrent_agents=60
    )
    try:
        _, resp = await run_agent_loop(
            main, "Square 0..59", tools=manager.get_tools(), max_rounds=4
        )
        assert resp.completion == "; ".join(f"square {n * n}" for n in range(60))
        assert mock.stats()["requests"] == 3 + 60 * 2  # nothing sent twice, nothing skipped
        # The sub-loops' 120 model calls leased from the key's limiter, as one client.
        counted = [c.requests for s in sub_client.limiter_status() for c in s.clients]
        assert max(counted) >= 120, counted
    finally:
        manager.close()
