"""``deluge-ray`` as a user runs it: real subprocesses, a real mock provider, real Ray.

The mock provider runs in the test process; its URLs and a key reach the command through
the environment, exactly as ``deluge-ray mock-server`` tells a user to export them. Runs
join the session's Ray cluster with ``--address`` (starting a Ray per command would cost
seconds each); ``demo`` starts its own embedded Ray, as on a fresh machine. What the mock
counted is the independent check of what was sent.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from deluge_ray._constants import API_KEY_ENV_VARS, BASE_URL_ENV_VARS
from deluge_ray._secrets import key_fingerprint
from deluge_ray.cli._run import estimate_cost
from deluge_ray.mock import Latency, Limits, MockConfig, MockProvider
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation

MODEL = "gpt-4.1-mini"
# in.jsonl -> out.jsonl in the test's directory, one ProviderCaller, no live display, and
# a token limit that leaves the request limit in charge (each request reserves its input
# plus max-new-tokens; the default 100,000 TPM would allow only about 3 requests/s).
RUN = ["run", "in.jsonl", "-m", MODEL, "-o", "out.jsonl", "--callers", "1", "--progress", "none"]
RUN += ["--tpm", "5000000"]
# The console script next to this interpreter, so the test runs the installed entry point.
CLI = str(Path(sys.executable).with_name("deluge-ray"))
TIMEOUT = 240
# Ray's own start-up lines (printed when a driver joins a cluster); everything else on
# stderr is deluge-ray's.
RAY_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+\s+(INFO|WARNING) \S+\.py:\d+ -- ")


# ---- fixtures --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mock_server():
    with MockProvider(MockConfig(latency=Latency.fixed(5))) as server:
        yield server


@pytest.fixture
def mock(mock_server):
    """The module's mock with fresh stats and its default (unlimited, 5 ms) behaviour."""
    mock_server.reset_stats()
    yield mock_server
    mock_server.set_limits(Limits())
    mock_server.config.latency = Latency.fixed(5)
    mock_server.clear_scripts()


@pytest.fixture(scope="module")
def ray_address(ray_cluster):
    return ray_cluster.get_runtime_context().gcs_address


def _kill_limiter(ray, key: str) -> None:
    # The RateLimiter of a key is a detached actor; these keys exist only in this module.
    try:
        ray.kill(ray.get_actor(f"limiter:openai:{key_fingerprint(key)}", namespace="deluge_ray"))
    except ValueError:
        pass  # never created (the tests using the key failed before sending)


@pytest.fixture(scope="module")
def module_key(ray_cluster):
    """One API key for this module: its own RateLimiter, untouched by other test modules."""
    key = f"sk-cli-e2e-{uuid.uuid4().hex[:12]}"
    yield key
    _kill_limiter(ray_cluster, key)


def _base_env() -> dict[str, str]:
    provider_vars = {*BASE_URL_ENV_VARS.values(), *API_KEY_ENV_VARS.values(), "RAY_ADDRESS"}
    env = {k: v for k, v in os.environ.items() if k not in provider_vars}
    env["COLUMNS"] = "200"  # rich wraps long lines (a tmp path) at the default 80
    return env


@pytest.fixture
def env(mock, module_key) -> dict[str, str]:
    """The environment of a user who exported what ``deluge-ray mock-server`` printed."""
    return {**_base_env(), **mock.environment(), "OPENAI_API_KEY": module_key}


# ---- helpers ---------------------------------------------------------------------------
def cli(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )


