"""The OpenAPI validation helper itself accepts good payloads and rejects bad ones."""

from __future__ import annotations

import jsonschema
import pytest

from tests.support.openapi import validate


def test_minimal_chat_request_validates() -> None:
    validate(
        "CreateChatCompletionRequest",
        {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hi"}]},
    )


def test_bad_chat_request_is_rejected() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate("CreateChatCompletionRequest", {"model": "gpt-4.1-mini", "messages": "hi"})


def test_nullable_fields_accept_null() -> None:
    validate(
        "CreateChatCompletionRequest",
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": None},
    )


def test_responses_request_with_list_content_message_validates() -> None:
    # Overlapping oneOf branches in the spec are disambiguated by discriminators upstream.
    validate(
        "CreateResponse",
        {
            "model": "gpt-4.1-mini",
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            ],
        },
    )
