"""Validate JSON payloads against OpenAI's published OpenAPI description.

The schemas come from the cut vendored in ``tests/support/specs/`` (the schemas the tests use
and everything they reference; see its README and ``cut_openapi_spec.py``), so the tests
read nothing outside the repository. The spec marks optional-null fields with OpenAPI 3.0's
``nullable: true``, which a JSON-Schema 2020-12 validator ignores, so we rewrite those to
``type: [T, "null"]`` before validating. It also disambiguates unions with OpenAPI
``discriminator`` objects, which JSON Schema ignores; without them, overlapping ``oneOf``
branches (e.g. the Responses API's message input items) would reject valid payloads, so
``oneOf`` is validated as ``anyOf`` ("matches at least one branch").

Known spec bugs are patched in one place, :func:`_patch_spec_bugs`, each with its reason:

* ``CreateChatCompletionStreamResponse.choices[].finish_reason`` is ``nullable`` but its
  ``enum`` omits null, while the real API sends ``"finish_reason": null`` on every chunk
  but the last; null is added to that enum.

    >>> validate("CreateChatCompletionRequest", {"model": "gpt-4.1-mini", "messages": [...]})
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parent / "specs" / "openai-openapi-cut.json"
_DOC_URI = "urn:openai-openapi"


def _rewrite_nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _rewrite_nullable(v) for k, v in node.items()}
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        if node.pop("nullable", False):
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
            elif isinstance(kind, list) and "null" not in kind:
                node["type"] = [*kind, "null"]
            elif "type" not in node:
                node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_rewrite_nullable(v) for v in node]
    return node


def _patch_spec_bugs(document: dict[str, Any]) -> dict[str, Any]:
    """Fix the spec where it contradicts what the real API sends (see the module docstring)."""
    schemas = document["components"]["schemas"]
    choice = schemas["CreateChatCompletionStreamResponse"]["properties"]["choices"]["items"]
    finish = choice["properties"]["finish_reason"]
    if None not in finish.get("enum", [None]):
        finish["enum"] = [*finish["enum"], None]
    return document


@functools.lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    with open(SPEC_PATH, encoding="utf-8") as fh:
        raw = json.load(fh)
    return _patch_spec_bugs(_rewrite_nullable(raw))


@functools.lru_cache(maxsize=1)
def _registry() -> Registry:
    resource = Resource.from_contents(_document(), default_specification=DRAFT202012)
    return Registry().with_resource(_DOC_URI, resource)


def _require(name: str) -> None:
    if name not in _document()["components"]["schemas"]:
        raise KeyError(
            f"schema {name!r} is not in the vendored cut {SPEC_PATH.name}; add it to ROOTS in "
            "tests/support/cut_openapi_spec.py and rerun that script on the full spec"
        )


def schema(name: str) -> dict[str, Any]:
    """The component schema ``name`` (after the nullable rewrite)."""
    _require(name)
    return copy.deepcopy(_document()["components"]["schemas"][name])


def validate(name: str, instance: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``instance`` satisfies schema ``name``."""
    _require(name)
    ref_schema = {"$ref": f"{_DOC_URI}#/components/schemas/{name}"}
    validator = jsonschema.Draft202012Validator(ref_schema, registry=_registry())
    errors = sorted(validator.iter_errors(instance), key=lambda e: len(list(e.absolute_path)))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise jsonschema.ValidationError(
            f"{name}: {best.message} at {list(best.absolute_path)}"
        ) from best
