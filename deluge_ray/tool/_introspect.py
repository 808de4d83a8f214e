"""Read a Python function into a tool definition.

:func:`describe_function` looks at a function's signature, type hints, defaults,
``Annotated[..., "description"]`` metadata and docstring, and returns everything
``Tool.from_function`` needs: name, description, parameter schema and output schema.

Docstrings in the three common styles give parameter descriptions:

- Google: an ``Args:`` (or ``Arguments:``/``Parameters:``) section of ``name (type): text``;
- NumPy: a ``Parameters`` section underlined with dashes, ``name : type`` then indented text;
- Sphinx: ``:param name: text`` (or ``:param type name: text``) fields.

The first paragraph(s) before any section become the tool's description. A description
given with ``Annotated`` or ``pydantic.Field`` wins over the docstring.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import Field, create_model
from pydantic.fields import FieldInfo

from ..errors import ToolError
from ._schema import clean_schema, schema_for_type

__all__ = ["FunctionDescription", "describe_function", "parse_docstring"]

_GOOGLE_PARAM_HEADERS = {"args", "arguments", "parameters", "params", "keyword args"}
_GOOGLE_OTHER_HEADERS = {
    "returns",
    "return",
    "yields",
    "raises",
    "examples",
    "example",
    "notes",
    "note",
    "see also",
    "attributes",
    "warnings",
    "references",
}
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\*{0,2}\w+)\s*:\s*(.*)$")
_SPHINX_FIELD = re.compile(r"^:\w+")
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\*{0,2}\w+)\s*(?::.*)?$")


@dataclass
class FunctionDescription:
    """What a function says about itself, in tool terms."""

    name: str
    description: str
    properties: dict[str, Any]
    required: list[str]
    defs: dict[str, Any] | None
    output_schema: dict[str, Any] | None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _collect(items: dict[str, list[str]], name: str | None, text: str) -> None:
    if name is not None and text:
        items.setdefault(name.lstrip("*"), []).append(text)


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a docstring into (summary, {parameter: description}).

    >>> parse_docstring('''Find books.
    ...
    ...     Args:
    ...         query (str): Words to look for.
    ...         limit: How many
    ...             results to return.
    ...     ''')
    ('Find books.', {'query': 'Words to look for.', 'limit': 'How many results to return.'})
    """
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    params: dict[str, list[str]] = {}
    section: str | None = None  # "google", "numpy", "sphinx", "other" or None (summary)
    current: str | None = None
    item_indent = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        header = stripped.rstrip(":").lower()
        underline = i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
        if underline and _indent(line) == 0:
            # NumPy section header: "Parameters" followed by a row of dashes.
            section = "numpy" if header in _GOOGLE_PARAM_HEADERS else "other"
            current = None
            i += 2
            continue
        if stripped.endswith(":") and _indent(line) == 0 and header in _GOOGLE_PARAM_HEADERS:
            section, current, item_indent = "google", None, -1
        elif stripped.endswith(":") and _indent(line) == 0 and header in _GOOGLE_OTHER_HEADERS:
            section, current = "other", None
        elif _SPHINX_PARAM.match(stripped):
            match = _SPHINX_PARAM.match(stripped)
            assert match is not None
            section, current = "sphinx", match.group(1).lstrip("*")
            _collect(params, current, match.group(2).strip())
        elif _SPHINX_FIELD.match(stripped):
            section, current = "other", None
        elif section is None:
            summary.append(line)
        elif section == "google" and stripped:
            if item_indent < 0:
                item_indent = _indent(line)
            match = _GOOGLE_ITEM.match(stripped)
            if _indent(line) <= item_indent and match:
                current = match.group(1).lstrip("*")
                _collect(params, current, match.group(2).strip())
            else:
                _collect(params, current, stripped)
        elif section == "numpy" and stripped:
            match = _NUMPY_ITEM.match(stripped)
            if _indent(line) == 0 and match:
                current = match.group(1).lstrip("*")
            else:
                _collect(params, current, stripped)
        elif section == "sphinx" and stripped:
            _collect(params, current, stripped)
        i += 1
    text = "\n".join(summary).strip()
    return text, {name: " ".join(parts) for name, parts in params.items()}


def _annotated_description(hint: Any) -> str | None:
    if get_origin(hint) is Annotated:
        for extra in get_args(hint)[1:]:
            if isinstance(extra, str):
                return extra
            if isinstance(extra, FieldInfo) and extra.description:
                return extra.description
    return None


def _output_schema(hint: Any) -> dict[str, Any] | None:
    if hint is inspect.Signature.empty or hint is Any or hint is None or hint is type(None):
        return None
    try:
        return schema_for_type(hint)
    except ToolError:
        return None  # an undescribable return type only loses the optional output schema


def describe_function(func: Callable[..., Any]) -> FunctionDescription:
    """Introspect ``func`` (see the module docstring for what is read).

    Raises :class:`ToolError` when a parameter's type cannot be described in JSON Schema.
    """
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise ToolError(f"Cannot read the signature of {func!r}: {exc}") from exc
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception:
        # Unresolvable forward references: fall back to the raw annotations.
        hints = {
            name: param.annotation
            for name, param in signature.parameters.items()
            if param.annotation is not inspect.Parameter.empty
        }
    summary, doc_params = parse_docstring(inspect.getdoc(func))

    fields: dict[str, Any] = {}
    names: list[str] = []
    for index, (name, param) in enumerate(signature.parameters.items()):
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        hint = hints.get(name, Any)
        description = _annotated_description(hint) or doc_params.get(name)
        default = ... if param.default is inspect.Parameter.empty else param.default
        # Field names are synthetic so that names pydantic reserves (leading underscores,
        # "model_*") still work; the alias carries the real name into the schema.
        extra = {"description": description} if description else {}
        fields[f"p{index}"] = (hint, Field(default, alias=name, **extra))
        names.append(name)

    try:
        model = create_model(f"{getattr(func, '__name__', 'tool')}_arguments", **fields)
        schema = clean_schema(model.model_json_schema(by_alias=True))
    except Exception as exc:
        raise ToolError(
            f"Cannot build a parameter schema for {getattr(func, '__qualname__', func)!r}: "
            f"{exc}. Annotate parameters with JSON-compatible types."
        ) from exc

    properties = schema.get("properties", {})
    for name in names:
        # pydantic drops a description it was given for a $ref property; put it back.
        prop = properties.get(name)
        described = _annotated_description(hints.get(name)) or doc_params.get(name)
        if isinstance(prop, dict) and described and "description" not in prop:
            prop["description"] = described
    return FunctionDescription(
        name=getattr(func, "__name__", type(func).__name__),
        description=summary,
        properties=properties,
        required=list(schema.get("required", [])),
        defs=schema.get("$defs") or None,
        output_schema=_output_schema(hints.get("return", signature.return_annotation)),
    )
