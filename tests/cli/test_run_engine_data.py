"""``deluge-ray run --engine data``: the job through Ray Data, resumed through the cache.

In this process on the session's Ray, against the mock provider. The rerun after a
"kill" (the output cut back to a few rows and a torn line, as a SIGKILL leaves it, while
the cache holds every answer the actors got) sends nothing: rows already in the output
are dropped before the stage, and rows answered but not written come from the cache.
"""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pyarrow.parquet as pq

from .conftest import MODEL, assert_valid_jsonl


def test_engine_data_writes_rows_and_resumes_through_the_cache(run, tmp_path, mock_server) -> None:
    rows = [{"id": f"d{i:02d}", "prompt": f"data prompt {i}"} for i in range(12)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    mock_server.reset_stats()

    code, _, stderr = run("in.parquet", "--engine", "data")

    assert code == 0, "\n".join(stderr)
    out = tmp_path / "out.jsonl"
    written = assert_valid_jsonl(out)
    assert {r["id"]: r["completion"] for r in written} == {
        r["id"]: f"Mock reply to: {r['prompt']}" for r in rows
    }
    assert all(r["error"] is None and r["model"] == MODEL for r in written)
    assert mock_server.stats()["requests"] == 12
    assert (tmp_path / "out.jsonl.cache.sqlite").exists()

    # A kill's aftermath: five rows reached the file, the sixth was cut mid-line.
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:5]) + lines[5][:20])
    mock_server.reset_stats()

    code, stdout, stderr = run("in.parquet", "--engine", "data")

    assert code == 0, "\n".join(stderr)
    assert any("resumed: 5 rows" in s for s in stderr), stderr
    assert re.search(r"skipped \(already in output\)\s*│\s*5\s*│", stdout), stdout
    resumed = assert_valid_jsonl(out)
    assert sorted(r["id"] for r in resumed) == [r["id"] for r in rows]
    assert mock_server.stats()["requests"] == 0  # the seven missing rows: from the cache
    assert sum(r["cache_hit"] for r in resumed) == 7


def test_engine_data_takes_a_batch_file_and_writes_batch_output(run, tmp_path, mock_server) -> None:
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL, "messages": [{"role": "user", "content": f"hi {i}"}]},
        }
        for i in range(3)
    ]
    (tmp_path / "batch.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))

    code, _, stderr = run("batch.jsonl", "--engine", "data", "--output-format", "openai-batch")

    assert code == 0, "\n".join(stderr)
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert {
        r["custom_id"]: r["response"]["body"]["choices"][0]["message"]["content"] for r in out
    } == {f"r{i}": f"Mock reply to: hi {i}" for i in range(3)}
    assert all(r["response"]["status_code"] == 200 and r["error"] is None for r in out)


def test_engine_data_needs_ids(run, tmp_path, mock_server) -> None:
    pq.write_table(pa.Table.from_pylist([{"prompt": "no id"}]), tmp_path / "in.parquet")
    mock_server.reset_stats()

    code, _, stderr = run("in.parquet", "--engine", "data")

    assert code == 2
    assert "needs an 'id' column" in stderr[-1] and "its columns are prompt" in stderr[-1]
    assert mock_server.stats()["requests"] == 0
