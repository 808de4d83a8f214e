"""The OpenAPI validation helper itself accepts good payloads and rejects bad ones."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.support.cut_openapi_spec import ROOTS, closure, cut, dumps
from tests.support.openapi import SPEC_PATH, validate


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


def test_vendored_cut_is_closed_under_refs() -> None:
    # Every $ref in the cut names a schema the cut holds, so validation never hits a hole.
    schemas = json.loads(SPEC_PATH.read_text(encoding="utf-8"))["components"]["schemas"]
    assert set(ROOTS) <= set(schemas)
    assert closure(schemas, ROOTS) == set(schemas)


def test_schema_outside_the_cut_names_the_regeneration_script() -> None:
    with pytest.raises(KeyError, match=r"'AssistantObject'.*cut_openapi_spec\.py"):
        validate("AssistantObject", {})


def test_cut_keeps_referenced_schemas_and_property_names_but_drops_annotations() -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"version": "9"},
        "components": {
            "schemas": {
                **{name: {"type": "object"} for name in ROOTS},
                "Batch": {
                    "description": "dropped",
                    "type": "object",
                    "properties": {
                        "description": {"type": "string", "description": "dropped too"},
                        "inner": {"$ref": "#/components/schemas/Inner"},
                    },
                },
                "Inner": {"title": "dropped", "type": "integer", "example": 3},
                "Unused": {"type": "string"},
            }
        },
    }
    schemas = cut(document)["components"]["schemas"]
    assert "Inner" in schemas and "Unused" not in schemas
    assert schemas["Batch"] == {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "inner": {"$ref": "#/components/schemas/Inner"},
        },
    }
    assert schemas["Inner"] == {"type": "integer"}
    assert json.loads(dumps(cut(document))) == cut(document)
