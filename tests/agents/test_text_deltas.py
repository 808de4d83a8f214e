"""``on_text_delta`` on driver-side agent loops: each round's text as it streams, resets on
failed attempts, the callback's own exception raised out of the loop, nothing for a cache
hit. Against the mock's real SSE streams, with lm-deluge 0.0.168 as the oracle."""

from __future__ import annotations

import asyncio
import os
import re
import threading

import lm_deluge
import pytest
import ray

from deluge_ray import TextDeltaEvent
from deluge_ray._secrets import Secret
from deluge_ray.cache import SqliteCache
from deluge_ray.client._routes import limiter_name
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import Reply, RequestView, ToolCallReply
from deluge_ray.mock._validate import MockHTTPError
from deluge_ray.models import get_model
from deluge_ray.tool import Tool
from deluge_ray.transport._text_stream import streams_text
from tests.agents.conftest import lm_deluge_on


def square(x: int) -> int:
    """Square a number."""
    return x * x


def one_tool_round(view: RequestView) -> Reply | str:
    """Round 0 says something and squares n; round 1 answers in a few words."""
    n = int(re.search(r"loop (\d+)", view.messages[0].text).group(1))
    results = [r for m in view.messages for r in m.tool_results]
    if not results:
        return Reply(f"Let me square {n} first.", (ToolCallReply("square", {"x": n}),))
    content = results[0]["content"]
    if isinstance(content, dict):  # Gemini's functionResponse wraps the value
        content = content["result"]
    return f"The square of {n} is {content}, as computed."


def _collect(events: list) -> object:
    async def on_text_delta(event) -> None:
        events.append((event.kind, event.round, event.text))

    return on_text_delta


def test_streams_text_follows_lm_deluge_on_which_models_stream():
    assert streams_text(get_model("gpt-4.1-mini"))
    assert streams_text(get_model("claude-4.5-haiku"))
    assert streams_text(get_model("gemini-2.5-flash"))
    assert streams_text(get_model("gpt-4.1-mini"), use_responses_api=True)
    assert not streams_text(get_model("gpt-4.1-mini"), use_responses_api=True, background=True)
    openai_compatible = next(
        m
        for m in map(get_model, _registry_ids())
        if m.api_spec == "openai" and m.provider != "openai"
    )
    assert not streams_text(openai_compatible)  # ordinary requests, as 0.0.168


def _registry_ids() -> list[str]:
    from deluge_ray.models import registry

    return list(registry)


@pytest.mark.parametrize("responses_api", [False, True], ids=["chat", "responses"])
async def test_each_rounds_text_arrives_as_lm_deluges_does(
    mock, make_client, monkeypatch, responses_api
):
    mock.script("*", one_tool_round)
    ours: list = []
    client = make_client(use_responses_api=responses_api)
    _conv, response = await client.run_agent_loop(
        "loop 7", tools=[Tool.from_function(square)], on_text_delta=_collect(ours)
    )
    assert response.completion == "The square of 7 is 49, as computed."
    # Every model call went out streamed (the mock saw stream=true), one per round.
    assert mock.stats()["requests"] == 2

    oracle = lm_deluge_on(
        mock, monkeypatch, "text-delta-oracle-on-mock", use_responses_api=responses_api
    )
    theirs: list = []
    await oracle.run_agent_loop(
        "loop 7", tools=[lm_deluge.Tool.from_function(square)], on_text_delta=_collect(theirs)
    )
    assert ours == theirs
    endpoint = "responses" if responses_api else "chat.completions"
    assert mock.stats()["by_endpoint"] == {endpoint: 4}  # both clients, both rounds
    assert "".join(t for kind, rnd, t in ours if rnd == 0) == "Let me square 7 first."
    assert "".join(t for kind, rnd, t in ours if rnd == 1) == response.completion
    assert len(ours) > 2  # in pieces, not one event per round


