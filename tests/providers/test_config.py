"""SamplingParams: defaults of the reference, validation on build and on assignment."""

from __future__ import annotations

import pickle

import pytest

from deluge_ray.config import SamplingParams
from deluge_ray.errors import ConfigurationError


def test_defaults_match_the_reference() -> None:
    sp = SamplingParams()
    assert sp.to_dict() == {
        "temperature": 1.0,
        "top_p": 1.0,
        "json_mode": False,
        "max_new_tokens": 2048,
        "global_effort": None,
        "verbosity": None,
        "reasoning_effort": None,
        "thinking_budget": None,
        "logprobs": False,
        "top_logprobs": None,
        "strict_tools": True,
        "media_resolution": None,
        "task_budget": None,
    }


@pytest.mark.parametrize("value", [0, -1, -100, 1.5, True])
def test_max_new_tokens_must_be_positive_int(value) -> None:
    with pytest.raises(ConfigurationError, match="max_new_tokens must be a positive integer"):
        SamplingParams(max_new_tokens=value)


@pytest.mark.parametrize("value", [-0.1, 2.01, 5, "hot"])
def test_temperature_outside_range(value) -> None:
    with pytest.raises(ConfigurationError, match="temperature must be a number between 0 and 2"):
        SamplingParams(temperature=value)


@pytest.mark.parametrize("value", [0, -0.5, 1.01])
def test_top_p_outside_range(value) -> None:
    with pytest.raises(ConfigurationError, match="top_p"):
        SamplingParams(top_p=value)


@pytest.mark.parametrize("value", [-1, 21, 100])
def test_top_logprobs_outside_0_to_20(value) -> None:
    with pytest.raises(ConfigurationError, match="top_logprobs must be an integer from 0 to 20"):
        SamplingParams(logprobs=True, top_logprobs=value)


def test_edges_are_accepted() -> None:
    sp = SamplingParams(temperature=0, top_p=1.0, top_logprobs=20, max_new_tokens=1)
    assert (sp.temperature, sp.top_logprobs) == (0, 20)
    assert SamplingParams(temperature=2.0, top_logprobs=0).temperature == 2.0


def test_bad_effort_names_are_rejected_with_the_choices() -> None:
    with pytest.raises(ConfigurationError, match="reasoning_effort must be one of"):
        SamplingParams(reasoning_effort="extreme")
    with pytest.raises(ConfigurationError, match="global_effort"):
        SamplingParams(global_effort="extreme")
    with pytest.raises(ConfigurationError, match="thinking_budget"):
        SamplingParams(thinking_budget=-5)


def test_assignment_is_validated_too() -> None:
    sp = SamplingParams()
    with pytest.raises(ConfigurationError, match="temperature"):
        sp.temperature = 9
    assert sp.temperature == 1.0
    with pytest.raises(ConfigurationError, match="max_new_tokens"):
        sp.copy(max_new_tokens=0)


def test_picklable_and_dict_round_trip() -> None:
    sp = SamplingParams(temperature=0.3, reasoning_effort="low", thinking_budget=2048)
    assert pickle.loads(pickle.dumps(sp)) == sp
    assert SamplingParams(**sp.to_dict()) == sp


def test_to_vllm_names_the_missing_package() -> None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install vllm"):
            SamplingParams().to_vllm()
    else:  # pragma: no cover - only where vllm exists
        out = SamplingParams(temperature=0.5, max_new_tokens=10).to_vllm()
        assert (out.temperature, out.max_tokens) == (0.5, 10)
