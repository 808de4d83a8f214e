"""The values that cross the seam between request building, HTTP and parsing.

:class:`RequestSpec` is what a provider module asks the HTTP layer to send;
:class:`ParsedResponse` is what it makes of the answer; :class:`ErrorInfo` says what to do
about a failure. All are plain dataclasses so they pickle between Ray processes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: this module is a leaf (response.py imports it)
    from ..prompt import Message
    from .response import Usage

__all__ = ["SECRET_HEADERS", "ErrorInfo", "ErrorKind", "ParsedResponse", "RequestSpec"]

# Header names (lower case) whose values are credentials and must never be printed.
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key", "api-key"})


@dataclass
class RequestSpec:
    """One HTTP request: ``method``, ``url``, ``headers`` and the ``json`` body.

    Its ``repr`` masks credential headers, so a spec can be logged safely:

    >>> RequestSpec("POST", "https://x/v1/chat", {"Authorization": "Bearer sk-1"}, {})
    RequestSpec(method='POST', url='https://x/v1/chat', headers={'Authorization': '********'}, json={})
    """

    method: str
    url: str
    headers: dict[str, str]
    json: dict[str, Any] | None

    def masked_headers(self) -> dict[str, str]:
        """``headers`` with credential values replaced by asterisks."""
        return {
            k: ("********" if k.lower() in SECRET_HEADERS else v) for k, v in self.headers.items()
        }

    def __repr__(self) -> str:
        return (
            f"RequestSpec(method={self.method!r}, url={self.url!r}, "
            f"headers={self.masked_headers()!r}, json={self.json!r})"
        )

    __str__ = __repr__


class ErrorKind(enum.Enum):
    """What the caller should do about a failed request."""

    #: The provider throttled us; wait ``retry_after`` seconds (or back off) and retry.
    RATE_LIMITED = "rate_limited"
    #: A transient failure (5xx, timeout, garbled body); retry the same model with backoff.
    RETRY = "retry"
    #: This model cannot serve us (auth, permissions, not found, no quota): blocklist it and
    #: retry on another model of the client, or give up when there is none.
    RETRY_OTHER_MODEL = "retry_other_model"
    #: The request itself is wrong (bad parameters, context too long): retrying cannot help.
    GIVE_UP = "give_up"


@dataclass
class ErrorInfo:
    """A classified failure: ``kind``, a message for humans, a delay hint and the status."""

    kind: ErrorKind
    message: str
    retry_after: float | None = None
    status: int | None = None


@dataclass
class ParsedResponse:
    """A provider answer in provider-neutral form.

    On success ``content`` holds the assistant message and ``error`` is ``None``; on failure
    ``error`` says what happened and what to do, and ``content`` is ``None``.
    """

    content: Message | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    thinking: str | None = None
    logprobs: list | None = None
    response_id: str | None = None
    raw: dict[str, Any] | None = None
    cost: float | None = None
    error: ErrorInfo | None = None
    # Responses-API background jobs report "queued"/"in_progress" until they finish.
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        """True when the request failed."""
        return self.error is not None
