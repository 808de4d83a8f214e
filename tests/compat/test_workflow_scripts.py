"""Workflow scripts from the seeds (empty batches, a SQLite cache across runs, the extract,
translate and score pipelines, rerank's progress bar), run with lm-deluge 0.0.168 and
deluge_ray against the same mock provider and compared where they must agree."""

from __future__ import annotations

import lm_deluge
import lm_deluge.cache
import pytest

import deluge_ray.cache
from deluge_ray import LLMClient
from deluge_ray.mock import use_mock

from ..support.clients import CLIENT_DEFAULTS, mock_fixtures

mock_server, mock, make_client = mock_fixtures(latency_ms=1, client_needs_mock=True)


@pytest.fixture(scope="module")
def plain_client(ray_cluster, mock_server):
    """One default deluge_ray client shared by the scripts that need no special settings
    (starting a client's caller costs ~2 s)."""
    with use_mock(mock_server):
        client = LLMClient("gpt-4.1-mini", **{**CLIENT_DEFAULTS, "max_new_tokens": 64})
        yield client
        client.shutdown()


ORACLE_ID = "compat-workflow-gpt-4.1-mini-on-mock"
WIRE = "gpt-4.1-mini-2025-04-14"


@pytest.fixture
def oracle_client(mock, monkeypatch):
    """Build lm-deluge clients on the mock (0.0.168 reaches it through a registry entry)."""
    from lm_deluge.models import register_model

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-compat")
    register_model(
        id=ORACLE_ID,
        name=WIRE,
        api_base=mock.openai_base_url,
        api_key_env_var="OPENAI_API_KEY",
        api_spec="openai",
        provider="openai",
        supports_json=True,
        supports_logprobs=True,
    )

    def build(**kwargs):
        return lm_deluge.LLMClient(ORACLE_ID, progress="manual", max_new_tokens=64, **kwargs)

    return build


async def test_empty_batches_return_empty_lists_in_both(oracle_client, make_client):
    for client in (oracle_client(), make_client(max_new_tokens=64)):
        assert await client.process_prompts_async([], show_progress=False) == []
        assert await client.process_agent_loops_async([], show_progress=False) == []


def test_sqlite_cache_second_run_is_a_cache_hit_in_both(oracle_client, make_client, mock, tmp_path):
    prompts = ["Cache me.", "And me."]

    def run_twice(client):
        before = mock.stats()["requests"]
        first = client.process_prompts_sync(prompts, show_progress=False)
        second = client.process_prompts_sync(prompts, show_progress=False)
        sent = mock.stats()["requests"] - before
        return (
            [r.completion for r in first],
            [r.completion for r in second],
            [r.local_cache_hit for r in first],
            [r.local_cache_hit for r in second],
            sent,
        )

    theirs = run_twice(oracle_client(cache=lm_deluge.cache.SqliteCache(str(tmp_path / "o.db"))))
    with deluge_ray.cache.SqliteCache(str(tmp_path / "d.db")) as cache:
        ours = run_twice(make_client(max_new_tokens=64, cache=cache))
    assert ours == theirs
    assert ours[3] == [True, True] and ours[4] == 2


def test_extract_parses_the_json_the_model_returns(oracle_client, make_client, mock):
    from lm_deluge.pipelines.extract import extract as their_extract

    from deluge_ray.pipelines.extract import extract as our_extract

    mock.script(WIRE, lambda view: '{"name": "Ada", "born": 1815}')
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "born": {"type": "integer"}},
    }
    texts = ["Ada Lovelace was born in 1815.", "Ada, 1815."]
    theirs = their_extract(texts, schema, oracle_client(json_mode=True), show_progress=False)
    ours = our_extract(texts, schema, make_client(max_new_tokens=64, json_mode=True))
    assert ours == theirs == [{"name": "Ada", "born": 1815}] * 2


def test_translate_sends_only_the_non_english_texts(oracle_client, plain_client, mock, monkeypatch):
    import importlib

    from deluge_ray.pipelines import is_english
    from deluge_ray.pipelines.translate import translate as our_translate

    # 0.0.168 detects languages with the optional ftlangdetect; without it every text counts
    # as English. Give it deluge_ray's offline detector so both translate the same texts.
    # (import_module: the package's `translate` attribute is the function, not the module.)
    their_module = importlib.import_module("lm_deluge.pipelines.translate")
    monkeypatch.setattr(their_module, "is_english", is_english)
    mock.script(WIRE, lambda view: "The world is very beautiful and it is big.")
    texts = ["Le monde est très beau et il est grand.", "The cat is on the table."]

    before = mock.stats()["requests"]
    theirs = their_module.translate(list(texts), oracle_client())
    ours = our_translate(list(texts), plain_client)
    assert ours == theirs == ["The world is very beautiful and it is big.", texts[1]]
    assert mock.stats()["requests"] - before == 2  # one French text per library


def test_score_llm_reads_yes_and_no_alike(oracle_client, plain_client, mock):
    from lm_deluge.pipelines.score import score_llm as their_score

    from deluge_ray.pipelines.score import score_llm as our_score

    mock.script(WIRE, lambda view: "Yes." if "good" in view.last_user_text else "No.")
    template = "Is this review positive? {}"
    inputs = [("a good film",), ("a dull film",), ["good acting"]]
    theirs = their_score(template, inputs, oracle_client(), return_probabilities=False)
    ours = our_score(template, inputs, plain_client, return_probabilities=False)
    assert ours == theirs == [True, False, True]


async def test_rerank_progress_bar_counts_each_query(mock):
    from deluge_ray.rerank import rerank_parallel_async

    class Bar:
        """What rerank uses of a tqdm bar: ``update``."""

        def __init__(self) -> None:
            self.n = 0

        def update(self, n: int = 1) -> None:
            self.n += n

    bar = Bar()
    queries = ["red apples", "fast cars", "slow boats"]
    docs = [["apples", "cars"], ["cars", "boats"], ["boats", "apples"]]
    results = await rerank_parallel_async(queries, docs, top_k=1, progress_bar=bar)
    assert bar.n == 3 and [r.query for r in results] == queries
