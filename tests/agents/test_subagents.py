"""SubAgentManager: a main model delegates sub-tasks to sub-loops on SubAgent actors."""

from __future__ import annotations

import json
import pickle

import lm_deluge
import lm_deluge.tool.prefab
import pytest

from deluge_ray.agents._loop import run_agent_loop
from deluge_ray.mock import Reply, RequestView
from deluge_ray.mock._validate import MockHTTPError
from deluge_ray.tool import Tool
from deluge_ray.tool.prefab._subagents import SubAgentManager
from tests.agents.conftest import lm_deluge_on

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
        assert results[:2] == ["0", "1"]  # the bare ids, as 0.0.168's tool returns them
        assert results[2] in (
            "Capital: Paris",
            "Subagent 0 is still running. Call this tool again to check status.",
        )
        assert results[3] == "Error: Subagent 7 not found"
        sub_conv, sub_resp = manager.result(1)
        assert sub_resp.agent_rounds == 2 and sub_conv.messages[2].tool_results[0].result == "Lima"
        # 0.0.168's record of each sub-agent.
        record = manager.subagents[1]
        assert (record["status"], record["error"]) == ("finished", None)
        assert record["response"].completion == "Capital: Lima" and record["conversation"]
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
        ids = [json.loads(r["content"]) for r in rounds[0]]
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


def sub_task(view: RequestView) -> str:
    task = view.messages[0].text
    if "fail" in task:
        raise MockHTTPError(400, "This request was refused by the content policy.")
    return f"Done: {task}" if "quiet" not in task else ""


async def test_the_tools_answer_what_lm_deluges_answer(mock, make_client, monkeypatch):
    mock.script("*", sub_task)
    ours = SubAgentManager(make_client("gpt-4.1-nano", max_attempts=1), max_rounds=2)
    theirs_client = lm_deluge_on(mock, monkeypatch, "subagents-oracle-on-mock", max_attempts=1)
    theirs = lm_deluge.tool.prefab.SubAgentManager(theirs_client, max_rounds=2)
    try:
        said = {}
        for name, manager in (("ours", ours), ("theirs", theirs)):
            ids = [await manager._start_subagent(t) for t in ("task a", "quiet b", "fail c")]
            answers = [await manager._wait_for_subagent(i) for i in ids]
            missing = await manager._check_subagent(99)
            said[name] = (ids, answers[:2], answers[2].startswith("Error: "), missing)
            assert [manager.subagents[i]["status"] for i in ids] == ["finished"] * 2 + ["error"]
        assert said["ours"] == said["theirs"]
        assert said["ours"][1] == ["Done: task a", "Subagent finished with no output"]
    finally:
        ours.close()
