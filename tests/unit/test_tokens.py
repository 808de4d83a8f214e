"""Token counting: exact with a tiktoken encoding, a documented estimate without one."""

from __future__ import annotations

import warnings

import pytest
import tiktoken

from deluge_ray import _tokens


@pytest.fixture
def fresh_encoders(monkeypatch):
    monkeypatch.setattr(_tokens, "_encoders", {})
    monkeypatch.setattr(_tokens, "_warned", False)
    return _tokens


def _tiny_encoding() -> tiktoken.Encoding:
    # A byte-level encoding of our own: every byte is one token, plus one merge ("ab").
    ranks = {bytes([i]): i for i in range(256)}
    ranks[b"ab"] = 256
    return tiktoken.Encoding(
        name="tiny", pat_str=r"\S+|\s+", mergeable_ranks=ranks, special_tokens={}
    )


def test_exact_count_uses_the_installed_encoding(fresh_encoders) -> None:
    fresh_encoders.set_encoder("o200k_base", _tiny_encoding())
    # "abab" -> two "ab" merges; " " -> one byte token; "c" -> one.
    assert fresh_encoders.count_text_tokens("abab c", "gpt-4.1-mini") == 4


def test_fallback_estimate_when_encoding_unavailable(fresh_encoders, monkeypatch) -> None:
    def refuse(name):
        raise ConnectionError("no network")

    monkeypatch.setattr(tiktoken, "get_encoding", refuse)
    monkeypatch.delenv("DELUGE_RAY_TOKENIZER", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fresh_encoders.count_text_tokens("x" * 10, "gpt-4.1-mini") == 3
        assert fresh_encoders.count_text_tokens("y" * 8, "gpt-4.1-mini") == 2
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(runtime) == 1, "the fallback warns once per process, not per call"
    assert "DELUGE_RAY_TOKENIZER" in str(runtime[0].message)


def test_encoding_choice_by_model() -> None:
    assert _tokens.encoding_name_for_model("gpt-4.1-mini") == "o200k_base"
    assert _tokens.encoding_name_for_model("gpt-4-turbo") == "cl100k_base"
    assert _tokens.encoding_name_for_model("claude-4.5-sonnet") == "o200k_base"


def test_empty_text_is_zero_tokens() -> None:
    assert _tokens.count_text_tokens("", "gpt-4.1-mini") == 0
