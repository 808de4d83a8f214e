"""Prompt files in, results files out: formats, line-numbered problems, and resuming."""

from __future__ import annotations

import json

import pytest

from deluge_ray.cli._jobfile import InputProblem, JobRecord, read_records
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
