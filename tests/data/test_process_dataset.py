"""LLMClient.process_dataset on real Ray Data against the mock provider.

One mock per module, the session's Ray cluster, small datasets. Tests that need a limiter of
their own (to read its counters, or because they kill actors holding its slots) use an API
key of their own: the limiter is named after the key's fingerprint.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
import warnings
from collections import Counter

import pyarrow as pa
import pytest
import ray
from pydantic import BaseModel

from deluge_ray._secrets import Secret
from deluge_ray.cache import SqliteCache
from deluge_ray.client._routes import limiter_name
from deluge_ray.data import OUTPUT_COLUMNS
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import Latency, MockConfig, MockProvider
from deluge_ray.mock._stats import key_fingerprint
from deluge_ray.mock._validate import MockHTTPError
from tests.support.clients import client_builder, fresh_mock

MINI = "gpt-4.1-mini"


@pytest.fixture(scope="module")
def mock_server():
    with MockProvider(MockConfig(latency=Latency.fixed(1))) as server:
        yield server


@pytest.fixture
def mock(mock_server):
    yield from fresh_mock(mock_server)


@pytest.fixture(scope="module")
def ray_data(ray_cluster):
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    return ray.data


@pytest.fixture
def make_client(ray_data, mock, own_key):
    # Every test on a key (so a limiter) of its own, ended with it: a test that stops a job
    # part-way has Ray Data kill actors with requests in flight, whose slots stay taken at
    # the limiter for its slot_reclaim_seconds (120 s). On the key other modules share,
    # that stalled later tests (70 s for two prompts in the engine tests).
    yield from client_builder(MINI)


@pytest.fixture
def own_key(monkeypatch, ray_cluster):
    """A fresh API key, hence a RateLimiter of this test's own (ended afterwards)."""
    key = f"sk-data-{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    yield key
    _end_limiter(key)


def _end_limiter(key: str) -> None:
    name = limiter_name("openai", Secret(key))
    try:
        ray.kill(ray.get_actor(name, namespace="deluge_ray"))
    except ValueError:
        pass  # never created


def _wait_until_no_stage_actor_is_alive(deadline_s: float = 120.0) -> None:
    from ray._private import state  # the public state API needs the dashboard

    def alive() -> list[str]:
        actors = state.actors().values()
        return [
            a["ActorClassName"]
            for a in actors
            if a["State"] == "ALIVE" and "MapWorker" in a["ActorClassName"]
        ]

    give_up = time.monotonic() + deadline_s
    while (left := alive()) and time.monotonic() < give_up:
        time.sleep(0.1)
    assert not left, f"the stopped run's Ray Data actors are still alive: {left}"


def _by_id(dataset):
    return sorted(dataset.take_all(), key=lambda row: row["id"])


def test_every_row_keeps_its_columns_and_gains_the_result_columns(mock, make_client, ray_data):
    rows = [{"id": i, "prompt": f"question {i}", "lang": "en"} for i in range(200)]
    rows[1]["prompt"] = rows[0]["prompt"]  # identical prompts in one batch are sent once
    ds = ray_data.from_items(rows, override_num_blocks=4)
    out = make_client().process_dataset(ds, batch_size=50, max_actors=1)
    assert mock.stats()["requests"] == 0  # lazy: nothing runs until the rows are read

    got = _by_id(out)
    assert list(got[0]) == ["id", "prompt", "lang", *OUTPUT_COLUMNS]
    assert [r["id"] for r in got] == list(range(200))
    assert all(r["lang"] == "en" and not r["is_error"] for r in got)
    assert [r["completion"] for r in got] == [f"Mock reply to: {row['prompt']}" for row in rows]
    first = got[5]
    assert first["status_code"] == 200 and first["model"] == MINI
    assert first["input_tokens"] > 0 and first["output_tokens"] > 0
    assert first["cost"] > 0 and first["finish_reason"] == "stop"
    assert first["error_message"] is None and first["cache_hit"] is False
    assert mock.stats()["requests"] == 199


