"""Unscripted, the mock behaves like a provider: it calls the tool a question asks for,
answers once the tool result is back, fills structured output with plausible values, and
rejects empty conversations the way Anthropic and Gemini do. Proved with the official SDKs
(Gemini over raw HTTP: its SDK is not a dependency), streaming included."""

from __future__ import annotations

import json

import aiohttp
import anthropic
import openai
import pytest

WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "The city to look up."}},
    "required": ["city"],
}
CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": WEATHER_PARAMS,
    },
}
OTHER_CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        },
    },
}
QUESTION = "What's the weather in Paris?"
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 18, "maximum": 99},
        "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "mood": {"type": "string", "enum": ["happy", "sad"]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "nickname": {"type": ["string", "null"]},
    },
    "required": ["name", "age", "score", "mood", "tags", "nickname"],
    "additionalProperties": False,
}


def _check_person(value: dict) -> None:
    assert set(value) == set(PERSON["properties"])
    assert isinstance(value["name"], str) and value["name"].strip()
    assert isinstance(value["age"], int) and 18 <= value["age"] <= 99
    assert 0 < value["score"] <= 1
    assert value["mood"] in ("happy", "sad")
    assert 1 <= len(value["tags"]) <= 3 and all(t for t in value["tags"])
    assert isinstance(value["nickname"], str) and value["nickname"]


def _openai(mock) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=mock.openai_base_url, api_key="sk-test")


def _anthropic(mock) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=mock.url, api_key="sk-ant-test")


async def test_openai_chat_calls_the_asked_for_tool_then_answers(mock):
    client = _openai(mock)
    messages = [{"role": "user", "content": QUESTION}]
    first = await client.chat.completions.create(
        model="gpt-4.1-mini", messages=messages, tools=[OTHER_CHAT_TOOL, CHAT_TOOL]
    )
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = first.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny and 21°C in Paris"},
    ]
    second = await client.chat.completions.create(
        model="gpt-4.1-mini", messages=messages, tools=[CHAT_TOOL]
    )
    assert second.choices[0].finish_reason == "stop"
    assert "Sunny and 21°C in Paris" in second.choices[0].message.content


async def test_openai_chat_tool_choice_and_unrelated_questions(mock):
    client = _openai(mock)

    async def ask(text: str, **kw):
        result = await client.chat.completions.create(
            model="gpt-4.1-mini", messages=[{"role": "user", "content": text}], **kw
        )
        return result.choices[0]

    # A question no tool is about gets a plain answer, as from a real model.
    assert (await ask("Tell me a joke.", tools=[CHAT_TOOL])).finish_reason == "stop"
    assert (await ask(QUESTION, tools=[CHAT_TOOL], tool_choice="none")).finish_reason == "stop"
    forced = await ask("Tell me a joke.", tools=[CHAT_TOOL], tool_choice="required")
    assert forced.message.tool_calls[0].function.name == "get_weather"
    named = await ask(
        QUESTION,
        tools=[CHAT_TOOL, OTHER_CHAT_TOOL],
        tool_choice={"type": "function", "function": {"name": "add"}},
    )
    assert named.message.tool_calls[0].function.name == "add"
    assert json.loads(named.message.tool_calls[0].function.arguments) == {"a": 1, "b": 1}


async def test_openai_chat_streamed_tool_call(mock):
    stream = await _openai(mock).chat.completions.create(
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[CHAT_TOOL],
        stream=True,
    )
    names, arguments, finish = [], "", None
    async for chunk in stream:
        if not chunk.choices:
            continue
        for call in chunk.choices[0].delta.tool_calls or []:
            if call.function.name:
                names.append(call.function.name)
            arguments += call.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert names == ["get_weather"] and json.loads(arguments) == {"city": "Paris"}
    assert finish == "tool_calls"


async def test_openai_responses_calls_the_tool_then_answers(mock):
    client = _openai(mock)
    tool = {"type": "function", "name": "get_weather", "parameters": WEATHER_PARAMS}
    tool["description"] = "Current weather for a city."
    first = await client.responses.create(model="gpt-4.1-mini", input=QUESTION, tools=[tool])
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    second = await client.responses.create(
        model="gpt-4.1-mini",
        input=[
            {"role": "user", "content": QUESTION},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"},
        ],
        tools=[tool],
    )
    assert not [item for item in second.output if item.type == "function_call"]
    assert "Sunny" in second.output_text


async def test_openai_structured_output_is_plausible(mock):
    client = _openai(mock)
    chat = await client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "Invent a person."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": PERSON, "strict": True},
        },
    )
    _check_person(json.loads(chat.choices[0].message.content))
    responses = await client.responses.create(
        model="gpt-4.1-mini",
        input="Invent a person.",
        text={"format": {"type": "json_schema", "name": "person", "schema": PERSON}},
    )
    _check_person(json.loads(responses.output_text))
    stream = await client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "Invent a person."}],
        response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": PERSON}},
        stream=True,
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    _check_person(json.loads(text))


