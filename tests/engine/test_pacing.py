"""The client warns once, when created, if its token limit keeps it below its request limit."""

from __future__ import annotations

import warnings

import pytest

from deluge_ray import LLMClient
from deluge_ray.client._pacing import UnreachableRateWarning, pace_of, warn_if_rate_unreachable


def test_pace_of_picks_the_smaller_rate() -> None:
    assert pace_of(1_000, 100_000, 527).binding == "tokens"
    assert pace_of(1_000, 100_000, 100).binding == "requests"
    assert pace_of(1_000, 100_000, 0).requests_per_minute == 1_000


def test_the_default_client_warns_once_naming_the_reachable_rate() -> None:
    # Combination not used elsewhere in the session, so "once" starts fresh here.
    kwargs = dict(max_requests_per_minute=1_001, max_tokens_per_minute=100_000)
    with pytest.warns(UnreachableRateWarning) as caught:
        LLMClient("gpt-4.1-mini", **kwargs)
    (warning,) = caught
    message = str(warning.message)
    assert "at most ~195 requests/minute" in message
    assert "max_requests_per_minute=1,001 cannot be reached" in message
    assert "max_new_tokens=512" in message and "512,512" in message
    assert warning.filename == __file__  # it points at the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LLMClient("gpt-4.1-mini", **kwargs)  # the same limits again: no second warning


def test_reachable_limits_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LLMClient(
            "gpt-4.1-mini",
            max_requests_per_minute=1_000,
            max_tokens_per_minute=1_000_000,
            max_new_tokens=512,
        )
        LLMClient("gpt-4.1-mini", max_requests_per_minute=150, max_tokens_per_minute=100_000)
        LLMClient("gpt-4.1-mini")  # the defaults reach ~977 of 1,000 rpm: within 10%
        assert not warn_if_rate_unreachable(10, 100_000, 512)
