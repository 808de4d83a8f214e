"""``deluge-ray run`` on Parquet inputs and OpenAI Batch API files, in this process.

Parquet: a file, a directory and a glob, read in batches (pyarrow's allocations stay far
below the file's size); a file without the prompt column names the columns it has.
Batch files: the same request file goes through the mock's Batch API (with the ``openai``
SDK) and through ``deluge-ray run --output-format openai-batch``; the two output files have
the same shape, line for line, and deluge_ray's own batch-result reader takes ours.
"""

from __future__ import annotations

import json

import openai
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openai.types.chat import ChatCompletion

from deluge_ray.cli._jobfile import JobRecord, read_records
from deluge_ray.transport._batch_jobs import _openai_results

from .conftest import MODEL, assert_valid_jsonl


def _parquet(path, rows: list[dict], row_group_size: int | None = None) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)


# ---- Parquet ---------------------------------------------------------------------------
def test_parquet_file_with_ids_strings_and_message_lists(run, tmp_path, mock_server) -> None:
    _parquet(
        tmp_path / "in.parquet",
        [{"id": f"p{i}", "prompt": f"parquet prompt {i}", "system": None} for i in range(5)]
        + [{"id": "p5", "prompt": None, "system": None}],
    )
    _parquet(
        tmp_path / "msgs.parquet",
        [{"messages": [{"role": "user", "content": "from a message list"}], "system": "be brief"}],
    )
    mock_server.reset_stats()

    code, _, stderr = run("in.parquet")

    assert code == 1  # the null prompt is a bad row, named by its row number
    assert any("in.parquet row 6: 'prompt' must be a non-empty string" in s for s in stderr)
    rows = assert_valid_jsonl(tmp_path / "out.jsonl")
    assert {r["id"]: r["completion"] for r in rows} == {
        f"p{i}": f"Mock reply to: parquet prompt {i}" for i in range(5)
    }
    assert mock_server.stats()["requests"] == 5

    code, _, stderr = run("msgs.parquet", "-o", "msgs.jsonl")
    assert code == 0, stderr
    (row,) = assert_valid_jsonl(tmp_path / "msgs.jsonl")
    assert row["id"] == "1" and row["completion"] == "Mock reply to: from a message list"


@pytest.mark.parametrize("how", ["directory", "glob"])
def test_a_directory_or_glob_of_parquet_files_numbers_rows_by_file(
    how, run, tmp_path, mock_server
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for part in range(2):
        _parquet(
            data / f"part-{part}.parquet", [{"prompt": f"part {part} row {r}"} for r in (1, 2)]
        )
    (data / "_SUCCESS").write_text("")  # left by Spark / Ray Data writers: not an input
    target = "data" if how == "directory" else "data/part-*.parquet"

    code, _, stderr = run(target)

    assert code == 0, stderr
    rows = assert_valid_jsonl(tmp_path / "out.jsonl")
    prefix = "" if how == "directory" else "data/"
    assert {r["id"]: r["completion"] for r in rows} == {
        f"{prefix}part-{p}.parquet:{r}": f"Mock reply to: part {p} row {r}"
        for p in range(2)
        for r in (1, 2)
    }
    assert run(target)[0] == 0 and len(assert_valid_jsonl(tmp_path / "out.jsonl")) == 4


def test_parquet_without_the_prompt_column_names_its_columns(run, tmp_path, mock_server) -> None:
    _parquet(tmp_path / "in.parquet", [{"id": 1, "question": "why?", "topic": "sky"}])
    mock_server.reset_stats()

    code, stdout, stderr = run("in.parquet")

    assert code == 2 and stdout == ""
    assert len(stderr) == 1 and stderr[0].startswith("deluge-ray: error: ")
    assert "has no 'prompt' column" in stderr[0] and "columns are id, question, topic" in stderr[0]
    assert "--prompt-column" in stderr[0]
    assert mock_server.stats()["requests"] == 0
    assert run("in.parquet", "--prompt-column", "question")[0] == 0


def test_parquet_is_read_in_batches_not_whole(tmp_path) -> None:
    # 40,000 rows of 1 KB: 40 MB decoded. Read row by row, pyarrow holds a row group
    # (2,000 rows) and a batch of decoded rows at a time (about 4.5 MB, whatever the size
    # of the file); reading the whole table would hold all 40 MB.
    rows = [{"id": i, "prompt": f"{i:06d}" + "x" * 1018} for i in range(40_000)]
    _parquet(tmp_path / "big.parquet", rows, row_group_size=2_000)
    del rows
    pool = pa.default_memory_pool()
    baseline, peak, count = pool.bytes_allocated(), 0, 0

    for record in read_records(tmp_path / "big.parquet"):
        assert isinstance(record, JobRecord)
        count += 1
        if count % 500 == 0:
            peak = max(peak, pool.bytes_allocated() - baseline)

    assert count == 40_000 and record.id == "39999"
    assert peak < 40_000 * 1024 / 4, f"{peak:,} bytes held while reading"


# ---- OpenAI Batch API files --------------------------------------------------------------
def _batch_line(custom_id: str, text: str, **body) -> dict:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": MODEL, "messages": [{"role": "user", "content": text}], **body},
    }


