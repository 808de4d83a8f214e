"""Prompt files in, results files out: formats, line-numbered problems, and resuming."""

from __future__ import annotations

import json

import pytest
from openai.types.chat import ChatCompletion

from deluge_ray import Message, SamplingParams
from deluge_ray.api_requests.response import APIResponse, Usage
from deluge_ray.cli._inflight import InflightLedger, ledger_path
from deluge_ray.cli._jobfile import InputProblem, JobRecord, read_records
from deluge_ray.cli._openai_batch import batch_output_row
from deluge_ray.cli._results import ResultWriter, prepare_output, scan_output
from deluge_ray.errors import ConfigurationError


def test_jsonl_accepts_strings_prompts_and_message_lists(tmp_path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps("plain prompt"),
                json.dumps({"id": "a", "prompt": "with id", "system": "be brief"}),
                json.dumps({"id": 7, "messages": [{"role": "user", "content": "hi"}]}),
                "",
            ]
        )
    )
    records = list(read_records(path))
    assert records == [
        JobRecord("1", "plain prompt", None, 1),
        JobRecord("a", "with id", "be brief", 2),
        JobRecord("7", [{"role": "user", "content": "hi"}], None, 3),
    ]


def test_malformed_lines_are_reported_with_their_line_number_and_the_rest_still_read(
    tmp_path,
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('"ok one"\n{not json\n{"id": "x"}\n42\n"ok two"\n')
    items = list(read_records(path))
    problems = [i for i in items if isinstance(i, InputProblem)]
    assert [p.line for p in problems] == [2, 3, 4]
    assert "invalid JSON" in str(problems[0]) and "line 2" in str(problems[0])
    assert "neither 'prompt' nor 'messages'" in problems[1].message
    assert [r.prompt for r in items if isinstance(r, JobRecord)] == ["ok one", "ok two"]


def test_csv_uses_prompt_and_id_columns(tmp_path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('id,prompt\nq1,"hello, world"\n,second\n')
    records = list(read_records(path))
    assert [(r.id, r.prompt) for r in records] == [("q1", "hello, world"), ("3", "second")]


def test_csv_without_the_prompt_column_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("question\nwhy?\n")
    with pytest.raises(ConfigurationError, match="--prompt-column"):
        list(read_records(path))


def test_missing_input_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="input file not found"):
        list(read_records(tmp_path / "nope.jsonl"))


def test_writer_refuses_a_missing_output_directory(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="output directory does not exist"):
        ResultWriter(tmp_path / "missing" / "out.jsonl")


def test_resume_sees_written_ids_and_ignores_a_cut_off_line(tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    with ResultWriter(out) as writer:
        writer.write({"id": "a", "completion": "x", "error": None})
        writer.write({"id": "b", "completion": None, "error": "boom"})
    with open(out, "a") as fh:
        fh.write('{"id": "c", "compl')  # Ctrl-C in the middle of a line
    assert scan_output(out).done == {"a", "b"}
    assert prepare_output(out).rejected_lines == [3]  # moved aside, not merged or lost
    with ResultWriter(out) as writer:
        writer.write({"id": "c", "completion": "y", "error": None})
    assert scan_output(out).done == {"a", "b", "c"}
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "b", "c"]
    assert (tmp_path / "out.jsonl.rejected").read_text() == '{"id": "c", "compl\n'


def test_a_row_that_cannot_be_utf8_is_written_repaired_not_lost(tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    with ResultWriter(out) as writer:
        assert writer.write({"id": "a\ud800", "completion": "x\udfff", "error": None}) is False
        assert writer.write({"id": "b", "completion": "fine", "error": None}) is True
        assert writer.repaired == 1
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == {"id": "a\\ud800", "completion": "x\\udfff", "error": None}
    assert rows[1]["id"] == "b"


def test_repair_moves_bad_lines_aside_and_keeps_every_good_row(tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(
        b'{"id": "a", "error": null, "cost": 0.5}\n'
        b'{"id": "b", "completion": "\xff"}\n'  # not UTF-8
        b"[1, 2]\n"  # JSON, but not a row
        b'{"id": "c", "error": "HTTP 500", "cost": null}\n'
        b'{"id": "d", "er'  # torn
    )
    state = prepare_output(out)
    assert state.rejected_lines == [2, 3, 5]
    assert state.done == {"a", "c"} and state.failed == {"c"} and state.spent == 0.5
    assert [json.loads(line)["id"] for line in out.read_bytes().splitlines()] == ["a", "c"]
    rejected = (tmp_path / "out.jsonl.rejected").read_bytes().splitlines()
    assert rejected == [b'{"id": "b", "completion": "\xff"}', b"[1, 2]", b'{"id": "d", "er']

    retried = prepare_output(out, retry_failed=True)
    assert retried.retried == 1 and retried.done == {"a"} and retried.failed == set()
    assert [json.loads(line)["id"] for line in out.read_bytes().splitlines()] == ["a"]


def test_csv_with_a_byte_order_mark_and_a_bad_row_keeps_the_good_rows(tmp_path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbfid,prompt\nq1,hi\nq2,caf\xe9\nq3,there\n")
    items = list(read_records(path))
    assert [(i.id, i.prompt) for i in items if isinstance(i, JobRecord)] == [
        ("q1", "hi"),
        ("q3", "there"),
    ]
    assert [str(i) for i in items if isinstance(i, InputProblem)] == [
        "line 3: not valid UTF-8; save the file as UTF-8"
    ]


def test_the_inflight_ledger_counts_sent_ids_without_a_row_and_skips_a_torn_line(
    tmp_path,
) -> None:
    out = tmp_path / "out.jsonl"
    ledger = InflightLedger(out)
    assert ledger.unfinished(set()) == 0  # no earlier run
    ledger.start()
    for ident in ("a", "b", "c\udc00", "d"):
        ledger.sent(ident)
    ledger.close(nothing_in_flight=False)  # a kill: the ledger stays
    with open(ledger_path(out), "ab") as fh:
        fh.write(b'"e')  # the kill landed mid-write: "e" was never handed over

    assert InflightLedger(out).unfinished({"a", "d"}) == 2  # b and c were in flight
    again = InflightLedger(out)
    again.start()  # the resumed run's own ledger replaces the old one
    again.close(nothing_in_flight=True)
    assert not ledger_path(out).exists()


def test_batch_output_rows_resume_by_custom_id_and_a_torn_one_is_moved_aside(tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    ok = APIResponse(
        id=0, model_internal="gpt-4.1-mini", prompt={}, sampling_params=SamplingParams(),
        status_code=200, is_error=False, error_message=None, finish_reason="stop",
        usage=Usage(input_tokens=1_000_000, output_tokens=0),
        content=Message.ai("fine"),
    )  # fmt: skip
    refused = APIResponse(
        id=1, model_internal="gpt-4.1-mini", prompt={}, sampling_params=SamplingParams(),
        status_code=400, is_error=True, error_message="bad request",
    )  # fmt: skip
    with ResultWriter(out) as writer:
        writer.write(batch_output_row("q1", ok, "gpt-4.1-mini"))
        writer.write(batch_output_row("q2", refused, "gpt-4.1-mini"))
        writer.write(batch_output_row("q3", None, "gpt-4.1-mini"))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # No provider JSON at hand: the body is built, and is a valid chat.completion.
    body = ChatCompletion.model_validate(rows[0]["response"]["body"])
    assert body.choices[0].message.content == "fine" and body.usage.prompt_tokens == 1_000_000
    assert rows[1]["response"]["status_code"] == 400 and rows[1]["error"] is None
    assert rows[1]["response"]["body"]["error"]["message"] == "bad request"
    assert rows[2]["response"] is None and rows[2]["error"]["message"] == "no response"
    with open(out, "ab") as fh:
        fh.write(b'{"id": "batch_req_x", "custom_id": "q4", "respo')

    state = prepare_output(out, usage_price=lambda usage: usage["prompt_tokens"] / 1e6)

    assert state.done == {"q1", "q2", "q3"} and state.failed == {"q2", "q3"}
    assert state.rejected_lines == [4] and state.spent == 1.0
    assert prepare_output(out, retry_failed=True).done == {"q1"}


def test_a_directory_skips_the_output_and_markers_and_empty_inputs_are_clear_errors(
    tmp_path,
) -> None:
    data = tmp_path / "data"
    (data / "nested").mkdir(parents=True)
    (data / "a.jsonl").write_text('"one"\n')
    (data / "nested" / "b.csv").write_text("prompt\ntwo\n")
    (data / "out.jsonl").write_text('{"id": "x", "completion": "a result, not a prompt"}\n')
    (data / ".hidden.jsonl").write_text('"hidden"\n')
    (data / "notes.txt").write_text("not an input")

    records = list(read_records(data, exclude=[data / "out.jsonl"]))

    assert [(r.id, r.prompt) for r in records] == [("a.jsonl:1", "one"), ("nested/b.csv:2", "two")]
    with pytest.raises(ConfigurationError, match="matches no files"):
        list(read_records(tmp_path / "data" / "*.parquet"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigurationError, match="holds no"):
        list(read_records(tmp_path / "empty"))
