"""examples/shared_rate_limit.py: two driver processes, one limit, and the provider's view."""

from __future__ import annotations

import re

from tests.support.examples import run_example


def test_two_workers_share_one_limit_and_the_provider_refuses_nothing(example_env) -> None:
    # 20 prompts each against 1,200 RPM (20/s), enforced per second by the mock: apart,
    # each worker would send at the full rate and together overrun it.
    result = run_example(
        "shared_rate_limit.py", "--rpm", "1200", "--prompts", "20", env=example_env
    )
    out = result.stdout

    assert "the mock provider at" in out and "enforces the limit" in out
    workers = re.findall(
        r"^worker ([AB]): (\d+) done, (\d+) failed in [\d.]+ s = [\d.]+", out, re.M
    )
    assert sorted(workers) == [("A", "20", "0"), ("B", "20", "0")]
    assert re.search(r"^both workers: 40 requests in [\d.]+ s = [\d.]+ requests/s", out, re.M)
    assert "(shared limit 1200 rpm = 20.0 requests/s)" in out
    per_second = re.search(r"^what the provider saw, requests per second: ([\d ]+)$", out, re.M)
    assert sum(int(n) for n in per_second.group(1).split()) == 40
    # The provider's verdict: exactly one request per prompt, and no 429 at all.
    assert re.search(r"^mock provider: 40 requests, 0 refused with 429;", out, re.M), out
