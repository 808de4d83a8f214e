"""Live status on real actors: RateLimiter.status(), LLMClient.limiter_status() and
``deluge-ray status`` after a small batch on the mock; and the one line with no cluster."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid

from deluge_ray.cli._status import run_status
from tests.support.clients import mock_fixtures

MINI = "gpt-4.1-mini"

mock_server, mock, make_client = mock_fixtures(1, model=MINI, max_new_tokens=50)


def test_status_shows_the_client_its_priority_and_its_traffic(
    mock, make_client, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-status-{uuid.uuid4().hex}")
    client = make_client(MINI, name="status-probe", priority="interactive", budget_usd=5.0)
    out = client.process_prompts_sync([f"q {i}" for i in range(6)], show_progress=False)
    assert not any(r.is_error for r in out)
    limiter_name = client._routes[0].limiter_name

    def mine_now():
        statuses = {s.name: s for s in client.limiter_status()}
        status = statuses[limiter_name]
        (mine,) = [c for c in status.clients if c.client_id == client.tenancy.tenant.client_id]
        return status, mine

    # The spend note is sent without waiting for an answer: poll until it is in (how long
    # that takes is not asserted).
    for _ in range(200):
        status, mine = mine_now()
        if mine.budget_usd is not None:
            break
        time.sleep(0.02)
    assert status.models == (MINI,)
    assert status.configured_rpm == client.max_requests_per_minute
    assert (mine.name, mine.priority) == ("status-probe", 2)
    assert mine.requests >= 6 and mine.share > 0
    assert mine.budget_usd == 5.0 and mine.spend_usd is not None and mine.spend_usd > 0

    text = io.StringIO()
    assert run_status(None, None, out=text, width=200) == 0
    table = text.getvalue()
    assert limiter_name in table and "status-probe" in table and "interactive" in table

    naps: list[float] = []
    watched = io.StringIO()
    assert run_status(None, 0.5, out=watched, sleep=naps.append, rounds=2, width=200) == 0
    assert naps == [0.5] and "status-probe" in watched.getvalue()


def test_with_no_cluster_status_says_so_in_one_line(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_TMPDIR"] = str(tmp_path)  # where Ray records the cluster `ray start` made
    env["DELUGE_RAY_STATE_DIR"] = str(tmp_path / "head")  # and where deluge_ray keeps its head
    # Both cases in one process (a Python start-up each would double the test's time).
    code = (
        "from deluge_ray.cli import main; "
        "print(main(['status']), main(['status', '--address', '127.0.0.1:1']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["1", "1"], done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr  # one line each, no traceback
    assert "no Ray cluster found" in lines[0]
    assert "no Ray cluster reachable" in lines[1] and "127.0.0.1:1" in lines[1]