def _mock_batch_output(mock_server, key: str, path) -> list[dict]:
    """The mock provider's Batch API output for the request file ``path`` (openai SDK)."""
    sdk = openai.OpenAI(api_key=key, base_url=mock_server.environment()["OPENAI_BASE_URL"])
    uploaded = sdk.files.create(file=path.open("rb"), purpose="batch")
    batch = sdk.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    for _ in range(2_000):  # the mock finishes a batch in 50 ms; this bounds a hang
        batch = sdk.batches.retrieve(batch.id)
        if batch.status in ("completed", "failed", "expired"):
            break
    assert batch.status == "completed"
    text = sdk.files.content(batch.output_file_id).text
    return [json.loads(line) for line in text.splitlines()]


def test_a_batch_file_runs_as_is_and_its_output_matches_the_batch_api(
    run, tmp_path, mock_server, module_key
) -> None:
    lines = [_batch_line(f"req-{i}", f"batch question {i}") for i in range(4)]
    (tmp_path / "batch.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    mock_server.reset_stats()

    code, _, stderr = run("batch.jsonl", "--output-format", "openai-batch")

    assert code == 0, stderr
    ours = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert mock_server.stats()["requests"] == 4
    theirs = {
        row["custom_id"]: row
        for row in _mock_batch_output(mock_server, module_key, tmp_path / "batch.jsonl")
    }
    assert sorted(r["custom_id"] for r in ours) == sorted(theirs)
    for row in ours:
        twin = theirs[row["custom_id"]]
        assert set(row) == set(twin) == {"id", "custom_id", "response", "error"}
        assert set(row["response"]) == set(twin["response"])
        assert row["id"].startswith("batch_req_") and row["error"] is None
        assert row["response"]["status_code"] == 200
        assert set(row["response"]["body"]) == set(twin["response"]["body"])
        body = ChatCompletion.model_validate(row["response"]["body"])
        expected = ChatCompletion.model_validate(twin["response"]["body"])
        assert body.choices[0].message.content == expected.choices[0].message.content
        assert body.usage.prompt_tokens == expected.usage.prompt_tokens
    # deluge_ray's reader of Batch API results takes the file as the provider's.
    results: dict = {}
    _openai_results(
        "\n".join(json.dumps({**r, "custom_id": r["custom_id"][4:]}) for r in ours), results
    )
    assert {i: r.completion for i, r in results.items()} == {
        i: f"Mock reply to: batch question {i}" for i in range(4)
    }
    # A rerun resumes by custom_id: nothing is sent again.
    mock_server.reset_stats()
    assert run("batch.jsonl", "--output-format", "openai-batch")[0] == 0
    assert mock_server.stats()["requests"] == 0


def test_bad_batch_lines_name_their_line_and_body_settings_are_reported_once(
    run, tmp_path, mock_server
) -> None:
    lines = [
        json.dumps(_batch_line("a", "first", max_tokens=50)),
        json.dumps({"method": "POST", "url": "/v1/chat/completions", "body": {"messages": []}}),
        json.dumps({"custom_id": "c", "method": "POST", "url": "/v1/chat/completions"}),
        json.dumps(_batch_line("d", "fourth", max_tokens=60)),
        json.dumps({**_batch_line("e", "fifth"), "url": "/v1/embeddings"}),
    ]
    (tmp_path / "batch.jsonl").write_text("\n".join(lines) + "\n")

    code, _, stderr = run("batch.jsonl", "--max-new-tokens", "100")

    assert code == 1
    assert any("line 2: OpenAI batch line without 'custom_id'" in s for s in stderr), stderr
    assert any("line 3: OpenAI batch line without 'body'" in s for s in stderr), stderr
    assert any("line 5: 'url' is '/v1/embeddings'" in s for s in stderr), stderr
    settings = [s for s in stderr if "the batch body sets max_tokens" in s]
    assert len(settings) == 1 and "--max-new-tokens 100" in settings[0]
    assert sorted(r["id"] for r in assert_valid_jsonl(tmp_path / "out.jsonl")) == ["a", "d"]
