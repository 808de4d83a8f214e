"""Build an LLMClient's :class:`~deluge_ray.client._engine.Engine` from its settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..cache import make_request_key
from ._cache_io import CacheIO
from ._engine import Engine
from ._spend_gate import SpendGate

if TYPE_CHECKING:
    from ._client import LLMClient

__all__ = ["new_engine"]


def new_engine(client: LLMClient) -> Engine:
    """A new engine for ``client``: its caller pool, cache, postprocess and limits."""
    from ._caller_pool import RayCallerPool

    request_key = make_request_key(client.model_names, client.sampling_params)
    return Engine(
        pool_factory=lambda specs: RayCallerPool(
            size=client.num_callers,
            specs=specs,
            # A chosen pool size is the client's own and starts whole; the default one is
            # shared by the driver's clients, starts one caller and grows at the first
            # answer (see _caller_pool).
            initial=None if client._num_callers_chosen else 1,
            shared=not client._num_callers_chosen,
        ),
        # `is not None`, never truthiness: an empty cache with __len__ is falsy.
        cache_io=(
            CacheIO(client.cache, request_key=request_key, model_names=client.model_names)
            if client.cache is not None
            else None
        ),
        postprocess=client.postprocess,
        # Read at each use: with_limits may change it after the engine exists.
        token_budget=lambda: client.max_tokens_per_minute,
        max_outstanding=max(64, min(4 * client.max_concurrent_requests, 8192)),
        spend_gate=SpendGate(client.tenancy),
        # The driver serves its first prompts while the first caller process starts.
        driver_starts=not client._num_callers_chosen,
    )
