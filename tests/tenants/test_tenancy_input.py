"""Bad priority and budget arguments are refused at construction, naming what to do."""

from __future__ import annotations

import pytest

from deluge_ray.client import LLMClient
from deluge_ray.client._tenancy import client_tenancy
from deluge_ray.errors import ConfigurationError
from deluge_ray.ratelimit._priority import PRIORITY_CLASSES, Tenant, parse_priority


def test_named_classes_order_and_integers() -> None:
    assert parse_priority("interactive") > parse_priority("default") > parse_priority("batch")
    assert parse_priority(5) == 5
    assert set(PRIORITY_CLASSES) == {"interactive", "default", "batch"}


@pytest.mark.parametrize("bad", ["urgent", "", 1.5, None, True])
def test_an_unknown_priority_lists_the_valid_ones(bad) -> None:
    with pytest.raises(ConfigurationError) as info:
        LLMClient("gpt-4.1-mini", priority=bad)
    message = str(info.value)
    for name in ("'interactive'", "'default'", "'batch'", "integer"):
        assert name in message


@pytest.mark.parametrize("argument", ["budget_usd", "key_budget_usd"])
@pytest.mark.parametrize("bad", [0, -1.0, "5", True])
def test_zero_negative_or_non_numeric_budgets_are_refused(argument, bad) -> None:
    with pytest.raises(ConfigurationError, match=argument):
        LLMClient("gpt-4.1-mini", **{argument: bad})


def test_a_window_must_be_positive_and_a_weight_too() -> None:
    with pytest.raises(ConfigurationError, match="key_budget_window"):
        client_tenancy(key_budget_window=0)
    with pytest.raises(ConfigurationError, match="weight"):
        Tenant("c", 1, weight=0)


def test_each_client_is_its_own_tenant() -> None:
    a = LLMClient("gpt-4.1-mini", priority="batch", budget_usd=2.5, max_tokens_per_minute=10**7)
    b = LLMClient("gpt-4.1-mini", priority="batch", max_tokens_per_minute=10**7)
    assert a.tenancy.tenant.client_id != b.tenancy.tenant.client_id
    assert (a.tenancy.tenant.level, a.tenancy.budget_usd) == (0, 2.5)
