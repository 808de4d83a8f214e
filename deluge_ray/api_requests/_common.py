"""Helpers every wire format shares: auth headers, body merging, schemas, efforts, tools."""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Mapping
from typing import Any

from .._constants import ANTHROPIC_VERSION
from .._secrets import Secret
from ..config import SamplingParams
from ..errors import ConfigurationError, ToolError
from ..models import APIModel
from ._errors import classify_error
from ._types import ParsedResponse
from .response import Usage

__all__ = [
    "EFFORT_BUDGETS",
    "auth_headers",
    "cost_of",
    "deep_merge",
    "failed",
    "finish_headers",
    "load_json",
    "make_usage",
    "no_background",
    "no_mcp_servers",
    "output_schema_dict",
    "split_tools",
    "strict_schema",
    "thinking_budget_for",
    "tool_arguments",
]

ApiKey = Secret | str | None

# Thinking tokens granted per reasoning effort on providers that take a budget (Anthropic,
# Gemini). Anthropic's minimum budget is 1024, so "minimal" maps there too.
EFFORT_BUDGETS: dict[str, int] = {
    **{"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384},
    **{"xhigh": 16384, "max": 16384},  # as 0.0.168: thinking budgets top out at "high"
}


def _reveal(api_key: ApiKey) -> str | None:
    # The one place a key is unwrapped: right where it goes into a header.
    if api_key is None:
        return None
    return api_key.reveal() if isinstance(api_key, Secret) else str(api_key)


def auth_headers(api_spec: str, api_key: ApiKey) -> dict[str, str]:
    """The provider's authentication (and version) headers; none for a keyless server."""
    key = _reveal(api_key)
    headers: dict[str, str] = {"content-type": "application/json"}
    if api_spec == "anthropic":
        headers["anthropic-version"] = ANTHROPIC_VERSION
        if key:
            headers["x-api-key"] = key
    elif api_spec == "gemini":
        if key:
            headers["x-goog-api-key"] = key
    elif key:
        headers["Authorization"] = f"Bearer {key}"
    return headers


def finish_headers(
    headers: dict[str, str], betas: list[str], extra_headers: Mapping[str, str] | None
) -> dict[str, str]:
    """Add Anthropic beta flags (merged with any the caller passes) and ``extra_headers``."""
    out = dict(headers)
    extra = dict(extra_headers or {})
    user_beta = next((v for k, v in extra.items() if k.lower() == "anthropic-beta"), None)
    extra = {k: v for k, v in extra.items() if k.lower() != "anthropic-beta"}
    flags = [b.strip() for b in (user_beta or "").split(",") if b.strip()]
    for beta in betas:
        if beta not in flags:
            flags.append(beta)
    out.update(extra)
    if flags:
        out["anthropic-beta"] = ",".join(flags)
    return out


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """``base`` with ``extra`` merged in: nested dicts merge, anything else is replaced.

    >>> deep_merge({"a": {"x": 1}, "b": 1}, {"a": {"y": 2}, "b": 3})
    {'a': {'x': 1, 'y': 2}, 'b': 3}
    """
    out = dict(base)
    for key, value in (extra or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_json(body: bytes | str) -> Any:
    """Parse a response body; ``None`` when it is not JSON (the caller treats that as retry)."""
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return None


def output_schema_dict(output_schema: Any) -> tuple[str, dict[str, Any]]:
    """``(name, JSON schema)`` from a pydantic model class or a JSON-schema dict."""
    if isinstance(output_schema, dict):
        name = str(output_schema.get("title") or "output")
        return _schema_name(name), copy.deepcopy(output_schema)
    schema_method = getattr(output_schema, "model_json_schema", None)
    if callable(schema_method):
        return _schema_name(getattr(output_schema, "__name__", "output")), schema_method()
    raise ConfigurationError(
        f"output_schema must be a pydantic BaseModel class or a JSON-schema dict, got "
        f"{type(output_schema).__name__}."
    )


def _schema_name(name: str) -> str:
    # OpenAI allows only [a-zA-Z0-9_-] in json_schema names, up to 64 characters.
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
    return (cleaned or "output")[:64]


def strict_schema(schema: Any) -> Any:
    """A copy of ``schema`` in the form strict structured outputs require.

    Every object gets ``additionalProperties: false`` and lists all its properties as
    required (optional ones become nullable); ``default`` values, which strict mode
    rejects, are dropped.

    >>> strict_schema({"type": "object", "properties": {"a": {"type": "string"}}})["required"]
    ['a']
    """
    if isinstance(schema, list):
        return [strict_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict_schema(v) for k, v in schema.items() if k != "default"}
    if out.get("type") == "object" or "properties" in out:
        props = dict(out.get("properties", {}))
        required = set(schema.get("required", []))
        for name, sub in props.items():
            # Strict mode wants every property listed as required; an optional one keeps
            # its meaning by also accepting null.
            if name not in required:
                props[name] = {"anyOf": [sub, {"type": "null"}]}
        if "properties" in out:
            out["properties"] = props
        out["additionalProperties"] = False
        out["required"] = list(props)
    return out


def thinking_budget_for(model: APIModel, sp: SamplingParams) -> int | None:
    """The thinking budget to send to Anthropic or Gemini, or ``None`` for no thinking.

    An explicit ``thinking_budget`` wins over ``reasoning_effort`` (with a warning when
    both are set); ``reasoning_effort="none"`` or a budget of 0 turn thinking off.
    """
    if not model.reasoning_model:
        return None
    if sp.thinking_budget is not None:
        if sp.reasoning_effort is not None:
            warnings.warn(
                f"Both thinking_budget={sp.thinking_budget} and reasoning_effort="
                f"{sp.reasoning_effort!r} are set for {model.id}; the explicit "
                "thinking_budget wins.",
                UserWarning,
                stacklevel=3,
            )
        return sp.thinking_budget
    if sp.reasoning_effort is None:
        return None
    if sp.reasoning_effort == "none":
        return 0
    return EFFORT_BUDGETS[sp.reasoning_effort]


def split_tools(tools: list[Any] | None) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
    """``(tools, mcp_servers, raw_dicts)`` from a mixed list.

    Tools have ``for_openai_completions``; MCP servers only ``for_openai_responses`` and
    ``for_anthropic``; plain dicts are provider-native tool definitions sent as given.
    """
    funcs: list[Any] = []
    servers: list[Any] = []
    raw: list[dict[str, Any]] = []
    for tool in tools or []:
        if isinstance(tool, dict):
            raw.append(tool)
        elif hasattr(tool, "for_openai_completions"):
            funcs.append(tool)
        elif hasattr(tool, "for_anthropic") and hasattr(tool, "for_openai_responses"):
            servers.append(tool)
        else:
            raise ToolError(
                f"Cannot send {type(tool).__name__} as a tool; pass deluge_ray.Tool, "
                "deluge_ray.MCPServer or a provider-native tool dict."
            )
    return funcs, servers, raw


def no_mcp_servers(servers: list[Any], api: str) -> None:
    """Raise when MCP servers are passed to a wire format without native MCP support."""
    if servers:
        raise ConfigurationError(
            f"The {api} API has no native MCP support; use use_responses_api=True (OpenAI), "
            "an Anthropic model, or force_local_mcp=True to expand the server into tools."
        )


def no_background(background: bool, api: str) -> None:
    """Background mode exists only on OpenAI's responses API."""
    if background:
        raise ConfigurationError(
            f"background=True is only valid with use_responses_api=True on an OpenAI model, "
            f"not with the {api} API."
        )


def failed(status: int, headers: Mapping[str, str] | None, body: bytes) -> ParsedResponse:
    """A :class:`ParsedResponse` carrying the classified error (and the JSON body, if any)."""
    raw = load_json(body)
    return ParsedResponse(
        error=classify_error(status, headers, body), raw=raw if isinstance(raw, dict) else None
    )


def tool_arguments(text: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Tool-call arguments as a dict, and replay data keeping text that was not a JSON object.

    Models occasionally emit broken JSON; the call is kept (with empty arguments and the
    original text in ``raw``) so the tool's own validation reports it back to the model.
    """
    if isinstance(text, dict):
        return text, None
    parsed = load_json(text) if isinstance(text, (str, bytes)) and text else {}
    if isinstance(parsed, dict):
        return parsed, None
    return {}, {"arguments": text}


def make_usage(
    input_total: int,
    output: int,
    cache_read: int = 0,
    cache_write: int = 0,
    reasoning: int = 0,
) -> Usage:
    """A :class:`Usage` from a prompt total that *includes* cache reads and writes (OpenAI,
    Gemini); ``Usage.input_tokens`` keeps only the uncached remainder. ``reasoning`` is the
    part of ``output`` spent thinking."""
    cache_read = int(cache_read or 0)
    cache_write = int(cache_write or 0)
    return Usage(
        input_tokens=max(0, int(input_total or 0) - cache_read - cache_write),
        output_tokens=int(output or 0),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=int(reasoning or 0),
    )


def cost_of(model: APIModel, usage: Usage | None) -> float | None:
    """Dollar cost of ``usage`` at ``model``'s prices."""
    if usage is None:
        return None
    return model.cost(
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        cache_write_1h_tokens=usage.cache_write_1h_tokens,
    )
