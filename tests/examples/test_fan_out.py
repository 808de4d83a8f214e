"""examples/fan_out.py: start_nowait + as_completed, each answer handled as it lands."""

from __future__ import annotations

import re

from tests.support.examples import run_example

FACTS = [f"Tell me fact number {i} about octopuses, in one sentence." for i in range(1, 9)]


def test_fan_out_yields_every_task_once_with_its_own_answer(example_env) -> None:
    result = run_example("fan_out.py", env=example_env)
    out = result.stdout

    assert "ANTHROPIC_API_KEY is not set: using the mock provider" in out
    answers = re.findall(r"^task (\d+) <- '(.+)'\n    (.+)$", out, flags=re.M)
    assert len(answers) == 8
    for _, prompt, answer in answers:
        assert answer == f"Mock reply to: {prompt}"  # the pair belongs together
    assert sorted(prompt for _, prompt, _ in answers) == sorted(FACTS)
    finished = [int(task_id) for task_id, _, _ in answers]
    assert sorted(finished) == list(range(8))  # ids start at 0, each yielded once
    assert f"finished order: {finished}" in out
    assert "the mock provider received 8 requests" in out
    # open(total=8) announced the total; the eight start_nowait calls must not add to it.
    assert "8 succeeded, 0 failed of 8 " in out
    assert "8 succeeded, 0 failed" in out