def test_message_lists_system_column_schema_and_raw_response(mock, make_client, ray_data):
    mock.script("*", lambda view: f"system={view.system}; user={view.last_user_text}")
    rows = [
        {
            "id": i,
            "chat": [
                {"role": "user", "content": f"first {i}"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": f"second {i}"},
            ],
            "persona": "Be terse." if i % 2 else None,
        }
        for i in range(20)
    ]
    out = make_client().process_dataset(
        ray_data.from_items(rows),
        messages_column="chat",
        system_column="persona",
        include_raw_response=True,
        max_actors=1,
    )
    got = _by_id(out)
    assert [r["completion"] for r in got] == [
        f"system={'Be terse.' if i % 2 else None}; user=second {i}" for i in range(20)
    ]
    raw = json.loads(got[0]["raw_response"])
    assert raw["choices"][0]["message"]["content"] == got[0]["completion"]

    class Capital(BaseModel):
        country: str
        capital: str

    mock.clear_scripts()
    structured = make_client().process_dataset(
        ray_data.from_items([{"id": 0, "prompt": "Capital of France?"}]),
        output_schema=Capital,
        return_completions_only=True,
        max_actors=1,
    )
    (row,) = structured.take_all()
    assert set(row) == {"id", "prompt", "completion"}
    assert Capital.model_validate_json(row["completion"])


def test_bad_rows_become_error_rows_and_the_job_finishes(mock, make_client, ray_data):
    def refuse_some(view):
        if "refuse me" in view.last_user_text:
            raise MockHTTPError(400, "This request was refused by the content policy.")
        return f"Mock reply to: {view.last_user_text}"

    mock.script("*", refuse_some)
    prompts = ["fine 0", None, "", "   ", "word " * 4_000, "refuse me", "fine 1", "fine 2"]
    client = make_client(max_tokens_per_minute=3_000, max_new_tokens=64)
    out = client.process_dataset(
        ray_data.from_items([{"id": i, "prompt": p} for i, p in enumerate(prompts)]),
        max_actors=1,
    )
    got = _by_id(out)
    assert [r["is_error"] for r in got] == [False, True, True, True, True, True, False, False]
    messages = [r["error_message"] or "" for r in got]
    assert "column 'prompt' is null" in messages[1]
    assert "column 'prompt' is empty" in messages[2] and "is empty" in messages[3]
    assert "max_tokens_per_minute is 3,000, so it can never be sent" in messages[4]
    assert "HTTP 400: This request was refused by the content policy." in messages[5]
    assert got[5]["status_code"] == 400 and got[1]["status_code"] is None
    assert got[7]["completion"] == "Mock reply to: fine 2"
    # Only the three good rows and the refused one reached the provider, each once.
    assert mock.stats()["requests"] == 4

    # A prompt column of the wrong type, and message lists that are not messages.
    numbers = client.process_dataset(
        ray_data.from_items([{"id": i, "prompt": i} for i in range(3)]), max_actors=1
    )
    assert {r["error_message"] for r in numbers.take_all()} == {
        "column 'prompt' holds a int; expected a string or a list of OpenAI/Anthropic message dicts"
    }
    chats = client.process_dataset(
        ray_data.from_items(
            [
                {"id": 0, "chat": [{"role": "user", "content": "hello"}]},
                {"id": 1, "chat": [{"role": "wizard", "content": "abracadabra"}]},
                {"id": 2, "chat": []},
            ]
        ),
        messages_column="chat",
        max_actors=1,
    )
    rows = _by_id(chats)
    assert rows[0]["completion"] == "Mock reply to: hello"
    assert "column 'chat' holds an invalid message list" in rows[1]["error_message"]
    assert rows[2]["error_message"] == "column 'chat' holds an empty message list"

    # Columns only known by running the upstream stage: no refusal up front (that would run
    # it), so every row says what is missing instead of the job failing.
    unknown = ray_data.range(3).map_batches(lambda b: {"id": b["id"], "q": b["id"].astype(str)})
    assert unknown.columns(fetch_if_missing=False) is None
    rows = _by_id(client.process_dataset(unknown, max_actors=1))
    assert {r["error_message"] for r in rows} == {
        "the dataset has no column 'prompt'; its columns are ['id', 'q']"
    }


def test_bad_options_fail_before_any_request(mock, make_client, ray_data):
    client = make_client()
    ds = ray_data.from_items([{"id": 1, "question": "hi", "cost": 1.0}])
    with pytest.raises(ConfigurationError, match=r"prompt_column='prompt' is not a column") as err:
        client.process_dataset(ds)
    assert "['id', 'question', 'cost']" in str(err.value)
    with pytest.raises(ConfigurationError, match=r"messages_column='chat' is not a column"):
        client.process_dataset(ds, messages_column="chat")
    with pytest.raises(ConfigurationError, match=r"already has column\(s\) \['cost'\]"):
        client.process_dataset(ds, prompt_column="question")
    with pytest.raises(ConfigurationError, match="prompt_column must be a column name"):
        client.process_dataset(ds, prompt_column=3)
    with pytest.raises(ConfigurationError, match="batch_size must be a positive number"):
        client.process_dataset(ds, prompt_column="question", batch_size=0)
    with pytest.raises(ConfigurationError, match=r"takes a ray.data.Dataset, got list"):
        client.process_dataset([{"prompt": "hi"}])
    with pytest.raises(TypeError, match="prompt_colum"):
        client.process_dataset(ds, prompt_colum="question")
    with pytest.raises(ConfigurationError, match="service_tier"):
        client.process_dataset(
            ds.drop_columns(["cost"]), prompt_column="question", service_tier="gold"
        )
    assert mock.stats()["requests"] == 0


def test_the_stage_draws_capacity_from_the_clients_named_limiter(
    mock, own_key, make_client, ray_data
):
    client = make_client(max_concurrent_requests=50)
    (warm,) = client.process_prompts_sync(["warm up"], show_progress=False)
    assert not warm.is_error
    limiter = client._routes[0].limiter
    before = ray.get(limiter.stats.remote())

    out = client.process_dataset(
        ray_data.from_items([{"id": i, "prompt": f"limited {i}"} for i in range(120)]),
        batch_size=40,
        max_actors=1,
    ).materialize()
    # Ray Data killed the stage's actors as the job ended. Anything they still held would
    # stay taken at the limiter for its slot_reclaim_seconds (120 s), and every other
    # client of the key would crawl for two minutes after a dataset job: they hold nothing.
    status = ray.get(limiter.status.remote())
    assert (status.in_flight, status.free_slots) == (0, 50)
    assert [c.slots_held for c in status.clients] == [0] * len(status.clients)
    assert not any(r["is_error"] for r in out.take_all())
    after = ray.get(limiter.stats.remote())
    # Every one of the 120 requests was granted by the client's own limiter, in leases of
    # many requests each (never one limiter call per request).
    assert after["granted_requests"] - before["granted_requests"] >= 120
    assert after["lease_calls"] - before["lease_calls"] <= 30
    assert mock.stats()["requests"] == 121


def test_a_rerun_after_a_killed_run_sends_only_unanswered_rows(
    mock, mock_server, own_key, make_client, ray_data, tmp_path, monkeypatch
):
    sent: dict[int, Counter] = {1: Counter(), 2: Counter()}
    run = [1]
    lock = threading.Lock()

    def record(view):
        with lock:
            sent[run[0]][view.last_user_text] += 1
        return f"Mock reply to: {view.last_user_text}"

    mock.script("*", record)
    mock_server.config.latency = Latency.fixed(100)  # slow enough to stop it part-way
    try:
        cache = SqliteCache(tmp_path / "rows.sqlite", "resume-test")
        client = make_client(cache=cache)
        n = 600
        ds = ray_data.from_items(
            [{"id": i, "prompt": f"resume row {i}"} for i in range(n)], override_num_blocks=60
        )
        batches = iter(client.process_dataset(ds, batch_size=5, max_actors=1).iter_batches())
        next(batches)
        batches.close()  # the consumer goes away: Ray Data stops the job and its actors
        _wait_until_no_stage_actor_is_alive()
        # Requests the stopped run wrote before its actors died can still be read by the
        # mock afterwards (its loop lags on a loaded machine): the rerun sends under a key
        # of its own, so that its requests are told apart from them at the mock.
        rerun_key = f"sk-data-rerun-{uuid.uuid4().hex}"
        monkeypatch.setenv("OPENAI_API_KEY", rerun_key)
        with lock:
            run[0] = 2
        try:
            rerun = make_client(cache=cache)
            got = _by_id(rerun.process_dataset(ds, batch_size=50, max_actors=1))
        finally:
            _end_limiter(rerun_key)
    finally:
        mock_server.config.latency = Latency.fixed(1)

    assert [r["completion"] for r in got] == [f"Mock reply to: resume row {i}" for i in range(n)]
    hits = {r["prompt"] for r in got if r["cache_hit"]}
    assert 0 < len(hits) < n  # the first run answered some rows and was stopped early
    # Every row answered by the first run came from the cache; only the others were sent.
    assert hits <= set(sent[1])
    assert not hits & set(sent[2])
    assert set(sent[2]) == {r["prompt"] for r in got} - hits
    # ... each of them once.
    assert mock.stats()["by_key"][key_fingerprint(rerun_key)] == n - len(hits)


def test_write_parquet_streams_every_row(mock, make_client, ray_data, tmp_path):
    n = 600
    ds = ray_data.range(n, override_num_blocks=6).map_batches(
        lambda batch: {"id": batch["id"], "prompt": [f"row {i}" for i in batch["id"]]}
    )
    make_client().process_dataset(ds, batch_size=50, max_actors=1).write_parquet(
        str(tmp_path / "out")
    )
    files = list((tmp_path / "out").glob("*.parquet"))
    assert len(files) > 1  # written block by block, not gathered into one
    back = ray_data.read_parquet(str(tmp_path / "out")).select_columns(["id", "is_error"])
    rows = back.take_all()  # one read job for every check below
    assert sorted(r["id"] for r in rows) == list(range(n))
    assert not any(r["is_error"] for r in rows)
    assert mock.stats()["requests"] == n


def test_a_small_job_puts_nothing_of_rays_internals_on_the_terminal(
    mock, make_client, ray_data, capfd
):
    # What reaches the user's terminal from the driver (this process): Ray's own error
    # lines (an "E" line per restartable actor created with arguments in the object
    # store), warnings about how the stage is configured, tracebacks of handled faults.
    client = make_client()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = ray_data.from_items([{"id": i, "prompt": f"quiet {i}"} for i in range(12)])
        rows = client.process_dataset(ds, batch_size=4, max_actors=1).take_all()
    assert len(rows) == 12 and not any(r["is_error"] for r in rows)
    assert [str(w.message) for w in caught if "ray" in w.filename] == []
    stderr = capfd.readouterr().err
    noise = [
        line
        for line in stderr.splitlines()
        if re.match(r"^\[[\d\- :,]+ [EWF] \d+ \d+\]", line)  # Ray's C++ error/warning lines
        or "Unclosed" in line
        or re.search(r"\s(ERROR|WARNING)\s+\S+:\d+ -- ", line)  # Ray's Python log lines
    ]
    # Not this job's: the warning this module asks for (the ray_data fixture turns bars
    # off), and Ray's late report of an earlier test's killed actors.
    theirs = ("Progress bars disabled", "Unhandled error")
    assert [line for line in noise if not any(t in line for t in theirs)] == []


def test_the_stage_records_metrics_once_per_batch_and_ends_idle_holding_nothing(
    mock, own_key, make_client, ray_data, monkeypatch
):
    from deluge_ray import metrics
    from deluge_ray.data._columns import OUTPUT_COLUMNS as COLUMNS
    from deluge_ray.data._plan import build_stage
    from deluge_ray.data._rows import RowReader
    from deluge_ray.data._stage import DatasetCaller

    recorded: dict[str, list[tuple[float, dict]]] = {}

    class Instrument:
        def __init__(self, name: str) -> None:
            self.calls = recorded.setdefault(name, [])

        def inc(self, amount, tags):
            self.calls.append((amount, tags))

        def observe(self, value, tags):
            self.calls.append((value, tags))

    monkeypatch.setattr(metrics, "_available", True)
    monkeypatch.setattr(metrics, "_instrument", lambda kind, name, *_: Instrument(name))

    client = make_client(name="tagged", max_concurrent_requests=20)
    stage = build_stage(
        client,
        RowReader(),
        COLUMNS,
        tools=None,
        output_schema=None,
        cache=None,
        service_tier=None,
    )
    caller = DatasetCaller(stage)
    prompts = ["m 0", "m 1", "m 0", None, "m 2", "m 3"]  # a duplicate, a bad row: 4 sent
    table = pa.table({"id": list(range(6)), "prompt": prompts})
    out = asyncio.run(caller(table)).to_pylist()
    assert mock.stats()["requests"] == 4
    sent = [out[i] for i in (0, 1, 4, 5)]

    # One record for the batch: each counter increased once per tag set, by the batch's sum.
    assert recorded["deluge_ray_requests"] == [
        (4, {"client": "tagged", "model": MINI, "outcome": "ok"})
    ]
    assert recorded["deluge_ray_http_requests"] == [(4, {"model": MINI})]
    tokens = {tags["kind"]: amount for amount, tags in recorded["deluge_ray_tokens"]}
    assert tokens["input"] == sum(r["input_tokens"] for r in sent)
    assert tokens["output"] == sum(r["output_tokens"] for r in sent)
    ((cost, _),) = recorded["deluge_ray_cost_usd"]
    assert cost == pytest.approx(sum(r["cost"] for r in sent))
    assert len(recorded["deluge_ray_latency_seconds"]) == 4
    assert "deluge_ray_rate_limited" not in recorded  # nothing to add: no zero increments

    # Its last batch done, the actor holds nothing a kill could strand.
    status = ray.get(
        ray.get_actor(
            limiter_name("openai", Secret(own_key)), namespace="deluge_ray"
        ).status.remote()
    )
    assert status.in_flight == 0
    assert caller._transport._http is None  # closed: its teardown has nothing to report
