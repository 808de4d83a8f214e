"""LLMClient against the real mock provider: ordering, prompt types, options, tasks, tracker."""

from __future__ import annotations

import asyncio

import pytest

from deluge_ray.client import LLMClient
from deluge_ray.prompt import Conversation, Message

from .conftest import MINI


def reply_to(text: str) -> str:
    return f"Mock reply to: {text}"


async def test_results_come_back_in_input_order(mock, make_client):
    client = make_client(num_callers=2)
    prompts = [f"prompt number {i}" for i in range(40)]
    results = await client.process_prompts_async(prompts, show_progress=False)
    assert [r.completion for r in results] == [reply_to(p) for p in prompts]
    assert [r.id for r in results] == list(range(40))
    assert all(r.prompt.messages[-1].completion == p for r, p in zip(results, prompts, strict=True))
    assert all(not r.is_error and r.model_internal == MINI for r in results)
    assert mock.stats()["requests"] == 40


async def test_every_prompt_type_is_accepted(mock, make_client):
    client = make_client()
    prompts = [
        "plain string",
        Message.user("a message"),
        Conversation().system("be brief").user("a conversation"),
        [{"role": "user", "content": "openai list"}],
        [{"role": "user", "content": [{"type": "text", "text": "anthropic list"}]}],
    ]
    results = await client.process_prompts_async(prompts, show_progress=False)
    expected = ["plain string", "a message", "a conversation", "openai list", "anthropic list"]
    assert [r.completion for r in results] == [reply_to(t) for t in expected]


async def test_return_completions_only_gives_strings(mock, make_client):
    client = make_client()
    out = await client.process_prompts_async(
        ["a", "b"], return_completions_only=True, show_progress=False
    )
    assert out == [reply_to("a"), reply_to("b")]


async def test_postprocess_runs_on_every_response_on_the_driver(mock, make_client):
    seen = []

    def shout(resp):  # a closure over local state: it would not survive pickling to an actor
        seen.append(resp.id)
        resp.content.text_parts[0].text = resp.completion.upper()
        return resp

    client = make_client(postprocess=shout)
    out = await client.process_prompts_async(["x", "y", "x"], show_progress=False)
    assert [r.completion for r in out] == [
        reply_to("x").upper(),
        reply_to("y").upper(),
        reply_to("x").upper(),
    ]
    assert sorted(seen) == [0, 1, 2]


async def test_identical_prompts_in_flight_are_sent_once(mock, make_client):
    client = make_client()
    prompts = ["same"] * 6 + ["different"]
    out = await client.process_prompts_async(prompts, show_progress=False)
    assert [r.completion for r in out] == [reply_to(p) for p in prompts]
    assert mock.stats()["requests"] == 2
    # Each position still has its own response object, with its own id.
    assert len({id(r) for r in out}) == 7 and [r.id for r in out] == list(range(7))


async def test_tasks_start_wait_and_as_completed(mock, make_client):
    client = make_client()
    client.open(show_progress=False)
    ids = [client.start_nowait(f"task {i}") for i in range(5)]
    seen = {}
    async for task_id, resp in client.as_completed(ids):
        seen[task_id] = resp.completion
    assert seen == {tid: reply_to(f"task {i}") for i, tid in enumerate(ids)}
    assert (await client.wait_for(ids[2])).completion == reply_to("task 2")
    all_results = await client.wait_for_all()
    assert [r.completion for r in all_results] == [reply_to(f"task {i}") for i in range(5)]
    single = await client.start("one more")
    assert single.completion == reply_to("one more") and single.id == ids[-1] + 1
    client.close()


def test_start_nowait_needs_no_event_loop_and_wait_for_works_in_a_later_loop(mock, make_client):
    client = make_client()
    client.open(show_progress=False)
    task_id = client.start_nowait("from sync code")
    resp = asyncio.run(client.wait_for(task_id))
    assert resp.completion == reply_to("from sync code")
    client.close()


def test_sync_call_inside_a_running_event_loop(mock, make_client):
    client = make_client()

    async def notebook_cell():
        # Like a Jupyter cell: a loop is running and the user calls the sync API.
        return client.process_prompts_sync(["inside a loop"], show_progress=False)

    out = asyncio.run(notebook_cell())
    assert out[0].completion == reply_to("inside a loop")
    assert client.process_prompts_sync(["plain"], show_progress=False)[0].completion == (
        reply_to("plain")
    )


