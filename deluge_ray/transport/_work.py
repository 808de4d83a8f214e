"""The records that travel between the driver and the ProviderCaller actors.

One *request configuration* (models, sampling params, tools, schema, headers, keys...) is
a :class:`CallSpec`, shipped once per batch rather than once per prompt. A prompt to send
is a :class:`WorkItem` that names its spec by ``spec_id``; a batch is a :class:`WorkBatch`;
what comes back, one per item, is a :class:`WorkResult`. All are plain picklable
dataclasses; the API key inside a :class:`ModelRoute` is a :class:`~deluge_ray._secrets.Secret`
whose ``repr`` is masked, so printing any of these never shows a key.

    >>> item = WorkItem(key=0, conversation=None, estimated_tokens=12, spec_id=1)
    >>> item.estimated_tokens
    12
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._secrets import Secret
    from ..api_requests import APIResponse
    from ..config import SamplingParams
    from ..models import APIModel
    from ..prompt import Conversation

__all__ = ["CallSpec", "ModelRoute", "WorkBatch", "WorkItem", "WorkResult", "error_result"]


@dataclass(frozen=True)
class ModelRoute:
    """One model a request may be sent to, with everything resolved on the driver.

    ``base_url`` and ``api_key`` come from the *driver's* environment: actors on other
    nodes do not share it. ``limiter`` is the shared RateLimiter actor handle for this
    provider and key (``None`` only in tests that run without one). ``tenant`` is the
    client the route belongs to, with its priority (a ``ratelimit._priority.Tenant``):
    it rides on every lease request so the limiter shares capacity per client.
    """

    model: APIModel
    sampling_params: SamplingParams
    weight: float
    base_url: str | None
    api_key: Secret | None
    limiter: Any = None
    limiter_name: str = ""
    tenant: Any = None


@dataclass(frozen=True)
class CallSpec:
    """A request configuration shared by many work items."""

    spec_id: int
    routes: tuple[ModelRoute, ...]
    max_attempts: int
    request_timeout: float
    tools: tuple[Any, ...] | None = None
    output_schema: Any = None
    cache_pattern: str | None = None
    service_tier: str | None = None
    extra_headers: dict[str, str] | None = None
    extra_body: dict[str, Any] | None = None
    use_responses_api: bool = False
    background: bool = False


@dataclass
class WorkItem:
    """One prompt to send. ``key`` is assigned by the dispatcher, unique per client."""

    key: int
    conversation: Conversation | None
    estimated_tokens: int
    spec_id: int


@dataclass
class WorkBatch:
    """What one ``ProviderCaller.run_batch`` call receives."""

    items: list[WorkItem]
    specs: dict[int, CallSpec]
    blocklisted_models: frozenset[str] = frozenset()


@dataclass
class WorkResult:
    """The outcome of one :class:`WorkItem`: always a response, possibly an error one."""

    key: int
    response: APIResponse
    requests_sent: int = 0
    rate_limited: int = 0
    retries: int = 0
    # Models found unusable (401/403/404) while serving this item; the driver adds them
    # to the client's blocklist so later batches avoid them.
    blocklisted_models: tuple[str, ...] = field(default_factory=tuple)


def error_result(key: int, route: ModelRoute, message: str) -> WorkResult:
    """The result of an item that failed before any provider answered it.

    The prompt is left out (``{}``): the driver re-attaches its own copy.
    """
    from ..api_requests.response import APIResponse

    return WorkResult(
        key=key,
        response=APIResponse.error(
            id=key,
            model=route.model,
            prompt={},
            sampling_params=route.sampling_params,
            message=message,
        ),
    )
