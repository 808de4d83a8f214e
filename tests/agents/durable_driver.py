"""A driver process for the durable-swarm kill test (run as a script, killed mid-swarm).

Joins the Ray cluster at ``argv[1]`` and runs ``argv[3]`` loops of ``three_round_script``
(see ``test_durable_swarm.py``) with ``checkpoint=argv[2]``, against the mock the
environment points at. Its tool is defined here, so it travels to the SubAgents by value.
"""

from __future__ import annotations

import sys

from deluge_ray import LLMClient
from deluge_ray.tool import Tool


def square(x: int) -> int:
    """Square a number."""
    return x * x


def main() -> None:
    address, checkpoint, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = LLMClient(
        "gpt-4.1-mini",
        address=address,
        progress="manual",
        num_callers=1,
        max_requests_per_minute=600_000,
        max_tokens_per_minute=100_000_000,
    )
    client.process_agent_loops_sync(
        [f"loop {i}" for i in range(count)],
        tools=[Tool.from_function(square)],
        max_rounds=3,
        max_concurrent_agents=4,
        num_actors=1,
        show_progress=False,
        checkpoint=checkpoint,
    )


if __name__ == "__main__":
    main()