async def test_open_close_reset_tracker_share_one_display(mock, make_client, capsys):
    client = make_client()
    client.open(total=3, show_progress=True)
    await client.process_prompts_async(["a", "b"])
    await client.process_prompts_async(["c"])
    snap = client.tracker.snapshot()
    # Both batches counted on the one open tracker; the announced total is not re-counted.
    assert (snap.total, snap.succeeded, snap.requests_sent) == (3, 3, 3)
    assert snap.input_tokens > 0 and snap.output_tokens > 0
    client.reset_tracker()
    assert client.tracker.snapshot().succeeded == 0
    await client.process_prompts_async(["d"])
    client.close()
    out = capsys.readouterr().out
    assert "3 succeeded, 0 failed" in out and "1 succeeded, 0 failed" in out
    assert client.tracker is None


async def test_show_progress_false_prints_nothing(mock, make_client, capsys):
    client = make_client(progress="rich")
    await client.process_prompts_async(["quiet"], show_progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_from_dict_and_from_yaml(tmp_path):
    cfg = {
        "model_names": [MINI, "gpt-4.1-nano"],
        "max_requests_per_minute": 50,
        "sampling_params": [{"temperature": 0.1, "max_new_tokens": 20}],
        "model_weights": [3, 1],
    }
    client = LLMClient.from_dict(cfg)
    assert client.model_names == [MINI, "gpt-4.1-nano"]
    assert [sp.max_new_tokens for sp in client.sampling_params] == [20, 20]
    assert client.model_weights == [0.75, 0.25]
    path = tmp_path / "client.yaml"
    path.write_text(
        "model_names: gpt-4.1-mini\nmax_tokens_per_minute: 5000\n"
        "sampling_params:\n  temperature: 0.5\n"
    )
    loaded = LLMClient.from_yaml(str(path))
    assert loaded.max_tokens_per_minute == 5000
    assert loaded.sampling_params[0].temperature == 0.5
    assert loaded.name == MINI


def test_with_limits_updates_the_client_and_returns_it():
    client = LLMClient(MINI)
    assert client.with_limits(max_requests_per_minute=10, max_concurrent_requests=3) is client
    assert (
        client.max_requests_per_minute,
        client.max_tokens_per_minute,
        client.max_concurrent_requests,
    ) == (10, 500_000, 3)
    with pytest.raises(ValueError, match="max_tokens_per_minute"):
        client.with_limits(max_tokens_per_minute=-5)


async def test_default_pool_starts_one_caller_and_adds_the_rest_at_the_first_answer(
    mock, make_client
):
    # A cold single-prompt call must not wait for worker processes it does not use.
    client = make_client(num_callers=None, max_concurrent_requests=256)
    assert client.num_callers == 2
    pool = client._ensure_engine().pool
    assert len(pool.live_callers()) == 1
    first = await client.process_prompts_async(["first"], show_progress=False)
    assert first[0].completion == reply_to("first")
    assert len(pool.live_callers()) == 2
    prompts = [f"after growth {i}" for i in range(30)]
    results = await client.process_prompts_async(prompts, show_progress=False)
    assert [r.completion for r in results] == [reply_to(p) for p in prompts]


async def test_a_chosen_pool_size_starts_whole(mock, make_client):
    client = make_client(num_callers=2)
    assert len(client._ensure_engine().pool.live_callers()) == 2


async def test_raw_response_is_the_providers_json_reply(mock, make_client):
    # Callers ship the undecoded body; the driver decodes it on first access.
    client = make_client()
    (result,) = await client.process_prompts_async(["raw please"], show_progress=False)
    raw = result.raw_response
    assert raw["object"] == "chat.completion"
    assert raw["id"] == result.response_id
    assert raw["choices"][0]["message"]["content"] == reply_to("raw please")
    assert raw["usage"]["completion_tokens"] == result.output_tokens
    assert result.to_dict()["raw_response"] == raw
    assert result.raw_response is raw  # decoded once, then kept


def test_model_dump_and_model_validate_round_trip_the_configuration():
    client = LLMClient(
        [MINI, "gpt-4.1-nano"],
        model_weights=[3, 1],
        fallback_models=["gpt-4o-mini"],
        max_new_tokens=40,
        global_effort="max",
        thinking_budget=1024,
        request_timeout=12,
        progress="manual",
    )
    dumped = client.model_dump()
    assert dumped["model_names"] == [MINI, "gpt-4.1-nano", "gpt-4o-mini"]
    assert dumped["model_weights"] == [0.75, 0.25, 0.0]
    assert dumped["sampling_params"][0]["max_new_tokens"] == 40
    assert dumped["sampling_params"][2]["verbosity"] == "max"
    again = LLMClient.model_validate(dumped)
    assert again.model_dump() == dumped
    assert LLMClient.model_validate(client) is client
    assert set(client.model_dump(include=["name", "progress"])) == {"name", "progress"}


def test_global_effort_and_verbosity_are_one_setting_down_to_the_sampling_params():
    for kwargs in (dict(global_effort="max"), dict(verbosity="max")):
        client = LLMClient(MINI, **kwargs)
        assert (client.global_effort, client.verbosity) == ("max", "max")
        sp = client.sampling_params[0]
        assert (sp.global_effort, sp.verbosity) == ("max", "max")
    assert LLMClient(MINI).sampling_params[0].global_effort is None


def test_effort_suffixes_xhigh_and_max_set_the_reasoning_effort():
    assert LLMClient("o3-xhigh").sampling_params[0].reasoning_effort == "xhigh"
    client = LLMClient("gpt-5-max")
    assert (client.model_names, client.reasoning_effort) == (["gpt-5"], "max")


def test_with_model_and_with_models_switch_models_keeping_fallbacks():
    client = LLMClient(MINI, fallback_models=["gpt-4.1-nano"], max_new_tokens=33)
    assert client.model_weights == [1.0, 0.0]
    assert client.with_model("o3-high") is client
    assert client.model_names == ["o3", "gpt-4.1-nano"]
    assert client.model_weights == [1.0, 0.0]
    assert [sp.reasoning_effort for sp in client.sampling_params] == ["high", "high"]
    assert [sp.max_new_tokens for sp in client.sampling_params] == [33, 33]
    client.with_models([MINI, "gpt-4o-mini"])
    assert client.model_names == [MINI, "gpt-4o-mini", "gpt-4.1-nano"]
    assert client.model_weights == [0.5, 0.5, 0.0]
    with pytest.raises(ValueError, match="non-empty list"):
        client.with_models([])


async def test_with_model_after_a_call_sends_to_the_new_model(mock, make_client):
    client = make_client(MINI)
    [first] = await client.process_prompts_async(["one"], show_progress=False)
    client.with_model("gpt-4.1-nano")
    [second] = await client.process_prompts_async(["two"], show_progress=False)
    assert (first.model_internal, second.model_internal) == (MINI, "gpt-4.1-nano")


async def test_a_fallback_model_answers_when_the_primary_says_use_another(mock, make_client):
    from deluge_ray.mock._validate import MockHTTPError

    quota = MockHTTPError(429, "You exceeded your current quota", code="insufficient_quota")
    calls = {"n": 0}

    def refuse_once(view):
        calls["n"] += 1
        if calls["n"] == 1:
            raise quota
        return "primary"

    mock.script("gpt-4.1-mini-2025-04-14", refuse_once)
    client = make_client(MINI, fallback_models=["gpt-4.1-nano"])
    first, second = [
        (await client.process_prompts_async([p], show_progress=False))[0] for p in ("a", "b")
    ]
    assert first.model_internal == "gpt-4.1-nano" and not first.is_error
    assert second.model_internal == MINI and second.completion == "primary"


async def test_an_xhigh_suffix_model_answers_end_to_end_on_the_mock(mock, make_client):
    [resp] = await make_client("o3-xhigh").process_prompts_async(["think"], show_progress=False)
    assert not resp.is_error and resp.completion
    assert resp.sampling_params.reasoning_effort == "xhigh"


async def test_empty_batches_return_empty_lists(mock, make_client):
    client = make_client(MINI)
    assert await client.process_prompts_async([]) == []
    assert await client.process_agent_loops_async([]) == []
    assert client.process_agent_loops_sync([]) == []
