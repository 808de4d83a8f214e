"""The 0.0.168 import paths are aliases onto deluge_ray's own homes, and behave like 0.0.168."""

from __future__ import annotations

import asyncio
import importlib

import lm_deluge
import pytest

import deluge_ray

ALIASES = {
    "deluge_ray.prompt.conversation.Conversation": "deluge_ray.prompt.Conversation",
    "deluge_ray.prompt.message.Message": "deluge_ray.prompt.Message",
    "deluge_ray.prompt.image.Image": "deluge_ray.prompt.Image",
    "deluge_ray.prompt.file.File": "deluge_ray.prompt.File",
    "deluge_ray.prompt.text.Text": "deluge_ray.prompt.Text",
    "deluge_ray.prompt.thinking.Thinking": "deluge_ray.prompt.Thinking",
    "deluge_ray.prompt.tool_calls.ToolCall": "deluge_ray.prompt.ToolCall",
    "deluge_ray.tool.prefab.memory.MemoryManager": "deluge_ray.tool.prefab.MemoryManager",
    "deluge_ray.tool.prefab.todos.TodoManager": "deluge_ray.tool.prefab.TodoManager",
    "deluge_ray.tool.prefab.filesystem.FilesystemManager": (
        "deluge_ray.tool.prefab.FilesystemManager"
    ),
    "deluge_ray.tool.prefab.filesystem.InMemoryWorkspaceBackend": (
        "deluge_ray.tool.prefab.InMemoryWorkspace"
    ),
    "deluge_ray.tool.prefab.batch_tool.BatchTool": "deluge_ray.tool.prefab.BatchTool",
    "deluge_ray.tool.prefab.subagents.SubAgentManager": "deluge_ray.tool.prefab.SubAgentManager",
    "deluge_ray.tool.prefab.tool_search.ToolSearchTool": "deluge_ray.tool.prefab.ToolSearchTool",
    "deluge_ray.tool.prefab.otc.ToolComposer": "deluge_ray.tool.prefab.ToolComposer",
    "deluge_ray.pipelines.extract.extract": "deluge_ray.pipelines.extract",
    "deluge_ray.pipelines.translate.translate": "deluge_ray.pipelines.translate",
    "deluge_ray.pipelines.score.score_llm": "deluge_ray.pipelines.score_llm",
    "deluge_ray.usage.Usage": "deluge_ray.Usage",
    "deluge_ray.tracker.StatusTracker": "deluge_ray.StatusTracker",
}


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_alias_is_the_same_object_not_a_copy(alias):
    assert _resolve(alias) is _resolve(ALIASES[alias])


def _weather(city: str) -> str:
    """Weather of a city."""
    if city == "nowhere":
        raise ValueError("no such city")
    return f"sunny in {city}"


def _calls(lib):
    ToolCall = lib.prompt.ToolCall
    return [
        ToolCall(id="a", name="_weather", arguments={"city": "Paris"}),
        ToolCall(id="b", name="missing", arguments={}),
        ToolCall(id="c", name="_weather", arguments={"city": "nowhere"}),
    ]


def test_execute_tool_calls_matches_0_0_168():
    ours = asyncio.run(
        deluge_ray.execute_tool_calls(_calls(deluge_ray), [deluge_ray.Tool.from_function(_weather)])
    )
    theirs = asyncio.run(
        lm_deluge.execute_tool_calls(_calls(lm_deluge), [lm_deluge.Tool.from_function(_weather)])
    )
    assert ours == theirs
    assert ours[0] == ("a", "sunny in Paris")


def test_thinking_accepts_0_0_168_keywords():
    from deluge_ray.prompt import ThoughtSignature
    from deluge_ray.prompt.thinking import Thinking

    item = {"type": "reasoning", "id": "rs_1", "summary": []}
    part = Thinking("why", raw_payload=item, summary="short", thought_signature="sig")
    assert part.raw == item and part.summary == "short"
    assert part.thought_signature == ThoughtSignature("sig")
    assert Thinking("why", id="rs_2").raw == {"id": "rs_2"}


def test_from_registry_and_find_models():
    from deluge_ray.models import APIModel, find_models

    assert APIModel.from_registry("gpt-4.1-mini").name == "gpt-4.1-mini-2025-04-14"
    with pytest.raises(ValueError, match="not-a-model"):
        APIModel.from_registry("not-a-model")
    cheap = find_models(provider="openai", max_input_cost=0.2, sort_by="-input_cost")
    assert cheap and all(m.input_cost <= 0.2 for m in cheap)
    assert [m.input_cost for m in cheap] == sorted((m.input_cost for m in cheap), reverse=True)
    with pytest.raises(deluge_ray.ConfigurationError, match="sort_by"):
        find_models(sort_by="price")


@pytest.mark.parametrize(
    "headers",
    [{"retry-after-ms": "1500"}, {"retry-after": "7"}, {"retry-after": "9999"}, {}],
)
def test_parse_retry_after_matches_0_0_168(headers):
    from lm_deluge.api_requests.base import parse_retry_after as theirs

    from deluge_ray.api_requests.base import parse_retry_after as ours

    class Reply:
        pass

    reply = Reply()
    reply.headers = headers
    assert ours(reply) == theirs(reply)
