"""How many ProviderCallers a client gets when it does not choose (a plain function)."""

from __future__ import annotations

import pytest

from deluge_ray.client._driver_callers import (
    CONNECTIONS_PER_CALLER,
    MAX_DEFAULT_CALLERS,
    callers_for,
)
from deluge_ray.client._options import default_num_callers


@pytest.mark.parametrize("concurrency", [1, 10, 225, 500, 1_000, 2_001, 5_000, 20_000, 10**6])
def test_no_caller_holds_more_than_its_connections_unless_the_pool_is_at_its_cap(concurrency):
    callers = callers_for(concurrency)
    assert 1 <= callers <= MAX_DEFAULT_CALLERS
    per_caller = concurrency / callers
    assert per_caller <= CONNECTIONS_PER_CALLER or callers == MAX_DEFAULT_CALLERS
    assert default_num_callers(concurrency) == callers  # the client's default is this rule


def test_long_requests_at_high_concurrency_get_callers_added():
    # issue 16, item 5: 5,000 requests in flight are spread over ten callers of 500
    assert callers_for(5_000) == 10
    assert callers_for(5_001) == 11
    # short requests keep the small pools (CPU-bound: one caller per 128, up to 4)
    assert [callers_for(n) for n in (1, 128, 129, 225, 512, 1_000)] == [1, 1, 2, 2, 4, 4]
