"""A driver SIGKILLed mid-batch gives its concurrency slots back within seconds (issue 15).

The driver's ProviderCallers die with it and never report, so without the limiter's own
look-up (``ratelimit/_holders.py``) their slots stay taken for ``slot_reclaim_seconds``
(120 s) on a limiter that, with the machine-wide head, outlives the script. The driver is
a script of its own joining the session's Ray, sending through a mock provider of this
test whose replies take long enough that its slots are all busy when it is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

from deluge_ray._constants import RAY_NAMESPACE
from deluge_ray._secrets import key_fingerprint
from deluge_ray.actors.rate_limiter import limiter_name
from deluge_ray.mock import Latency, MockConfig, MockProvider
from tests.support.examples import example_env

SLOTS = 6
SCRIPT = f"""
from deluge_ray import LLMClient

client = LLMClient(
    "gpt-4.1-mini",
    max_requests_per_minute=100_000,
    max_tokens_per_minute=100_000_000,
    max_concurrent_requests={SLOTS},
    progress="manual",
)
client.process_prompts_sync([f"q{{i}}" for i in range(30)], show_progress=False)
"""


def poll(read, done, timeout: float):
    """``read()`` until ``done(value)`` or ``timeout`` seconds pass; the last value."""
    give_up = time.monotonic() + timeout
    while True:
        try:
            value = read()
        except ValueError:  # the limiter does not exist yet
            value = None
        if (value is not None and done(value)) or time.monotonic() > give_up:
            return value
        time.sleep(0.2)


def test_a_killed_drivers_slots_come_back_within_seconds(tmp_path, ray_cluster):
    key = f"sk-killed-driver-{uuid.uuid4().hex}"
    name = limiter_name("openai", key_fingerprint(key))

    def in_use() -> int:
        limiter = ray_cluster.get_actor(name, namespace=RAY_NAMESPACE)
        return ray_cluster.get(limiter.stats.remote())["in_use"]

    (tmp_path / "driver.py").write_text(SCRIPT)
    with MockProvider(MockConfig(latency=Latency.fixed(4_000))) as mock:
        env = example_env(ray_cluster.get_runtime_context().gcs_address, **mock.environment())
        env["OPENAI_API_KEY"] = key
        driver = subprocess.Popen(
            [sys.executable, "driver.py"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert poll(in_use, lambda n: n >= SLOTS, timeout=90) == SLOTS
            assert poll(lambda: mock.stats()["in_flight"], lambda n: n >= SLOTS, 30) >= SLOTS
        finally:
            os.kill(driver.pid, signal.SIGKILL)
            driver.wait()
        killed_at = time.monotonic()
        # Well under slot_reclaim_seconds (120 s): the look-up runs every second for
        # callers quiet for 2 s, once Ray has marked the dead driver's callers dead.
        assert poll(in_use, lambda n: n == 0, timeout=20) == 0
        assert time.monotonic() - killed_at < 20
