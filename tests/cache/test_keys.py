"""Cache keys: namespace + fingerprint (+ request key) and the request-key hash."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deluge_ray.cache import entry_key, make_request_key


class _Prompt:
    def __init__(self, fingerprint):
        self.fingerprint = fingerprint


def test_entry_key_joins_namespace_fingerprint_and_request_key():
    assert entry_key("ns", _Prompt("f00")) == "ns:f00"
    assert entry_key("ns", _Prompt("f00"), "rk") == "ns:f00:rk"
    assert entry_key("a", _Prompt("f")) != entry_key("b", _Prompt("f"))


def test_entry_key_rejects_missing_fingerprint():
    with pytest.raises(TypeError, match="fingerprint"):
        entry_key("ns", _Prompt(""))


@dataclass
class _Params:
    temperature: float
    max_new_tokens: int


def test_request_key_depends_on_models_and_every_sampling_field():
    base = make_request_key(["m1"], [_Params(0.0, 100)])
    assert base == make_request_key(["m1"], [_Params(0.0, 100)])
    assert base != make_request_key(["m2"], [_Params(0.0, 100)])
    assert base != make_request_key(["m1"], [_Params(0.5, 100)])
    assert base != make_request_key(["m1"], [_Params(0.0, 101)])
    # dict order does not matter, values do
    assert make_request_key(["m"], [{"a": 1, "b": 2}]) == make_request_key(
        ["m"], [{"b": 2, "a": 1}]
    )
