"""Budgets against the mock provider through real Ray actors: a client's budget and a key
budget shared by two clients stop prompts before they are sent, naming the budget."""

from __future__ import annotations

import time
import uuid

import pytest
import ray

from deluge_ray.mock import Reply, RequestView
from deluge_ray.models import get_model
from deluge_ray.ratelimit._budget import worst_case_cost
from tests.support.clients import mock_fixtures

MINI = "gpt-4.1-mini"

mock_server, mock, make_client = mock_fixtures(2, model=MINI, max_new_tokens=100)


def worst_case(tokens: int = 110) -> float:
    """About one short prompt's worst-case cost: ~10 prompt tokens + max_new_tokens=100
    (what ``SpendGate.cost`` reserves for it)."""
    return worst_case_cost(get_model(MINI), tokens)


def test_a_client_budget_stops_the_remaining_prompts_before_they_are_sent(
    mock, make_client, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-budget-{uuid.uuid4().hex}")
    sent_before = mock.stats()["requests"]
    worst = worst_case()
    budget = 1.5 * worst
    client = make_client(MINI, budget_usd=budget)
    out = client.process_prompts_sync([f"prompt {i}" for i in range(30)], show_progress=False)
    done = [r for r in out if not r.is_error]
    stopped = [r for r in out if r.is_error]
    # more than the one worst case that fits at once was sent: each answer's unused worst
    # case was refunded and the prompts held meanwhile went on, until less than one worst
    # case was left
    assert 1 < len(done) < 30
    assert all("budget_usd" in r.error_message for r in stopped)
    # nothing was sent for the stopped prompts
    assert mock.stats()["requests"] - sent_before == len(done)
    spent = sum(r.cost or 0.0 for r in done)
    assert budget - worst < spent <= budget


def test_a_key_budget_caps_every_client_of_the_key(mock, make_client, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-keybudget-{uuid.uuid4().hex}")
    cap = 1.5 * worst_case()
    one = make_client(MINI, key_budget_usd=cap, priority="batch")
    two = make_client(MINI, key_budget_usd=cap, priority="interactive")
    out_one = one.process_prompts_sync([f"job one {i}" for i in range(3)], show_progress=False)
    out_two = two.process_prompts_sync([f"job two {i}" for i in range(30)], show_progress=False)
    assert not any(r.is_error for r in out_one)
    done_two = [r for r in out_two if not r.is_error]
    stopped = [r for r in out_two if r.is_error]
    assert done_two and stopped and all("key_budget_usd" in r.error_message for r in stopped)
    # the second job went on while refunds made room, and stopped within one worst case
    # of what was left of the key's budget after the first job
    spent_both = sum(r.cost or 0.0 for r in out_one + done_two)
    assert cap - worst_case() < spent_both <= cap
    # one ledger for the key: it holds what both clients actually spent
    # (refunds are sent without waiting for an answer: poll until the last one is in; the
    # time it takes is not asserted)
    limiter = two._routes[0].limiter
    actual = sum(r.cost or 0.0 for r in out_one + done_two)
    for _ in range(500):
        spent = ray.get(limiter.key_spend.remote(86_400))
        if spent == pytest.approx(actual, rel=1e-6, abs=1e-12):
            break
        time.sleep(0.02)
    assert spent == pytest.approx(actual, rel=1e-6, abs=1e-12)


def square(x: int) -> int:
    """Square a number."""
    return x * x


def always_a_tool_call(view: RequestView) -> Reply:
    """A model that never stops calling tools: only a budget (or max_rounds) ends its loops."""
    return Reply.tool_call("square", {"x": 2})


def _client_spend(client) -> float:
    """The client's own spend as its budget's limiter knows it (settles are sent without
    waiting for an answer: poll until two reads agree; the time it takes is not asserted)."""
    limiter = client._routes[0].limiter
    client_id = client.tenancy.tenant.client_id
    last = None
    for _ in range(500):
        status = ray.get(limiter.status.remote())
        spent = next(c.spend_usd for c in status.clients if c.client_id == client_id)
        if spent == last:
            return spent
        last = spent
        time.sleep(0.02)
    return last


async def test_a_client_budget_ends_agent_loops_in_subagents_and_on_the_driver(
    mock, make_client, monkeypatch
) -> None:
    from deluge_ray.agents._swarm import process_agent_loops_async
    from deluge_ray.tool import Tool

    monkeypatch.setenv("OPENAI_API_KEY", f"sk-agent-budget-{uuid.uuid4().hex}")
    mock.script("*", always_a_tool_call)
    worst = worst_case()
    budget = 1.5 * worst
    client = make_client(MINI, budget_usd=budget)
    tools = [Tool.from_function(square)]

    sent_before = mock.stats()["requests"]
    results = await process_agent_loops_async(
        client, ["loop a", "loop b", "loop c"], tools=tools, max_rounds=100, num_actors=1
    )
    sent = mock.stats()["requests"] - sent_before
    assert all(r.is_error and "budget_usd" in r.error_message for _, r in results)
    # every call sent is an assistant turn of a loop: none after a loop's stop; more than
    # the one worst case that fits at once was sent (refunds made room), never beyond the
    # budget (how close to it is the prompt test's: a loop's calls grow round by round)
    assert sent == sum(m.role == "assistant" for conv, _ in results for m in conv.messages)
    assert sent > 1
    assert 0 < _client_spend(client) <= budget

    # the driver's loops share the budget the swarm spent: the first call is not sent
    sent_before = mock.stats()["requests"]
    conv, resp = await client.run_agent_loop("square it", tools=tools, max_rounds=100)
    assert resp.is_error and "budget_usd" in resp.error_message
    assert mock.stats()["requests"] == sent_before
    assert not any(m.role == "assistant" for m in conv.messages)
