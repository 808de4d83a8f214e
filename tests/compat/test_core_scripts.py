"""More seed scripts (responses, usage, sampling, tools, MCP, registry search, todos), run
with lm-deluge 0.0.168 and deluge_ray and compared field by field."""

from __future__ import annotations

import asyncio
import importlib
import json

import lm_deluge
import pytest
from typing_extensions import TypedDict

import deluge_ray

from .test_prompt_scripts import _shape


def _both(script):
    return script(lm_deluge), script(deluge_ray)


def test_log_round_trip_keeps_the_conversation():
    def script(lib):
        conv = lib.Conversation().system("s").user("u")
        conv.add(lib.Message.ai("a").with_tool_call("c", "f", {"x": [1, 2]}))
        conv.with_tool_result("c", "done")
        return _shape(lib.Conversation.from_log(conv.to_log()))

    theirs, ours = _both(script)
    assert ours == theirs


def test_from_anthropic_with_a_system_prompt():
    def script(lib):
        conv = lib.Conversation.from_anthropic(
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
            system="be nice",
        )
        return _shape(conv)

    theirs, ours = _both(script)
    assert ours == theirs


def test_message_constructors():
    def script(lib):
        return [
            _shape(lib.Conversation().add(m))
            for m in (lib.Message.user("u"), lib.Message.system("s"), lib.Message.ai("a"))
        ]

    theirs, ours = _both(script)
    assert ours == theirs


def test_api_response_conveniences():
    def script(lib):
        resp = lib.APIResponse(
            id=1,
            model_internal="gpt-4.1-mini",
            prompt=lib.Conversation().user("q"),
            sampling_params=lib.SamplingParams(),
            status_code=200,
            is_error=False,
            error_message=None,
            usage=importlib.import_module(lib.__name__ + ".usage").Usage(
                input_tokens=10, output_tokens=5, cache_read_tokens=2
            ),
            content=lib.Message.ai("the answer"),
        )
        u = resp.usage
        return (
            resp.completion,
            resp.input_tokens,
            resp.output_tokens,
            resp.cache_read_tokens,
            u.total_tokens,
            u.has_cache_hit,
        )

    theirs, ours = _both(script)
    assert ours == theirs


def test_sampling_params_defaults():
    fields = ("temperature", "top_p", "json_mode", "max_new_tokens", "reasoning_effort")

    def script(lib):
        sp = lib.SamplingParams()
        return {f: getattr(sp, f) for f in fields} | {"logprobs": sp.logprobs}

    theirs, ours = _both(script)
    assert ours == theirs


def _weather(city: str, days: int = 1) -> str:
    """Forecast."""
    return f"{city}:{days}"


async def _aweather(city: str) -> str:
    """Async forecast."""
    return f"async {city}"


def test_tool_call_and_acall_run_sync_and_async_functions():
    def script(lib):
        sync_tool = lib.Tool.from_function(_weather)
        async_tool = lib.Tool.from_function(_aweather)
        return (
            sync_tool.call(city="Oslo", days=2),
            asyncio.run(async_tool.acall(city="Rome")),
            asyncio.run(sync_tool.acall(city="Pisa")),
        )

    theirs, ours = _both(script)
    assert ours == theirs


class _Query(TypedDict):
    city: str
    limit: int


@pytest.mark.parametrize(
    "parameters",
    [{"city": str, "limit": int}, {"city": (str, {"description": "a city"})}, _Query],
    ids=["python-types", "type-with-extras", "typeddict"],
)
def test_tool_parameter_shorthands_give_the_same_schema(parameters):
    def script(lib):
        tool = lib.Tool(name="q", description="d", parameters=parameters)
        return tool.parameters, sorted(tool.required or [])

    theirs, ours = _both(script)
    assert ours == theirs


def test_mcp_server_for_openai_responses():
    """Without a token: 0.0.168 leaves a server's token out of the OpenAI spec, deluge_ray
    sends it as an Authorization header (listed in the README's differences)."""

    def script(lib):
        server = lib.MCPServer(name="docs", url="https://mcp.example/sse")
        return server.for_openai_responses()

    theirs, ours = _both(script)
    assert ours == theirs


def test_find_models_agrees_on_0_0_168_models():
    from lm_deluge.models import find_models as theirs_find

    from deluge_ray.models import find_models as ours_find

    for query in (
        {"provider": "openai", "name_contains": "gpt-5.4"},
        {"provider": "anthropic", "name_contains": "opus", "sort_by": "-input_cost"},
        {"provider": "groq", "max_input_cost": 0.5},
    ):
        assert [m.id for m in ours_find(**query)] == [m.id for m in theirs_find(**query)]


def test_todo_manager_driven_as_tools():
    def script(lib):
        prefab = __import__(lib.__name__ + ".tool.prefab", fromlist=["TodoManager"])
        tools = {t.name: t for t in prefab.TodoManager().get_tools()}
        todos = [
            {"id": "1", "content": "write", "status": "in_progress", "priority": "high"},
            {"id": "2", "content": "test", "status": "pending", "priority": "low"},
        ]
        tools["todowrite"].call(todos=todos)
        read = tools["todoread"].call()
        return json.loads(read) if isinstance(read, str) else read

    theirs, ours = _both(script)
    assert ours == theirs