async def test_a_failed_attempt_is_reset_and_streamed_again(mock, make_client):
    calls = {"n": 0}
    streamed: list[bool] = []
    lock = threading.Lock()

    def fail_first(view: RequestView) -> str:
        with lock:
            calls["n"] += 1
            first = calls["n"] == 2  # the first after the warm-up
            streamed.append(view.stream)
        if first:
            raise MockHTTPError(500, "The server had an error while processing your request.")
        return "Recovered on the second attempt."

    mock.script("*", fail_first)
    events: list[TextDeltaEvent] = []

    async def on_text_delta(event: TextDeltaEvent) -> None:
        events.append(event)

    client = make_client()
    client.start_nowait("warm up")  # the shared limiter exists before the count starts
    await client.wait_for_all()
    limiter = ray.get_actor(
        limiter_name("openai", Secret(os.environ["OPENAI_API_KEY"])), "deluge_ray"
    )
    granted = ray.get(limiter.stats.remote())["granted_requests"]
    _conv, response = await client.run_agent_loop("loop 1", on_text_delta=on_text_delta)
    assert response.completion == "Recovered on the second attempt."
    # Both attempts took capacity from the key's shared RateLimiter, as any request does.
    assert ray.get(limiter.stats.remote())["granted_requests"] - granted >= 2
    assert events[0] == TextDeltaEvent("reset", 0, "gpt-4.1-mini")
    assert [e.kind for e in events[1:]] == ["text"] * (len(events) - 1)
    assert "".join(e.text for e in events[1:]) == response.completion
    assert streamed == [False, True, True]  # the warm-up, then two streamed attempts


async def test_the_callbacks_exception_ends_the_loop_without_a_retry(mock, make_client):
    mock.script("*", lambda view: "A reply that will not be read to its end.")

    async def on_text_delta(event: TextDeltaEvent) -> None:
        raise RuntimeError("the user closed the window")

    with pytest.raises(RuntimeError, match="the user closed the window"):
        await make_client().run_agent_loop("loop 2", on_text_delta=on_text_delta)
    assert mock.stats()["requests"] == 1


async def test_a_cached_reply_streams_nothing(mock, make_client, tmp_path):
    mock.script("*", lambda view: f"Cached answer to {view.last_user_text}.")
    client = make_client(cache=SqliteCache(str(tmp_path / "c.sqlite")))
    first: list = []
    _c, fresh = await client.run_agent_loop("loop 3", on_text_delta=_collect(first))
    again: list = []
    _c, cached = await client.run_agent_loop("loop 3", on_text_delta=_collect(again))
    assert fresh.completion == cached.completion == "Cached answer to loop 3."
    assert first and again == []  # as 0.0.168: a cache hit emits no text events
    assert cached.local_cache_hit and mock.stats()["requests"] == 1


def test_sync_loops_run_the_callback_and_plain_functions_work(mock, make_client):
    mock.script("*", lambda view: "Synchronous and streamed.")
    events: list = []
    client = make_client()
    _c, response = client.run_agent_loop_sync(
        "loop 4", on_text_delta=lambda e: events.append((e.kind, e.text))
    )
    assert "".join(text for _, text in events) == response.completion
    task_id = client.start_agent_loop_nowait("loop 5", on_text_delta=_collect(later := []))
    _c, response = asyncio.run(client.wait_for_agent_loop(task_id))
    assert "".join(t for _, _, t in later) == response.completion


async def test_a_swarm_with_on_text_delta_runs_its_loops_on_the_driver(mock, make_client):
    mock.script("*", one_tool_round)
    events: list = []
    client = make_client()
    results = await client.process_agent_loops_async(
        [f"loop {n}" for n in (2, 3, 4)],
        tools=[Tool.from_function(square)],
        max_concurrent_agents=1,  # one at a time: the events of each loop in a row
        on_text_delta=_collect(events),
    )
    answers = [response.completion for _, response in results]
    assert answers == [f"The square of {n} is {n * n}, as computed." for n in (2, 3, 4)]
    expected = "".join(f"Let me square {n} first." + answers[i] for i, n in enumerate((2, 3, 4)))
    assert "".join(text for _, _, text in events) == expected
    assert {rnd for _, rnd, _ in events} == {0, 1}


