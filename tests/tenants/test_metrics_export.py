"""deluge_ray's metrics reach Prometheus through Ray's own pipeline.

A subprocess (Ray allows one ``ray.init`` per process, and the session cluster has no
metrics port) starts a Ray node with a metrics export port, runs a small batch and a
small swarm (its model calls made in a SubAgent actor) on the mock with a client budget,
and scrapes the node's Prometheus endpoint until their counters are there; the test
checks the scraped requests and tokens against what the responses say, and the client's
budget gauge.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

MINI = "gpt-4.1-mini"
CLIENT = "metrics-probe"
PROMPTS = 8
LOOPS = 2  # one round each: the mock answers with text
BUDGET = 5.0
RPM = 60_000
REPO = Path(__file__).resolve().parents[2]

_SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(port: int) -> list[tuple[str, dict[str, str], float]]:
    """Every deluge_ray sample on the node's Prometheus endpoint."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and "deluge_ray" in match.group(1):
            labels = dict(_LABEL.findall(match.group(2) or ""))
            samples.append((match.group(1), labels, float(match.group(3))))
    return samples


def total(samples, suffix: str, **labels: str) -> float:
    return sum(
        value
        for name, have, value in samples
        if name.endswith(suffix) and all(have.get(k) == v for k, v in labels.items())
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _job(port: int) -> None:
    """Run in the subprocess: a node with a metrics port, a small batch, then the scrape."""
    import ray

    from deluge_ray import LLMClient
    from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock

    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        namespace="deluge_ray",
        _metrics_export_port=port,
        _system_config={"metrics_report_interval_ms": 500},
    )
    with MockProvider(MockConfig(latency=Latency.fixed(1))) as mock, use_mock(mock):
        client = LLMClient(
            MINI,
            name=CLIENT,
            progress="manual",
            num_callers=1,
            max_new_tokens=20,
            max_requests_per_minute=RPM,
            budget_usd=BUDGET,
        )
        out = client.process_prompts_sync(
            [f"metric prompt {i}" for i in range(PROMPTS)], show_progress=False
        )
        loops = client.process_agent_loops_sync(
            [f"metric loop {i}" for i in range(LOOPS)], num_actors=1, show_progress=False
        )
        swarm = [r for _, r in loops]
        expected = {
            "ok": sum(1 for r in out if not r.is_error),
            "swarm_ok": sum(1 for r in swarm if not r.is_error),
            "input": sum(r.usage.input_tokens for r in out + swarm if r.usage),
            "output": sum(r.usage.output_tokens for r in out + swarm if r.usage),
            "cost": sum(r.cost or 0.0 for r in out),
            "swarm_cost": sum(r.cost or 0.0 for r in swarm),
            "limiter": client._routes[0].limiter_name,
        }
        # Recording is asynchronous (the node's agent reports every 500 ms here): scrape
        # until the batch is in. How long it takes is not what this test is about.
        samples: list = []
        for _ in range(120):
            samples = scrape(port)
            done = total(samples, "deluge_ray_requests_total", client=CLIENT) >= PROMPTS
            sent = total(samples, "deluge_ray_http_requests_total") >= PROMPTS + LOOPS
            gauge = total(samples, "deluge_ray_limiter_effective_rpm", limiter=expected["limiter"])
            budget = total(samples, "deluge_ray_client_budget_remaining_usd", client=CLIENT)
            if done and sent and gauge and budget:
                break
            time.sleep(0.25)
        client.shutdown()
    ray.shutdown()
    print(json.dumps({"expected": expected, "samples": samples}))


def test_nothing_is_recorded_when_metrics_are_turned_off(monkeypatch) -> None:
    from types import SimpleNamespace

    from deluge_ray import metrics

    monkeypatch.setattr(metrics, "_available", None)  # decided again, under this env
    monkeypatch.setenv("DELUGE_RAY_METRICS", "0")
    assert metrics.result_metrics(SimpleNamespace(items=[], specs={})) is None
    assert metrics.limiter_gauges("limiter:openai:0123456789ab") is None


def test_the_grafana_dashboard_charts_every_metric_and_only_those() -> None:
    from deluge_ray.metrics import METRIC_NAMES

    dashboard = json.loads((REPO / "docs" / "grafana" / "deluge_ray.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    charted = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for expr in exprs
        for name in re.findall(r"ray_(deluge_ray_\w+)", expr)
    }
    assert charted == set(METRIC_NAMES)


def test_a_small_batch_shows_up_on_the_prometheus_endpoint() -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(DELUGE_RAY_TOKENIZER="estimate", RAY_AUTH_MODE="disabled")
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    code = f"from tests.tenants.test_metrics_export import _job; _job({port})"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    expected, samples = report["expected"], report["samples"]
    assert expected["ok"] == PROMPTS and expected["swarm_ok"] == LOOPS

    answered = total(samples, "deluge_ray_requests_total", client=CLIENT, model=MINI)
    assert answered == PROMPTS
    assert total(samples, "deluge_ray_requests_total", outcome="error") == 0
    # the swarm's model calls, made in a SubAgent, are counted too (one record per batch)
    assert total(samples, "deluge_ray_http_requests_total", model=MINI) == PROMPTS + LOOPS
    assert total(samples, "deluge_ray_tokens_total", kind="input") == expected["input"]
    assert total(samples, "deluge_ray_tokens_total", kind="output") == expected["output"]
    cost = total(samples, "deluge_ray_cost_usd_total", client=CLIENT)
    spent = expected["cost"] + expected["swarm_cost"]
    assert abs(cost - spent) <= 1e-9 + 1e-6 * spent
    assert total(samples, "deluge_ray_latency_seconds_count", model=MINI) == PROMPTS
    limiter = expected["limiter"]
    assert total(samples, "deluge_ray_limiter_effective_rpm", limiter=limiter) == RPM
    # the client's own budget: less than the whole (its spend is counted), more than what
    # the batch and swarm could cost at their worst
    remaining = total(samples, "deluge_ray_client_budget_remaining_usd", client=CLIENT)
    assert BUDGET - 0.01 < remaining < BUDGET
