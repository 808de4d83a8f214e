"""Validate JSON payloads against OpenAI's published OpenAPI description.

The spec lives outside the repository (``../shared/specs/openai-openapi.yaml``, or the path in
``DELUGE_RAY_OPENAPI_SPEC``). It marks optional-null fields with OpenAPI 3.0's
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
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_REPO = Path(__file__).resolve().parents[2]
_CANDIDATES = [
    Path(os.environ["DELUGE_RAY_OPENAPI_SPEC"])
    if os.environ.get("DELUGE_RAY_OPENAPI_SPEC")
    else None,
    _REPO.parent / "shared" / "specs" / "openai-openapi.yaml",
    _REPO / "shared" / "specs" / "openai-openapi.yaml",
]
_DOC_URI = "urn:openai-openapi"


def spec_path() -> Path:
    for candidate in _CANDIDATES:
        if candidate is not None and candidate.exists():
            return candidate
    raise FileNotFoundError(
        "openai-openapi.yaml not found; set DELUGE_RAY_OPENAPI_SPEC to its path "
        f"(looked in: {[str(c) for c in _CANDIDATES if c]})"
    )


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
    with open(spec_path()) as fh:
        raw = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return _patch_spec_bugs(_rewrite_nullable(raw))


@functools.lru_cache(maxsize=1)
def _registry() -> Registry:
    resource = Resource.from_contents(_document(), default_specification=DRAFT202012)
    return Registry().with_resource(_DOC_URI, resource)


def schema(name: str) -> dict[str, Any]:
    """The component schema ``name`` (after the nullable rewrite)."""
    return copy.deepcopy(_document()["components"]["schemas"][name])


def validate(name: str, instance: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``instance`` satisfies schema ``name``."""
    ref_schema = {"$ref": f"{_DOC_URI}#/components/schemas/{name}"}
    validator = jsonschema.Draft202012Validator(ref_schema, registry=_registry())
    errors = sorted(validator.iter_errors(instance), key=lambda e: len(list(e.absolute_path)))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise jsonschema.ValidationError(
            f"{name}: {best.message} at {list(best.absolute_path)}"
        ) from best
