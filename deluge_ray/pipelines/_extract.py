"""Structured extraction: text, images or files in, pydantic objects (or dicts) out.

Each input becomes one prompt asking for a JSON object matching the schema; the schema is
also sent as the request's structured-output format. A completion that is not valid JSON,
or does not validate against a pydantic schema, becomes an *error entry* for that input
(``{"error": ..., "raw": ...}``) so one bad answer never sinks the batch.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ..errors import ConfigurationError
from ..prompt import Conversation, File, Image, Message
from ._common import PromptClient, parse_json_completion

__all__ = ["extract", "extract_async", "extraction_prompt", "parse_extraction"]

_INSTRUCTIONS = (
    "Extract the {object_name} from the {document_name} {where}. Answer with only a JSON "
    "object that matches this JSON schema, with no other text:\n\n{schema}"
)


def _schema_dict(schema: Any) -> dict[str, Any]:
    if isinstance(schema, dict):
        return schema
    if hasattr(schema, "model_json_schema"):
        return schema.model_json_schema()
    raise ConfigurationError(
        f"schema must be a pydantic BaseModel class or a JSON-schema dict, got {type(schema).__name__}."
    )


def extraction_prompt(
    item: Any, schema: Any, *, document_name: str | None = None, object_name: str | None = None
) -> Conversation:
    """The prompt for one input: a string (text), an :class:`Image`, a :class:`File`, or a
    ready :class:`Conversation` (used as is)."""
    if isinstance(item, Conversation):
        return item
    schema_text = json.dumps(_schema_dict(schema), indent=2)
    where = (
        "text below"
        if isinstance(item, str)
        else "attached " + ("image" if isinstance(item, Image) else "file")
    )
    instructions = _INSTRUCTIONS.format(
        object_name=object_name or "information",
        document_name=document_name or "document",
        where=where,
        schema=schema_text,
    )
    if isinstance(item, str):
        return Conversation([Message.user(f"{instructions}\n\n---\n{item}")])
    if isinstance(item, Image):
        return Conversation([Message.user(instructions).with_image(item)])
    if isinstance(item, File):
        return Conversation([Message.user(instructions).with_file(item)])
    raise ConfigurationError(
        f"extract inputs must be str, Image, File or Conversation; got {type(item).__name__}."
    )


def parse_extraction(completion: str | None, schema: Any) -> Any:
    """One completion as a schema instance (pydantic) or dict; an error dict if unusable."""
    try:
        data = parse_json_completion(completion)
    except ValueError as exc:
        return {"error": f"The model's answer is not JSON: {exc}", "raw": completion}
    if hasattr(schema, "model_validate"):
        try:
            return schema.model_validate(data)
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            return {
                "error": f"The answer does not match {schema.__name__}: {exc}",
                "raw": completion,
            }
    if not isinstance(data, dict):
        return {"error": "The answer is JSON but not an object.", "raw": completion}
    missing = [k for k in _schema_dict(schema).get("required", []) if k not in data]
    if missing:
        return {"error": f"The answer lacks required fields {missing}.", "raw": completion}
    return data


async def extract_async(
    inputs: list[Any],
    schema: Any,
    client: PromptClient,
    document_name: str | None = None,
    object_name: str | None = None,
    show_progress: bool = True,
    return_prompts: bool = False,
) -> list[Any]:
    """Extract one object per input, in input order (error dicts for failed inputs).

    ``return_prompts=True`` returns the prompts without calling the model.

        >>> from pydantic import BaseModel
        >>> class Person(BaseModel):
        ...     name: str
        >>> people = await extract_async(["Ada wrote notes."], Person, client)  # doctest: +SKIP
    """
    if not inputs:
        return []
    _schema_dict(schema)  # fail before any request when the schema is unusable
    prompts = [
        extraction_prompt(item, schema, document_name=document_name, object_name=object_name)
        for item in inputs
    ]
    if return_prompts:
        return prompts
    responses = await client.process_prompts_async(
        prompts, output_schema=schema, show_progress=show_progress
    )
    results: list[Any] = []
    for response in responses:
        if response is None or getattr(response, "is_error", False):
            reason = getattr(response, "error_message", None) or "no response"
            results.append({"error": f"The request failed: {reason}", "raw": None})
        else:
            results.append(parse_extraction(response.completion, schema))
    return results


def extract(inputs: list[Any], schema: Any, client: PromptClient, **kwargs: Any) -> list[Any]:
    """:func:`extract_async` for synchronous code."""
    return asyncio.run(extract_async(inputs, schema, client, **kwargs))
