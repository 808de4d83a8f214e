"""Regenerate ``tests/support/specs/openai-openapi-cut.json`` from a full OpenAI OpenAPI file.

The tests validate payloads against a handful of OpenAI schemas. Rather than vendor the
3 MB description, the repository keeps only the schemas in :data:`ROOTS` plus every schema
they reference (transitively), with annotation-only keywords (descriptions, examples,
titles, ...) dropped: they do not change what validates and make up most of the bytes.
Validation rules are kept verbatim; the nullable/oneOf rewrite and the spec-bug patches are
applied when the cut is loaded (``tests/support/openapi.py``), so the file stays a faithful
subset of upstream.

Usage (from the repository root)::

    python tests/support/cut_openapi_spec.py path/to/openai-openapi.yaml

Add a name to :data:`ROOTS` before validating against a schema the cut does not hold yet.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

OUTPUT = Path(__file__).resolve().parent / "specs" / "openai-openapi-cut.json"
_SCHEMA_PREFIX = "#/components/schemas/"

# Every schema a test validates against; what they reference is pulled in automatically.
ROOTS = (
    "Batch",
    "CreateChatCompletionRequest",
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CreateEmbeddingRequest",
    "CreateEmbeddingResponse",
    "CreateResponse",
    "EasyInputMessage",
    "FunctionCallOutputItemParam",
    "FunctionToolCall",
    "OpenAIFile",
    "ReasoningItem",
    "Response",
)

# Annotation keywords: JSON Schema validators ignore them, so dropping them changes nothing
# that validates. Keys of a ``properties`` map are property names, never dropped.
_ANNOTATIONS = frozenset(
    {"description", "example", "examples", "title", "deprecated", "x-oaiMeta", "x-oaiTypeLabel"}
)
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})


def referenced_schemas(node: Any) -> set[str]:
    """Names of the component schemas that ``node`` references directly."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                if not ref.startswith(_SCHEMA_PREFIX):
                    raise ValueError(f"unsupported $ref {ref!r}: the cut holds only schemas")
                found.add(ref[len(_SCHEMA_PREFIX) :])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def closure(schemas: dict[str, Any], roots: tuple[str, ...] | list[str]) -> set[str]:
    """``roots`` and every schema reachable from them through ``$ref``."""
    missing = [name for name in roots if name not in schemas]
    if missing:
        raise KeyError(f"schemas not in the spec: {missing}")
    kept: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        kept.add(name)
        pending.extend(referenced_schemas(schemas[name]) - kept)
    return kept


def strip_annotations(node: Any, names_map: bool = False) -> Any:
    """``node`` without annotation keywords (see :data:`_ANNOTATIONS`)."""
    if isinstance(node, dict):
        return {
            key: strip_annotations(value, key in _NAME_MAPS and not names_map)
            for key, value in node.items()
            if names_map or key not in _ANNOTATIONS
        }
    if isinstance(node, list):
        return [strip_annotations(value) for value in node]
    return node


def cut(document: dict[str, Any]) -> dict[str, Any]:
    """The vendored subset of an OpenAPI ``document``."""
    schemas = document["components"]["schemas"]
    kept = sorted(closure(schemas, ROOTS))
    return {
        "openapi": document.get("openapi"),
        "info": {"version": document.get("info", {}).get("version")},
        "components": {"schemas": {name: strip_annotations(schemas[name]) for name in kept}},
    }


def dumps(subset: dict[str, Any]) -> str:
    """JSON with one schema per line: compact, yet a regenerated cut diffs schema by schema."""
    schemas = subset["components"]["schemas"]
    lines = [
        f"  {json.dumps(name)}: {json.dumps(body, sort_keys=True, separators=(',', ':'))}"
        for name, body in schemas.items()
    ]
    head = {k: v for k, v in subset.items() if k != "components"}
    head_text = json.dumps(head, sort_keys=True, separators=(",", ":"))[1:-1]
    return "{" + head_text + ',"components":{"schemas":{\n' + ",\n".join(lines) + "\n}}}\n"


def main(argv: list[str] | None = None) -> int:
    """Read the full spec named on the command line and rewrite :data:`OUTPUT`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help="the full openai-openapi.yaml")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help="where to write")
    args = parser.parse_args(argv)
    with open(args.spec, encoding="utf-8") as fh:
        document = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    subset = cut(document)
    args.output.write_text(dumps(subset), encoding="utf-8")
    count = len(subset["components"]["schemas"])
    print(f"wrote {count} schemas to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