async def test_in_a_swarm_a_raising_callback_fails_only_its_loop(mock, make_client, tmp_path):
    mock.script("*", lambda view: f"Answer to {view.last_user_text}.")

    async def on_text_delta(event: TextDeltaEvent) -> None:
        if "6" in event.text:  # only loop 6's reply has a 6, in whichever piece
            raise ValueError("no loop 6 on this screen")

    client = make_client()
    results = await client.process_agent_loops_async(
        ["loop 5", "loop 6", "loop 7"], on_text_delta=on_text_delta
    )
    assert [r.completion for _, r in results] == ["Answer to loop 5.", None, "Answer to loop 7."]
    assert results[1][1].is_error and results[1][1].error_message == "no loop 6 on this screen"
    with pytest.raises(ConfigurationError, match="checkpoint= cannot be combined"):
        await client.process_agent_loops_async(
            ["loop 8"], on_text_delta=on_text_delta, checkpoint=str(tmp_path / "c.sqlite")
        )


@pytest.mark.parametrize(
    ("model", "options", "streams"),
    [
        pytest.param("claude-4.5-haiku", {}, True, id="anthropic"),
        pytest.param("gemini-2.5-flash", {}, True, id="gemini"),
        pytest.param("gpt-4.1-mini", {"use_responses_api": True}, True, id="openai-responses"),
        pytest.param(
            "gpt-4.1-mini",
            {"use_responses_api": True, "background": True},
            False,
            id="openai-background",
        ),
    ],
)
async def test_each_wire_format_streams_as_lm_deluge_does(
    mock, make_client, model, options, streams
):
    seen_stream: list[bool] = []

    def script(view: RequestView) -> Reply | str:
        seen_stream.append(view.stream)
        return one_tool_round(view)

    mock.script("*", script)
    events: list = []
    client = make_client(model, **options)
    _conv, response = await client.run_agent_loop(
        "loop 9", tools=[Tool.from_function(square)], on_text_delta=_collect(events)
    )
    assert response.completion == "The square of 9 is 81, as computed."
    assert seen_stream[-2:] == [streams, streams]  # (background mode also polls)
    if streams:  # the tool-calling round's text, then the answer's, each in its round
        assert "".join(t for _, rnd, t in events if rnd == 0) == "Let me square 9 first."
        assert "".join(t for _, rnd, t in events if rnd == 1) == response.completion
    else:  # background mode is polled, not streamed: no text
        assert events == []


async def test_a_model_a_streamed_call_found_unusable_is_spared_later(mock, make_client):
    def refuse(view: RequestView) -> str:
        raise MockHTTPError(401, "Incorrect API key provided.")

    mock.script("*", refuse)
    client = make_client()
    _c, response = await client.run_agent_loop("loop 1", on_text_delta=_collect([]))
    assert response.is_error and response.status_code == 401
    sent = mock.stats()["requests"]
    # The engine's later calls (through the callers) know the model is unusable.
    [later] = await client.process_prompts_async(["after"], show_progress=False)
    assert later.is_error and "blocklisted" in later.error_message
    assert mock.stats()["requests"] == sent


async def test_in_a_swarm_on_the_driver_a_tool_factory_failing_once_fails_one_loop(
    mock, make_client
):
    mock.script("*", lambda view: f"Answer to {view.last_user_text}.")
    calls = {"n": 0}

    def tools() -> list:
        calls["n"] += 1
        if calls["n"] == 3:  # the first call checks the factory; then one per loop
            raise RuntimeError("no workspace left")
        return [Tool.from_function(square)]

    results = await make_client().process_agent_loops_async(
        ["loop 1", "loop 2", "loop 3"],
        tools=tools,
        max_concurrent_agents=1,
        on_text_delta=_collect([]),
    )
    answers = [(r.completion, r.error_message) for _, r in results]
    assert answers == [
        ("Answer to loop 1.", None),
        (None, "no workspace left"),
        ("Answer to loop 3.", None),
    ]
    with pytest.raises(ConfigurationError, match="tool factory takes no arguments"):
        await make_client().process_agent_loops_async(
            ["loop 4"], tools=lambda workspace: [], on_text_delta=_collect([])
        )