async def test_anthropic_calls_the_tool_then_answers_streaming_too(mock):
    client = _anthropic(mock)
    tool = {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "input_schema": WEATHER_PARAMS,
    }
    messages = [{"role": "user", "content": QUESTION}]
    first = await client.messages.create(
        model="claude-4.5-sonnet", max_tokens=300, messages=messages, tools=[tool]
    )
    assert first.stop_reason == "tool_use"
    (use,) = [b for b in first.content if b.type == "tool_use"]
    assert use.name == "get_weather" and use.input == {"city": "Paris"}
    async with client.messages.stream(
        model="claude-4.5-sonnet", max_tokens=300, messages=messages, tools=[tool]
    ) as stream:
        streamed = await stream.get_final_message()
    assert [b.input for b in streamed.content if b.type == "tool_use"] == [{"city": "Paris"}]
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "Sunny"}],
        },
    ]
    second = await client.messages.create(
        model="claude-4.5-sonnet", max_tokens=300, messages=messages, tools=[tool]
    )
    assert second.stop_reason == "end_turn" and "Sunny" in second.content[0].text


async def test_anthropic_structured_output_is_plausible(mock):
    result = await _anthropic(mock).messages.create(
        model="claude-4.5-sonnet",
        max_tokens=500,
        messages=[{"role": "user", "content": "Invent a person."}],
        extra_body={"output_format": {"type": "json_schema", "schema": PERSON}},
    )
    _check_person(json.loads(result.content[0].text))


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        ([], "messages: at least one message is required"),
        ([{"role": "user", "content": ""}], "messages.0: all messages must have non-empty"),
        ([{"role": "user", "content": []}], "messages.0: all messages must have non-empty"),
        (
            [{"role": "user", "content": [{"type": "text", "text": ""}]}],
            "text content blocks must be non-empty",
        ),
    ],
)
async def test_anthropic_rejects_empty_conversations_like_the_api(mock, messages, needle):
    with pytest.raises(anthropic.BadRequestError) as caught:
        await _anthropic(mock).messages.create(
            model="claude-4.5-sonnet", max_tokens=50, system="Be brief.", messages=messages
        )
    assert caught.value.status_code == 400
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert needle in caught.value.body["error"]["message"]


async def test_anthropic_allows_an_empty_final_assistant_prefill(mock):
    result = await _anthropic(mock).messages.create(
        model="claude-4.5-sonnet",
        max_tokens=50,
        messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}],
    )
    assert result.stop_reason == "end_turn"


async def _gemini(mock, body: dict, stream: bool = False) -> tuple[int, object]:
    action = "streamGenerateContent?alt=sse" if stream else "generateContent"
    url = f"{mock.gemini_base_url}/models/gemini-2.5-flash:{action}"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body, headers={"x-goog-api-key": "g"}) as response:
            if not stream:
                return response.status, await response.json()
            text = await response.text()
            lines = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
            return response.status, [json.loads(line) for line in lines]


async def test_gemini_calls_the_tool_then_answers_and_fills_schemas(mock):
    declaration = {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}},
    }
    tools = [{"functionDeclarations": [declaration]}]
    question = {"role": "user", "parts": [{"text": QUESTION}]}
    status, body = await _gemini(mock, {"contents": [question], "tools": tools})
    assert status == 200
    parts = body["candidates"][0]["content"]["parts"]
    assert parts == [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]
    status, chunks = await _gemini(mock, {"contents": [question], "tools": tools}, stream=True)
    assert status == 200 and chunks[-1]["candidates"][0]["content"]["parts"] == parts
    answer = {
        "contents": [
            question,
            {"role": "model", "parts": parts},
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "get_weather", "response": {"r": "Sun"}}}],
            },
        ],
        "tools": tools,
    }
    status, body = await _gemini(mock, answer)
    assert "Sun" in body["candidates"][0]["content"]["parts"][0]["text"]
    config = {"responseMimeType": "application/json", "responseJsonSchema": PERSON}
    status, body = await _gemini(
        mock, {"contents": [{"parts": [{"text": "A person"}]}], "generationConfig": config}
    )
    _check_person(json.loads(body["candidates"][0]["content"]["parts"][0]["text"]))


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"contents": []}, "contents is not specified"),
        (
            {"systemInstruction": {"parts": [{"text": "Be brief."}]}, "contents": []},
            "contents is not specified",
        ),
        ({"contents": [{"role": "user", "parts": []}]}, "contents.parts must not be empty"),
        ({"contents": [{"role": "user", "parts": [{"text": ""}]}]}, "empty text parameter"),
    ],
)
async def test_gemini_rejects_empty_conversations_like_the_api(mock, body, needle):
    status, error = await _gemini(mock, body)
    assert status == 400
    assert error["error"]["status"] == "INVALID_ARGUMENT" and error["error"]["code"] == 400
    assert needle in error["error"]["message"]


async def test_openai_responses_built_in_tools_are_not_called_as_functions(mock):
    result = await _openai(mock).responses.create(
        model="gpt-4.1-mini", input="Search the web for comets.", tools=[{"type": "web_search"}]
    )
    assert [item.type for item in result.output] == ["message"]
    assert "comets" in result.output_text
