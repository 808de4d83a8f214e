"""Request-body checks and the error bodies each provider sends.

Handlers raise :class:`MockHTTPError`; the server renders it in the shape of the provider
family the endpoint belongs to, so the official SDKs raise their own exception classes:

- OpenAI:    ``{"error": {"message", "type", "param", "code"}}``
- Anthropic: ``{"type": "error", "error": {"type", "message"}}``
- Gemini:    ``{"error": {"code", "message", "status"}}``
- Cohere:    ``{"message"}``

    >>> error_payload("anthropic", MockHTTPError(400, "messages: Field required", param="messages"))
    {'type': 'error', 'error': {'type': 'invalid_request_error', 'message': 'messages: Field required'}}
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MockHTTPError",
    "error_payload",
    "optional",
    "positive_int",
    "require",
    "require_dict",
]

_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    529: "UNAVAILABLE",
}
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
    500: "server_error",
    503: "server_error",
    529: "server_error",
}


class MockHTTPError(Exception):
    """An error response: HTTP status, message, and the request field at fault (``param``)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.kind = kind
        self.headers = headers or {}


def error_payload(family: str, error: MockHTTPError) -> dict[str, Any]:
    """The JSON body ``family`` (openai/anthropic/gemini/cohere) sends for ``error``."""
    if family == "anthropic":
        kind = error.kind if error.kind in _ANTHROPIC_TYPES.values() else None
        return {
            "type": "error",
            "error": {
                "type": kind or _ANTHROPIC_TYPES.get(error.status, "api_error"),
                "message": error.message,
            },
        }
    if family == "gemini":
        return {
            "error": {
                "code": error.status,
                "message": error.message,
                "status": _GEMINI_STATUS.get(error.status, "UNKNOWN"),
            }
        }
    if family == "cohere":
        return {"message": error.message}
    return {
        "error": {
            "message": error.message,
            "type": error.kind or _OPENAI_TYPES.get(error.status, "invalid_request_error"),
            "param": error.param,
            "code": error.code,
        }
    }


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
}


def _describe(types: type | tuple[type, ...]) -> str:
    options = types if isinstance(types, tuple) else (types,)
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in options)


def _is_instance(value: Any, types: type | tuple[type, ...]) -> bool:
    options = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in options:
        return False  # JSON true is not a number, though Python says bool is an int
    if float in options and isinstance(value, int):
        return True
    return isinstance(value, options)


def require(
    body: dict[str, Any], name: str, types: type | tuple[type, ...], where: str = ""
) -> Any:
    """``body[name]``, which must be present and of ``types``; otherwise a 400 naming it."""
    path = f"{where}{name}"
    if name not in body or body[name] is None:
        raise MockHTTPError(
            400,
            f"Missing required parameter: '{path}'.",
            param=path,
            code="missing_required_parameter",
        )
    return _check(body[name], path, types)


def optional(
    body: dict[str, Any], name: str, types: type | tuple[type, ...], where: str = ""
) -> Any:
    """``body.get(name)``, which must be absent, null or of ``types``."""
    value = body.get(name)
    if value is None:
        return None
    return _check(value, f"{where}{name}", types)


def _check(value: Any, path: str, types: type | tuple[type, ...]) -> Any:
    if not _is_instance(value, types):
        raise MockHTTPError(
            400,
            f"Invalid type for '{path}': expected {_describe(types)}, "
            f"but got {_TYPE_NAMES.get(type(value), type(value).__name__)}.",
            param=path,
            code="invalid_type",
        )
    return value


def require_dict(value: Any, path: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else a 400 naming ``path``."""
    return _check(value, path, dict)


def positive_int(body: dict[str, Any], name: str) -> int | None:
    """An optional integer parameter that must be >= 1 when given."""
    value = optional(body, name, int)
    if value is not None and value < 1:
        raise MockHTTPError(
            400,
            f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {value}.",
            param=name,
            code="integer_below_min_value",
        )
    return value