def write_prompts(path: Path, count: int, words: int = 3) -> list[dict]:
    """``count`` prompts of equal length (so of equal token estimates), ids q000, q001, ..."""
    padding = " ".join(["please"] * words)
    records = [{"id": f"q{i:03d}", "prompt": f"question {i:03d}, {padding}"} for i in range(count)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return records


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def summary(stdout: str) -> dict[str, str]:
    """The rows of a rich summary table printed by the command."""
    rows = re.findall(r"^[│|]\s*(.+?)\s*[│|]\s*(.+?)\s*[│|]\s*$", stdout, flags=re.M)
    return dict(rows)


def deluge_stderr(stderr: str) -> list[str]:
    """stderr without Ray's own start-up log lines."""
    return [line for line in stderr.splitlines() if line and not RAY_LOG_LINE.match(line)]


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("deluge-ray: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def wait_until(condition, what: str, timeout: float = TIMEOUT) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds.

    The bound only turns a hang into a clear failure: no assertion depends on how long
    the wait took.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def line_count(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


# ---- run -------------------------------------------------------------------------------
def test_run_writes_one_complete_row_per_prompt(tmp_path, env, mock, ray_address) -> None:
    records = write_prompts(tmp_path / "in.jsonl", 12)
    # Other accepted shapes: a bare string (id = its line number) and a message list.
    with open(tmp_path / "in.jsonl", "a") as fh:
        fh.write(json.dumps("a bare prompt string") + "\n")
        messages = [{"role": "user", "content": "hello from a message list"}]
        fh.write(json.dumps({"id": "msgs", "messages": messages, "system": "be brief"}) + "\n")
    out = tmp_path / "out.jsonl"

    result = cli([*RUN, "--address", ray_address], env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = read_rows(out)
    assert [r["id"] for r in rows].count("msgs") == 1 and len(rows) == 14
    by_id = {r["id"]: r for r in rows}
    expected_completion = {r["id"]: f"Mock reply to: {r['prompt']}" for r in records}
    expected_completion["13"] = "Mock reply to: a bare prompt string"
    expected_completion["msgs"] = "Mock reply to: hello from a message list"
    assert {i: r["completion"] for i, r in by_id.items()} == expected_completion
    model = get_model(MODEL)
    for row in rows:
        assert set(row) == {
            "id", "completion", "model", "finish_reason", "usage", "total_tokens", "cost",
            "cache_hit", "latency_s", "attempts", "error",
        }  # fmt: skip
        assert row["attempts"] == 1 and row["cache_hit"] is False and row["latency_s"] >= 0
        assert row["model"] == MODEL and row["finish_reason"] == "stop" and row["error"] is None
        usage = row["usage"]
        assert row["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
        assert usage["cache_read_tokens"] == usage["cache_write_tokens"] == 0
        expected_cost = (
            usage["input_tokens"] * model.input_cost + usage["output_tokens"] * model.output_cost
        ) / 1e6
        assert row["cost"] == pytest.approx(expected_cost)
    # The system prompt of the "msgs" record reached the provider: it is billed as input.
    bare = Conversation().user("hello from a message list").count_tokens()
    assert by_id["msgs"]["usage"]["input_tokens"] > bare

    stats = mock.stats()
    assert stats["requests"] == 14 and stats["rate_limited"] == 0
    table = summary(result.stdout)
    assert table["done"] == "14" and table["failed"] == "0"
    assert table["cost"] == f"${sum(r['cost'] for r in rows):.4f}"
    assert f"results: {out}" in result.stdout


def test_ctrl_c_then_rerun_completes_the_file_without_duplicates(
    tmp_path, env, mock, ray_address
) -> None:
    count = 50
    records = write_prompts(tmp_path / "in.jsonl", count, words=12)
    out = tmp_path / "out.jsonl"
    mock.config.latency = Latency.fixed(150)  # several prompts in flight at any moment
    command = [CLI, *RUN, "--rpm", "600", "--address", ray_address]

    # A terminal's Ctrl-C: SIGINT to the command's whole process group.
    first = subprocess.Popen(
        command,
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_until(
            lambda: line_count(out) >= 5 or first.poll() is not None,
            "five rows in the output before the interrupt",
        )
        assert first.poll() is None, "the run finished before it could be interrupted"
        os.killpg(first.pid, signal.SIGINT)
        _, stderr = first.communicate(timeout=TIMEOUT)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    assert first.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert any("interrupted" in line and "again to resume" in line for line in stderr.splitlines())
    kept = read_rows(out)  # every line written before the interrupt is whole
    assert 5 <= len(kept) < count
    sent_before = mock.stats()["requests"]
    mock.reset_stats()

    second = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT
    )

    assert second.returncode == 0, second.stderr
    rows = read_rows(out)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == count
    assert {r["id"]: r["completion"] for r in rows} == {
        r["id"]: f"Mock reply to: {r['prompt']}" for r in records
    }
    assert all(r["error"] is None for r in rows)
    # The second run sent exactly the prompts missing from the file.
    assert mock.stats()["requests"] == count - len(kept)
    table = summary(second.stdout)
    assert table["skipped (already in output)"] == str(len(kept))
    assert table["done"] == str(count - len(kept))
    assert sent_before >= len(kept)


def test_dry_run_prints_tokens_and_cost_and_sends_nothing(tmp_path, env, mock) -> None:
    records = write_prompts(tmp_path / "in.jsonl", 30)
    result = cli(
        ["run", "in.jsonl", "-m", MODEL, "-o", "out.jsonl", "--dry-run", "--max-new-tokens", "100"],
        env,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    tokens = sum(Conversation().user(r["prompt"]).count_tokens() for r in records)
    cost = estimate_cost(get_model(MODEL), tokens, 30 * 100)
    table = summary(result.stdout)
    assert table["prompts"] == "30"
    assert table["input tokens"] == f"{tokens:,}"
    assert table["max output tokens"] == "3,000"
    assert table["estimated max cost"] == f"${cost:.4f}"
    assert mock.stats()["requests"] == 0
    assert not (tmp_path / "out.jsonl").exists()


def test_budget_stops_sending_before_the_estimate_passes_it(
    tmp_path, env, mock, ray_address
) -> None:
    records = write_prompts(tmp_path / "in.jsonl", 20)
    model = get_model(MODEL)
    per_prompt = estimate_cost(
        model, Conversation().user(records[0]["prompt"]).count_tokens(), 200
    )  # the worst case of each prompt (all are the same length)
    budget = 6.5 * per_prompt  # room for six worst-case prompts, not seven
    budget_args = ["--max-new-tokens", "200", "--budget-usd", f"{budget:.10f}"]

    result = cli([*RUN, *budget_args, "--address", ray_address], env, cwd=tmp_path)

    assert "Traceback" not in result.stderr
    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] != [] and len(rows) == mock.stats()["requests"]
    # Submission is in file order, each prompt reserving its worst case: six fit.
    assert sorted(r["id"] for r in rows) == [r["id"] for r in records[:6]]
    assert sum(r["cost"] for r in rows) <= budget
    table = summary(result.stdout)
    assert table["not sent (budget)"] == "14"
    assert table["done"] == "6"


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        ("missing input file", ("input file not found", "nowhere.jsonl")),
        ("unknown model", ("Unknown model 'gpt-0-turbo'",)),
        ("output in a missing directory", ("output directory does not exist", "no-such-dir")),
        ("budget of zero", ("--budget-usd",)),
        ("output is the input", ("is the input file", "Pass another output path")),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_a_nonzero_exit(
    tmp_path, env, mock, case, fragments
) -> None:
    write_prompts(tmp_path / "in.jsonl", 3)
    args = {
        "missing input file": ["run", "nowhere.jsonl", "-m", MODEL, "-o", "out.jsonl"],
        "unknown model": ["run", "in.jsonl", "-m", "gpt-0-turbo", "-o", "out.jsonl"],
        "output in a missing directory": [
            "run",
            "in.jsonl",
            "-m",
            MODEL,
            "-o",
            "no-such-dir/o.jsonl",
        ],
        "budget of zero": ["run", "in.jsonl", "-m", MODEL, "-o", "out.jsonl", "--budget-usd", "0"],
        "output is the input": ["run", "in.jsonl", "-m", MODEL, "-o", "in.jsonl"],
    }[case]

    result = cli(args, env, cwd=tmp_path)

    assert_one_line_error(result, *fragments)
    assert result.stdout == ""
    assert mock.stats()["requests"] == 0
    assert not (tmp_path / "out.jsonl").exists()  # refused before anything was written


def test_malformed_line_is_reported_by_number_and_the_rest_still_runs(
    tmp_path, env, mock, ray_address
) -> None:
    lines = [
        json.dumps({"id": "a", "prompt": "first"}).encode(),
        b'{"id": "b", "prompt": "second"',  # cut short: invalid JSON
        json.dumps({"id": "c", "prompt": "third"}).encode(),
        b'{"id": "e", "prompt": "caf\xe9"}',  # Latin-1, not UTF-8
        b'{"id": "f", "prompt": "\\ud800"}',  # a lone surrogate
        json.dumps({"id": "d", "prompt": "fourth"}).encode(),
    ]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")

    result = cli([*RUN, "--address", ray_address], env, cwd=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problems = deluge_stderr(result.stderr)
    assert len(problems) == 3, result.stderr
    assert all(p.startswith("deluge-ray: skipping in.jsonl line ") for p in problems)
    assert "line 2: invalid JSON" in problems[0] and "column 31" in problems[0]
    assert "line 4: not valid UTF-8 (byte 0xe9 at column 27)" in problems[1]
    assert "line 5: 'prompt' holds a lone surrogate" in problems[2]
    assert sorted(r["id"] for r in read_rows(tmp_path / "out.jsonl")) == ["a", "c", "d"]
    assert mock.stats()["requests"] == 3
    assert summary(result.stdout)["bad input lines"] == "3"


def test_429s_from_the_provider_are_retried_until_every_row_is_written(
    tmp_path, mock, ray_address, ray_cluster
) -> None:
    # Its own key, so its own RateLimiter: the cool-downs after 429s slow no other test.
    key = f"sk-cli-429-{uuid.uuid4().hex[:12]}"
    env = {**_base_env(), **mock.environment(), "OPENAI_API_KEY": key}
    write_prompts(tmp_path / "in.jsonl", 12)
    # Two at a time, each taking 100 ms, while the client is allowed 225 in flight at
    # 100 a second: requests overlapping the first two are refused with a 429.
    mock.set_limits(max_concurrent=2)
    mock.config.latency = Latency.fixed(100)
    try:
        result = cli([*RUN, "--rpm", "6000", "--address", ray_address], env, cwd=tmp_path)
    finally:
        _kill_limiter(ray_cluster, key)

    assert "Traceback" not in result.stderr
    refused = mock.stats()["rate_limited"]
    assert refused > 0  # the premise: the provider did refuse some requests
    rows = read_rows(tmp_path / "out.jsonl")
    assert len(rows) == 12 and all(r["error"] is None for r in rows)  # retried to success
    assert mock.stats()["requests"] == 12 + refused
    assert sum(r["attempts"] for r in rows) == 12 + refused  # each row counts its retries
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout)["done"] == "12"


# ---- demo and mock-server --------------------------------------------------------------
def test_mock_server_help(tmp_path) -> None:
    result = cli(["mock-server", "--help"], _base_env(), cwd=tmp_path)

    assert result.returncode == 0 and result.stderr == ""
    for option in ("--port", "--rpm", "--tpm", "--latency-ms", "--fault-rate"):
        assert option in result.stdout


def test_results_reach_the_output_file_as_they_arrive(tmp_path, env, mock, ray_address) -> None:
    write_prompts(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out.jsonl"
    rows_when_last_asked: list[int] = []

    def answer(view):
        # One request at a time (--max-concurrent 1), so when the last prompt reaches the
        # mock the other 19 are answered: their rows must reach the file while this one
        # is still unanswered. Blocking the mock here holds no other request.
        if "question 019" in view.last_user_text:
            deadline = time.monotonic() + 60
            while line_count(out) < 19 and time.monotonic() < deadline:
                time.sleep(0.02)
            rows_when_last_asked.append(line_count(out))
        return f"Mock reply to: {view.last_user_text}"

    mock.script("*", answer)
    result = cli([*RUN, "--max-concurrent", "1", "--address", ray_address], env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert rows_when_last_asked == [19], "rows were held back until every prompt was answered"
    assert len(read_rows(out)) == 20


def test_run_summary_reports_the_429s_the_provider_sent(
    tmp_path, mock, ray_address, ray_cluster
) -> None:
    key = f"sk-cli-429-{uuid.uuid4().hex[:12]}"
    env = {**_base_env(), **mock.environment(), "OPENAI_API_KEY": key}
    write_prompts(tmp_path / "in.jsonl", 12)
    mock.set_limits(max_concurrent=2)
    mock.config.latency = Latency.fixed(100)
    try:
        result = cli([*RUN, "--rpm", "6000", "--address", ray_address], env, cwd=tmp_path)
    finally:
        _kill_limiter(ray_cluster, key)
        mock.set_limits(Limits())
    refused = mock.stats()["rate_limited"]
    assert refused > 0
    assert summary(result.stdout)["429s received"] == str(refused)
