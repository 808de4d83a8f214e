"""API keys are masked everywhere they could be printed and survive pickling for Ray."""

from __future__ import annotations

import pickle

import pytest

from deluge_ray._secrets import Secret, key_fingerprint, read_api_key
from deluge_ray.errors import MissingAPIKeyError


def test_secret_is_masked_in_repr_str_and_fstrings() -> None:
    s = Secret("sk-very-secret")
    for text in (repr(s), str(s), f"{s}", repr([s]), repr({"k": s})):
        assert "sk-very-secret" not in text


def test_secret_round_trips_through_pickle() -> None:
    s = pickle.loads(pickle.dumps(Secret("sk-abc")))
    assert s.reveal() == "sk-abc"


def test_fingerprint_is_stable_short_and_not_the_key() -> None:
    fp = key_fingerprint("sk-abc")
    assert fp == key_fingerprint("sk-abc") and len(fp) == 12 and "sk-abc" not in fp
    assert key_fingerprint(None) == key_fingerprint("") == "nokey"


def test_missing_key_names_the_variable(monkeypatch) -> None:
    monkeypatch.delenv("DELUGE_TEST_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="DELUGE_TEST_KEY"):
        read_api_key("DELUGE_TEST_KEY", model="gpt-4.1-mini")


def test_keyless_model_reads_nothing() -> None:
    assert read_api_key(None) is None
