"""The README's weather agent loop, unscripted, ends the way it would on a real provider:
one tool call, the tool's result, then a final answer that uses it (every wire format)."""

from __future__ import annotations

import pytest

from deluge_ray.prompt import Conversation
from deluge_ray.tool import Tool
from tests.support.clients import mock_fixtures

mock_server, mock, make_client = mock_fixtures(0)


def get_weather(city: str) -> str:
    """Current weather for a city.

    Args:
        city: The city to look up.
    """
    return f"Sunny and 21°C in {city}"


@pytest.mark.parametrize(
    ("model", "responses_api"),
    [
        pytest.param("gpt-4.1-mini", False, id="openai-chat"),
        pytest.param("gpt-4.1-mini", True, id="openai-responses"),
        pytest.param("claude-4.5-haiku", False, id="anthropic"),
        pytest.param("gemini-2.5-flash", False, id="gemini"),
    ],
)
def test_readme_weather_loop_calls_the_tool_and_answers(mock, make_client, model, responses_api):
    client = make_client(model, use_responses_api=responses_api)
    conversation, final = client.run_agent_loop_sync(
        Conversation().user("What's the weather in Paris?"),
        tools=[Tool.from_function(get_weather)],
        max_rounds=5,
    )
    assert final.error_message is None
    assert final.loop_stop_reason == "no_tool_calls" and final.agent_rounds == 2
    assert [m.role for m in conversation.messages] == ["user", "assistant", "tool", "assistant"]
    (result,) = conversation.messages[2].tool_results
    assert "Sunny and 21°C in Paris" in str(result.result)
    assert "Sunny and 21°C in Paris" in final.completion
