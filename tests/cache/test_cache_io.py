"""The client's cache view warns once when a content-keyed cache serves another model."""

from __future__ import annotations

import asyncio
import warnings
from types import SimpleNamespace

import pytest

from deluge_ray.client._cache_io import CacheIO


class DictCache:
    def __init__(self, include_request_params: bool = False) -> None:
        self.include_request_params = include_request_params
        self.entries: dict[str, object] = {}

    def get(self, prompt, **_):
        return self.entries.get(prompt)

    def put(self, prompt, response, **_):
        self.entries[prompt] = response


def _cache_with_mini_answer(**kwargs) -> DictCache:
    cache = DictCache(**kwargs)
    cache.put("Is water wet?", SimpleNamespace(model_internal="gpt-4.1-mini"))
    return cache


def test_a_hit_cached_for_another_model_warns_once_naming_both_and_the_fix() -> None:
    io = CacheIO(_cache_with_mini_answer(), request_key="rk", model_names=["gpt-4.1-nano"])
    with pytest.warns(UserWarning) as caught:
        found = asyncio.run(io.lookup(["Is water wet?"]))
    assert found[0].model_internal == "gpt-4.1-mini"  # still the reference's hit
    (warning,) = caught
    text = str(warning.message)
    assert "gpt-4.1-nano" in text and "'gpt-4.1-mini'" in text
    assert "include_request_params=True" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(io.lookup(["Is water wet?"]))  # once per client, not per hit


@pytest.mark.parametrize(
    ("cache", "models"),
    [
        (_cache_with_mini_answer(), ["gpt-4.1-mini", "gpt-4.1-nano"]),  # a model of the client
        (_cache_with_mini_answer(include_request_params=True), ["gpt-4.1-nano"]),  # keyed on it
    ],
)
def test_no_warning_when_the_hit_is_the_clients_own_model_or_the_key_covers_it(
    cache, models
) -> None:
    io = CacheIO(cache, request_key="rk", model_names=models)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(io.lookup(["Is water wet?"]))
