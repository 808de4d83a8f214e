"""In-process ``deluge-ray run`` against the real mock provider on the session's Ray."""

from __future__ import annotations

import json
import uuid
import warnings
from pathlib import Path

import pytest

from deluge_ray._secrets import key_fingerprint
from deluge_ray.cli import main
from deluge_ray.mock import Latency, MockConfig, MockProvider

MODEL = "gpt-4.1-mini"


def assert_valid_jsonl(path: Path) -> list[dict]:
    """Every line a UTF-8 JSON object with an id, each id once; returns the rows."""
    if not path.exists():
        return []
    rows = [json.loads(line.decode("utf-8")) for line in path.read_bytes().splitlines()]
    assert all(isinstance(row, dict) for row in rows)
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), ids
    return rows


@pytest.fixture(scope="module")
def mock_server():
    with MockProvider(MockConfig(latency=Latency.fixed(2))) as server:
        yield server


@pytest.fixture(scope="module")
def module_key(ray_cluster):
    """An API key for this module alone, so its RateLimiter is its own."""
    key = f"sk-cli-corpus-{uuid.uuid4().hex[:12]}"
    yield key
    try:
        name = f"limiter:openai:{key_fingerprint(key)}"
        ray_cluster.kill(ray_cluster.get_actor(name, namespace="deluge_ray"))
    except ValueError:
        pass  # no prompt was ever sent


@pytest.fixture(scope="module")
def driver_callers(ray_cluster):
    """This process's shared ProviderCallers, held open for the whole module.

    Every in-process run's client is a view onto them, so a run costs no caller start-up
    (a new worker process per run made the corpus the slowest module of the suite).
    """
    from deluge_ray.client._driver_callers import acquire_driver_callers, release_driver_callers

    callers = acquire_driver_callers()
    callers.want(size=2, initial=2)  # the default pool of --max-concurrent 225
    yield callers
    release_driver_callers(callers)


@pytest.fixture
def run(mock_server, module_key, driver_callers, monkeypatch, capsys, tmp_path):
    """``deluge-ray run IN -o out.jsonl ...`` in this process: (exit, stdout, stderr lines)."""
    for name, value in {**mock_server.environment(), "OPENAI_API_KEY": module_key}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() replaces it
    monkeypatch.chdir(tmp_path)

    def invoke(input_name: str, *args: str) -> tuple[int, str, list[str]]:
        capsys.readouterr()
        argv = ["run", input_name, "-m", MODEL, "-o", "out.jsonl", "--progress", "none"]
        code = main([*argv, "--tpm", "5000000", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err.splitlines()

    return invoke
