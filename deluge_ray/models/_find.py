"""Searching the registry by provider, capability and price: :func:`find_models`."""

from __future__ import annotations

import os

from ..errors import ConfigurationError
from ._model import APIModel
from ._registry import registry

__all__ = ["find_models"]

_SORT_FIELDS = ("input_cost", "output_cost")


def find_models(
    *,
    provider: str | None = None,
    supports_json: bool | None = None,
    supports_images: bool | None = None,
    supports_logprobs: bool | None = None,
    reasoning_model: bool | None = None,
    min_input_cost: float | None = None,
    max_input_cost: float | None = None,
    min_output_cost: float | None = None,
    max_output_cost: float | None = None,
    name_contains: str | None = None,
    has_api_key: bool | None = None,
    sort_by: str | None = None,
    limit: int | None = None,
) -> list[APIModel]:
    """Models matching every filter given (``None`` = no filter), one per model.

    An alias and its model count once. ``name_contains`` matches the id without regard to
    case; ``has_api_key`` tests whether one of the model's key variables is set now; ``sort_by`` is
    ``"input_cost"`` or ``"output_cost"``, with a leading ``-`` for most expensive first.

    >>> [m.id for m in find_models(provider="openai", name_contains="gpt-4.1-mini")]
    ['gpt-4.1-mini']
    """
    if sort_by is not None and sort_by.lstrip("-") not in _SORT_FIELDS:
        raise ConfigurationError(
            f"find_models(sort_by={sort_by!r}): use 'input_cost' or 'output_cost', "
            "optionally with a leading '-' for descending."
        )
    seen: set[tuple[str, str, str]] = set()
    found: list[APIModel] = []
    for model in registry.values():
        identity = (model.provider, model.name, model.base_url)
        if identity in seen:
            continue
        seen.add(identity)
        found.append(model)
    exact = {
        "provider": provider,
        "supports_json": supports_json,
        "supports_images": supports_images,
        "supports_logprobs": supports_logprobs,
        "reasoning_model": reasoning_model,
    }
    for field, wanted in exact.items():
        if wanted is not None:
            found = [m for m in found if getattr(m, field) == wanted]
    bounds = (
        ("input_cost", min_input_cost, max_input_cost),
        ("output_cost", min_output_cost, max_output_cost),
    )
    for field, low, high in bounds:
        if low is not None:
            found = [m for m in found if getattr(m, field) >= low]
        if high is not None:
            found = [m for m in found if getattr(m, field) <= high]
    if name_contains is not None:
        needle = name_contains.lower()
        found = [m for m in found if needle in m.id.lower()]
    if has_api_key is not None:
        found = [
            m
            for m in found
            if any(os.environ.get(name) for name in m.api_key_env_vars) == has_api_key
        ]
    if sort_by is not None:
        field = sort_by.lstrip("-")
        found.sort(key=lambda m: getattr(m, field), reverse=sort_by.startswith("-"))
    if limit is not None:
        found = found[:limit]
    return found
