"""The advanced-workflows reference's small patterns, run for real against the mock provider.

- the ``trim_completion`` post-processing hook, written as the reference writes it;
- ``return_completions_only=True`` feeding plain strings into a data pipeline;
- ``start_nowait()`` with a local cache, so a repeated prompt is never sent twice.
"""

from __future__ import annotations

import json
from collections import Counter

from deluge_ray import APIResponse, Conversation, Tool
from deluge_ray.cache import SqliteCache
from deluge_ray.mock import Reply, RequestView
from tests.support.clients import mock_fixtures

MODEL = "gpt-4.1-mini"


# ---- fixtures (module-local; they replace the package's per-test async mock) -------------
mock_server, mock, make_client = mock_fixtures(
    1, model=MODEL, client_needs_mock=True, max_attempts=2
)


# ---- post-processing: the reference's trim_completion ------------------------------------
def trim_completion(resp: APIResponse) -> APIResponse:
    if resp.content and resp.content.text_parts:
        first = resp.content.text_parts[0]
        first.text = first.text.strip()
    return resp


def padded_echo(view: RequestView) -> Reply | str:
    """Answer with the prompt in capitals, wrapped in whitespace; call a tool when asked."""
    if view.last_user_text == "use the tool":
        return Reply.tool_call("add", {"a": 1, "b": 2})
    return f"  \n\t{view.last_user_text.upper()} done \n\n "


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def test_trim_completion_strips_every_completion(mock, make_client):
    mock.script("*", padded_echo)
    client = make_client(postprocess=trim_completion)
    prompts = ["first", "second", "use the tool", "third"]
    responses = await client.process_prompts_async(prompts, tools=[Tool.from_function(add)])

    assert [r.is_error for r in responses] == [False] * 4
    assert [r.completion for r in responses] == ["FIRST done", "SECOND done", None, "THIRD done"]
    # The hook's guard lets a reply without text through untouched (the tool call is kept).
    assert responses[2].content.tool_calls[0].name == "add"
    assert mock.stats()["requests"] == 4


async def test_trim_completion_without_the_hook_keeps_whitespace(mock, make_client):
    # The control: the same script, no hook, shows the mock really pads its replies.
    mock.script("*", padded_echo)
    [resp] = await make_client().process_prompts_async(["first"])
    assert resp.completion == "  \n\tFIRST done \n\n "


async def test_trim_completion_applies_to_cache_hits_and_the_cache_keeps_the_original(
    mock, make_client, tmp_path
):
    mock.script("*", padded_echo)
    cache = SqliteCache(tmp_path / "trim.db")
    client = make_client(postprocess=trim_completion, cache=cache)
    [fresh] = await client.process_prompts_async(["alpha"])
    [again] = await client.process_prompts_async(["alpha"])

    assert fresh.completion == again.completion == "ALPHA done"
    assert again.local_cache_hit and mock.stats()["requests"] == 1
    # The engine caches before post-processing, so the stored reply is the provider's own.
    assert cache.get(Conversation().user("alpha")).completion == "  \n\tALPHA done \n\n "


# ---- return_completions_only feeding a data pipeline -------------------------------------
def classify(view: RequestView) -> str:
    review = view.last_user_text.removeprefix("Classify: ")
    label = "positive" if "love" in review or "great" in review else "negative"
    return json.dumps({"review": review, "label": label})


def test_return_completions_only_streams_strings_into_a_pipeline(mock, make_client):
    mock.script("*", classify)
    reviews = ["I love it", "broke in a day", "great value", "meh, returned it", "love the colour"]
    client = make_client()
    completions = client.process_prompts_sync(
        [f"Classify: {r}" for r in reviews], return_completions_only=True
    )

    # Plain strings, in input order, ready for ordinary data tools.
    assert all(isinstance(c, str) for c in completions)
    rows = [json.loads(c) for c in completions]
    assert [row["review"] for row in rows] == reviews
    assert Counter(row["label"] for row in rows) == {"positive": 3, "negative": 2}
    assert mock.stats()["requests"] == len(reviews)


async def test_return_completions_only_gives_none_for_a_reply_without_text(mock, make_client):
    mock.script("*", padded_echo)
    completions = await make_client().process_prompts_async(
        ["hello", "use the tool"], return_completions_only=True, tools=[Tool.from_function(add)]
    )
    assert completions == ["  \n\tHELLO done \n\n ", None]


# ---- start_nowait + local caching: a repeated prompt is never re-issued ------------------
async def test_start_nowait_with_a_sqlite_cache_never_resends_a_prompt(mock, make_client, tmp_path):
    answers = iter(["answer #1", "answer #2", "answer #3"])
    mock.script("*", lambda view: next(answers))  # a re-sent prompt would get a new answer
    path = tmp_path / "shared.db"
    prompt_text = "Summarise the quarterly report."
    prompt = Conversation().user(prompt_text)

    client = make_client(cache=SqliteCache(path))
    first = await client.wait_for(client.start_nowait(prompt))
    assert first.completion == "answer #1" and not first.local_cache_hit

    # The "retry": the same prompt queued again on the same client.
    second = await client.wait_for(client.start_nowait(prompt))
    # And on a new client (another worker, or a re-run of the job) sharing the cache file.
    other = make_client(cache=SqliteCache(path))
    third = await other.wait_for(other.start_nowait(Conversation().user(prompt_text)))

    assert mock.stats()["requests"] == 1
    for resp in (second, third):
        assert resp.local_cache_hit is True
        assert resp.completion == "answer #1" and not resp.is_error


async def test_start_nowait_with_cache_still_sends_a_different_prompt(mock, make_client, tmp_path):
    mock.script("*", lambda view: "reply to " + view.last_user_text)
    client = make_client(cache=SqliteCache(tmp_path / "c.db"))
    first = await client.wait_for(client.start_nowait("one"))
    mixed = await client.wait_for_all([client.start_nowait(p) for p in ["one", "two"]])
    again = await client.wait_for(client.start_nowait("two"))

    assert first.completion == "reply to one" and not first.local_cache_hit
    assert [(r.completion, r.local_cache_hit) for r in mixed] == [
        ("reply to one", True),
        ("reply to two", False),
    ]
    assert again.completion == "reply to two" and again.local_cache_hit
    # Four prompts queued, two distinct: only the two distinct ones reached the provider.
    assert mock.stats()["requests"] == 2
