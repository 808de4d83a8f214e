"""Malformed input through ``deluge-ray run``: every bad line reported, every good line written.

Each case is a prompt file (and sometimes an existing output file) built here, run with
the command's own entry point (:func:`deluge_ray.cli.main`) in this process, against the
real mock provider on the session's Ray: one Ray for the whole corpus instead of a
subprocess and a Ray start per file. ``test_cli_end_to_end`` covers real subprocesses.

For each case the test checks the exit status, the messages on stderr, which ids reached
the output, and that the output is valid JSONL (UTF-8, one object per line, each id once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from deluge_ray.cli._run import MAX_PROBLEMS_SHOWN

from .conftest import assert_valid_jsonl


def _line(ident: str, prompt: str = "hello") -> bytes:
    return json.dumps({"id": ident, "prompt": f"{prompt} {ident}"}).encode() + b"\n"


GOOD_A, GOOD_C = _line("a"), _line("c")


@dataclass(frozen=True)
class Case:
    """One corpus file: its bytes, and what the run must do with it."""

    data: bytes
    exit: int
    ids: list[str]  # ids the output must hold afterwards, in any order
    stderr: list[str] = field(default_factory=list)  # fragments, each on some stderr line
    suffix: str = ".jsonl"
    output: bytes | None = None  # an output file left by an earlier run
    args: tuple[str, ...] = ()


def _around(*bad: bytes) -> bytes:
    """Good line "a", then the bad lines, then good line "c"."""
    return GOOD_A + b"".join(bad) + GOOD_C


CASES: dict[str, Case] = {
    # ---- bytes and encodings --------------------------------------------------------
    "invalid utf-8 line": Case(
        _around(b"\xff\xfe not text\n"), 1, ["a", "c"], ["line 2", "not valid UTF-8"]
    ),
    "latin-1 byte inside a prompt": Case(
        _around(b'{"id": "b", "prompt": "caf\xe9"}\n'),
        1,
        ["a", "c"],
        ["line 2", "byte 0xe9 at column 27"],
    ),
    "utf-16 file": Case(
        '{"id": "a", "prompt": "x"}\n'.encode("utf-16"), 1, [], ["line 1", "not valid UTF-8"]
    ),
    "byte-order mark": Case(b"\xef\xbb\xbf" + GOOD_A + GOOD_C, 0, ["a", "c"]),
    "crlf line ends": Case(
        GOOD_A.replace(b"\n", b"\r\n") + GOOD_C.replace(b"\n", b"\r\n"), 0, ["a", "c"]
    ),
    "no newline at the end": Case(GOOD_A + GOOD_C.rstrip(b"\n"), 0, ["a", "c"]),
    "nul byte in a line": Case(
        _around(b'{"id": "b", "prompt": "x\x00y"}\n'),
        1,
        ["a", "c"],
        ["line 2", "control character"],
    ),
    "non-ascii prompts and ids": Case(
        json.dumps({"id": "ü-λ-🙂", "prompt": "naïve café 🙂"}, ensure_ascii=False).encode()
        + b"\n",
        0,
        ["ü-λ-🙂"],
    ),
    # ---- lone surrogates -------------------------------------------------------------
    "lone surrogate in a prompt": Case(
        _around(b'{"id": "b", "prompt": "x\\ud800y"}\n'),
        1,
        ["a", "c"],
        ["line 2", "lone surrogate (\\ud800) at character 2"],
    ),
    "lone surrogate in a bare string": Case(
        _around(b'"bare \\udfff"\n'), 1, ["a", "c"], ["line 2", "lone surrogate"]
    ),
    "lone surrogate in messages": Case(
        _around(b'{"id": "b", "messages": [{"role": "user", "content": "\\ud83d"}]}\n'),
        1,
        ["a", "c"],
        ["line 2", "'messages'[0]['content'] holds a lone surrogate"],
    ),
    "lone surrogate in system": Case(
        _around(b'{"id": "b", "prompt": "x", "system": "\\udc80"}\n'),
        1,
        ["a", "c"],
        ["line 2", "'system' holds a lone surrogate"],
    ),
    "lone surrogate in an id is repaired": Case(
        _around(b'{"id": "b\\ud800", "prompt": "x"}\n'),
        0,
        ["a", "b\\ud800", "c"],
        ["warning: line 2: id holds a lone surrogate"],
    ),
    # ---- JSON syntax -----------------------------------------------------------------
    "truncated line": Case(
        _around(b'{"id": "b", "prompt": "sec\n'),
        1,
        ["a", "c"],
        ["line 2", "Unterminated string starting at column 23"],
    ),
    "object cut after a value": Case(
        _around(b'{"id": "b", "prompt": "x"\n'),
        1,
        ["a", "c"],
        ["line 2", "column 26 (the line ends there: is it cut short?)"],
    ),
    "trailing garbage": Case(
        _around(b'{"id": "b", "prompt": "x"} extra\n'),
        1,
        ["a", "c"],
        ["line 2", "Extra data at column 28"],
    ),
    "plain text line": Case(
        _around(b"   just words\n"), 1, ["a", "c"], ["line 2", "Expecting value at column 4"]
    ),
    "trailing comma": Case(
        _around(b'{"id": "b", "prompt": "x",}\n'), 1, ["a", "c"], ["line 2", "column 27"]
    ),
    "nested too deeply": Case(
        _around(b"[" * 100_000 + b"\n"), 1, ["a", "c"], ["line 2", "nested too deeply"]
    ),
    # ---- JSON shape ------------------------------------------------------------------
    "a number": Case(_around(b"42\n"), 1, ["a", "c"], ["line 2", "got int"]),
    "a list": Case(_around(b"[1, 2]\n"), 1, ["a", "c"], ["line 2", "got list"]),
    "no prompt or messages": Case(
        _around(b'{"id": "b", "text": "x"}\n'), 1, ["a", "c"], ["line 2", "neither"]
    ),
    "empty prompt": Case(
        _around(b'{"id": "b", "prompt": "  "}\n'), 1, ["a", "c"], ["line 2", "non-empty string"]
    ),
    "prompt not a string": Case(
        _around(b'{"id": "b", "prompt": 7}\n'), 1, ["a", "c"], ["line 2", "non-empty string"]
    ),
    "id a float": Case(
        _around(b'{"id": 1.5, "prompt": "x"}\n'), 1, ["a", "c"], ["line 2", "'id' must be"]
    ),
    "id a boolean": Case(
        _around(b'{"id": true, "prompt": "x"}\n'), 1, ["a", "c"], ["line 2", "'id' must be"]
    ),
    "system not a string": Case(
        _around(b'{"id": "b", "prompt": "x", "system": 3}\n'),
        1,
        ["a", "c"],
        ["line 2", "'system' must be a string"],
    ),
    "messages empty": Case(
        _around(b'{"id": "b", "messages": []}\n'), 1, ["a", "c"], ["line 2", "non-empty list"]
    ),
    "messages of numbers": Case(
        _around(b'{"id": "b", "messages": [1, 2]}\n'), 1, ["a", "c"], ["line 2"]
    ),
    "duplicate id": Case(
        GOOD_A + _line("a", "again") + GOOD_C,
        1,
        ["a", "c"],
        ["line 2", "duplicate id 'a' (first on line 1)"],
    ),
    "an id equal to another line's number": Case(
        b'"bare prompt on line 1"\n{"id": "1", "prompt": "x"}\n' + GOOD_C,
        1,
        ["1", "c"],
        ["line 2", "duplicate id '1'"],
    ),
    "only blank lines": Case(b"\n  \n\n", 0, []),
    "empty file": Case(b"", 0, []),
    # ---- CSV -------------------------------------------------------------------------
    "csv with a byte-order mark": Case(
        "\ufeffid,prompt\nq1,hello\nq2,there\n".encode(), 0, ["q1", "q2"], suffix=".csv"
    ),
    "csv row not utf-8": Case(
        b"id,prompt\nq1,hello\nq2,caf\xe9\nq3,there\n",
        1,
        ["q1", "q3"],
        ["line 3", "not valid UTF-8"],
        suffix=".csv",
    ),
    "csv empty prompt cell": Case(
        b"id,prompt\nq1,hello\nq2,\nq3,there\n",
        1,
        ["q1", "q3"],
        ["line 3", "empty 'prompt'"],
        suffix=".csv",
    ),
    "csv without the prompt column": Case(
        b"id,question\nq1,hello\n", 2, [], ["no 'prompt' column", "--prompt-column"], suffix=".csv"
    ),
    # ---- an output file left by an earlier run ---------------------------------------
    "output with a torn last line": Case(
        GOOD_A + GOOD_C,
        0,
        ["a", "c"],
        ["1 unusable line(s) (line 2)", "out.jsonl.rejected"],
        output=json.dumps({"id": "a", "completion": "old", "cost": 0.0, "error": None}).encode()
        + b'\n{"id": "c", "compl',
    ),
    "output with a line that is not utf-8": Case(
        GOOD_A + GOOD_C,
        0,
        ["a", "c"],
        ["(line 1)"],
        output=b'{"id": "a", "completion": "\xff"}\n',
    ),
    "output with a failed row": Case(
        GOOD_A + GOOD_C,
        0,
        ["a", "c"],
        ["1 rows of", "are errors and were skipped; --retry-failed runs them again"],
        output=json.dumps({"id": "a", "completion": None, "error": "boom"}).encode() + b"\n",
    ),
    "output with a failed row and --retry-failed": Case(
        GOOD_A + GOOD_C,
        0,
        ["a", "c"],
        [],
        output=json.dumps({"id": "a", "completion": None, "error": "boom"}).encode() + b"\n",
        args=("--retry-failed",),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_corpus_file(name, run, tmp_path, mock_server) -> None:
    case = CASES[name]
    (tmp_path / f"in{case.suffix}").write_bytes(case.data)
    if case.output is not None:
        (tmp_path / "out.jsonl").write_bytes(case.output)
    mock_server.reset_stats()

    code, _, stderr = run(f"in{case.suffix}", *case.args)

    assert code == case.exit, stderr
    assert not any("Traceback" in line for line in stderr)
    for fragment in case.stderr:
        assert any(fragment in line for line in stderr), (fragment, stderr)
    rows = assert_valid_jsonl(tmp_path / "out.jsonl")
    assert sorted(row["id"] for row in rows) == sorted(case.ids)
    new_rows = [row for row in rows if "latency_s" in row]  # rows written by this run
    assert all(row["error"] is None for row in new_rows)
    assert mock_server.stats()["requests"] == len(new_rows)


def test_a_flood_of_bad_lines_is_counted_not_printed(run, tmp_path, mock_server) -> None:
    # 100,000 lines show what a million would (the first few printed, the rest counted,
    # the good lines around them run) at a tenth of the cost; tests/cli/test_jobfile.py
    # times the reader's fast path on lines that are not JSON.
    bad = 100_000
    (tmp_path / "in.jsonl").write_bytes(GOOD_A + b"not json\n" * bad + GOOD_C)

    code, _, stderr = run("in.jsonl")

    assert code == 1
    skipped = [line for line in stderr if line.startswith("deluge-ray: skipping")]
    assert len(skipped) == MAX_PROBLEMS_SHOWN and "line 2:" in skipped[0]
    assert f"and {bad - MAX_PROBLEMS_SHOWN:,} more bad lines" in stderr[-1]
    assert f"({bad:,} in all" in stderr[-1]
    assert sorted(r["id"] for r in assert_valid_jsonl(tmp_path / "out.jsonl")) == ["a", "c"]


def test_output_equal_to_the_input_is_refused(run, tmp_path) -> None:
    (tmp_path / "in.jsonl").write_bytes(GOOD_A)

    code, stdout, stderr = run("in.jsonl", "-o", "./in.jsonl")

    assert code == 2 and stdout == ""
    assert stderr == [
        "deluge-ray: error: -o ./in.jsonl is the input file; results would overwrite the "
        "prompts. Pass another output path"
    ]
    assert (tmp_path / "in.jsonl").read_bytes() == GOOD_A
