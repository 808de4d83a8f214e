"""A tool call whose arguments are not a JSON object is answered "your JSON was malformed",
not "missing required argument", on every wire format that carries arguments as text."""

from __future__ import annotations

import json

import pytest

from deluge_ray.agents._loop import agent_loop, execute_tool_calls, prepare_tools
from deluge_ray.api_requests import APIResponse, parse_response
from deluge_ray.config import SamplingParams
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation, ToolCall
from deluge_ray.tool import Tool

MODEL = get_model("gpt-4.1-mini")
calls_made: list[tuple[int, int]] = []


def add(a: int, b: int) -> int:
    """Add two numbers."""
    calls_made.append((a, b))
    return a + b


def chat_body(arguments: str) -> bytes:
    call = {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": arguments}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return json.dumps(
        {"id": "x", "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    ).encode()


def responses_body(arguments: str) -> bytes:
    item = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "add",
        "arguments": arguments,
    }
    return json.dumps({"id": "r", "status": "completed", "output": [item]}).encode()


def parsed_call(body: bytes, *, use_responses_api: bool = False) -> ToolCall:
    parsed = parse_response(MODEL, 200, {}, body, use_responses_api=use_responses_api)
    [call] = parsed.content.tool_calls
    return call


@pytest.mark.parametrize("responses_api", [False, True])
@pytest.mark.parametrize(
    ("arguments", "why"),
    [('{"a": 1, "b":', "are not valid JSON"), ("[1, 2]", "are JSON but not an object")],
)
async def test_broken_arguments_are_reported_as_malformed_json(arguments, why, responses_api):
    body = responses_body(arguments) if responses_api else chat_body(arguments)
    call = parsed_call(body, use_responses_api=responses_api)
    calls_made.clear()
    [(call_id, result)] = await execute_tool_calls([call], {"add": Tool.from_function(add)})
    assert call_id == "call_1"
    assert why in result and "'add'" in result and arguments in result
    assert "missing required" not in result
    assert calls_made == []  # the tool never ran on made-up empty arguments


async def test_well_formed_arguments_still_run_the_tool():
    call = parsed_call(chat_body('{"a": 2, "b": 3}'))
    [(_, result)] = await execute_tool_calls([call], {"add": Tool.from_function(add)})
    assert result == "5"


async def test_a_tool_called_with_no_arguments_still_says_what_is_missing():
    # Empty text is "no arguments", not malformed JSON: the usual message applies.
    call = parsed_call(chat_body(""))
    [(_, result)] = await execute_tool_calls([call], {"add": Tool.from_function(add)})
    assert "missing required argument" in result


async def test_the_agent_loop_tells_the_model_and_lets_it_retry():
    replies = [chat_body('{"a": 1 "b": 2}'), chat_body('{"a": 1, "b": 2}')]
    seen: list[Conversation] = []

    async def model_call(conversation, tools):
        seen.append(conversation)
        body = replies.pop(0) if replies else b""
        if not body:
            body = json.dumps(
                {"choices": [{"message": {"role": "assistant", "content": "3"}}]}
            ).encode()
        parsed = parse_response(MODEL, 200, {}, body)
        return APIResponse.from_parsed(
            parsed,
            id=0,
            model=MODEL,
            prompt=conversation,
            sampling_params=SamplingParams(),
            status_code=200,
        )

    tools = await prepare_tools([Tool.from_function(add)], force_local_mcp=False, native_mcp=False)
    conversation, final = await agent_loop(
        Conversation().user("1 + 2?"), model_call, tools=tools, max_rounds=4
    )
    assert final.completion == "3" and final.agent_rounds == 3
    first_result = conversation.messages[2].tool_results[0].result
    assert "are not valid JSON" in first_result
    assert conversation.messages[4].tool_results[0].result == "3"
