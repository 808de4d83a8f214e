"""The collector settings of deluge_ray's server processes (deluge_ray._process_gc): the
actors' and the mock's."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest

from deluge_ray._process_gc import SERVER_GC_ENV, YOUNG_THRESHOLD

_PROBE = (
    "import gc, json; from deluge_ray._process_gc import tune_server_gc; "
    "before = gc.get_threshold(); applied = tune_server_gc(); again = tune_server_gc(); "
    "print(json.dumps([before, applied, again, gc.get_threshold(), gc.get_freeze_count()]))"
)


def _probe(env_value: str | None) -> list:
    env = {k: v for k, v in os.environ.items() if k != SERVER_GC_ENV}
    if env_value is not None:
        env[SERVER_GC_ENV] = env_value
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_tuning_freezes_the_start_up_heap_and_raises_the_young_threshold():
    before, applied, again, after, frozen = _probe(None)
    assert applied is True and again is True  # a second actor class in the process: no-op
    assert after == [YOUNG_THRESHOLD, before[1], before[2]]
    assert frozen > 1000  # the modules imported so far, no longer walked by any pass


def test_the_environment_keeps_pythons_defaults():
    before, applied, again, after, frozen = _probe("python")
    assert applied is False and again is False
    assert after == before
    assert frozen == 0


def test_the_test_process_itself_is_never_tuned():
    # The plain classes run in-process in tests and in a user's driver: only the actor
    # shells call tune_server_gc, so importing them changes nothing here.
    import importlib

    for shell in ("provider_caller", "rate_limiter", "sub_agent"):
        importlib.import_module(f"deluge_ray.actors.{shell}")

    assert gc.get_threshold()[0] != YOUNG_THRESHOLD


@pytest.mark.usefixtures("ray_cluster")
def test_every_hot_actor_process_runs_with_the_tuned_collector():
    import ray

    from deluge_ray.actors.provider_caller import ProviderCaller
    from deluge_ray.actors.rate_limiter import get_rate_limiter
    from deluge_ray.actors.sub_agent import SubAgent

    caller = ProviderCaller.remote("gc-probe-caller")
    agent = SubAgent.remote("gc-probe-agent")
    limiter = get_rate_limiter("openai", "9c9c9c9c9c9c", rpm=600, tpm=None, max_concurrent=None)

    def settings(self):
        import gc

        return gc.get_threshold()[0], gc.get_freeze_count() > 0

    try:
        seen = ray.get([a.__ray_call__.remote(settings) for a in (caller, agent, limiter)])
    finally:
        ray.kill(caller)
        ray.kill(agent)
        ray.kill(limiter)
    assert seen == [(YOUNG_THRESHOLD, True)] * 3
