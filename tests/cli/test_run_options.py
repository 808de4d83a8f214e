"""``deluge-ray run`` options end to end in this process: budget, cache, resume, help."""

from __future__ import annotations

import json

import pytest

from deluge_ray.cli import main
from deluge_ray.cli._run import estimate_cost
from deluge_ray.mock import Latency
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation

from .conftest import MODEL, assert_valid_jsonl


def _write(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _mock_cost(mock_server, model: str = MODEL) -> float:
    """Dollars of what the mock says it answered (its own token counts)."""
    stats, info = mock_server.stats(), get_model(model)
    return (stats["tokens_in"] * info.input_cost + stats["tokens_out"] * info.output_cost) / 1e6


def test_budget_is_never_passed_with_prompts_in_flight(run, tmp_path, mock_server) -> None:
    # Prompts of different lengths, eight in flight, replies much shorter than the cap:
    # the reservations are released as results arrive, so more prompts fit than the
    # worst case alone would allow, and still the spend stays under the budget.
    records = [
        {"id": f"p{i:02d}", "prompt": f"{i} " + "word " * (5 + 37 * (i % 4))} for i in range(40)
    ]
    _write(tmp_path / "in.jsonl", records)
    model = get_model(MODEL)
    worst = [
        estimate_cost(model, Conversation().user(r["prompt"]).count_tokens(), 300) for r in records
    ]
    budget = sum(worst[:10])  # ten prompts' worst case, out of forty
    mock_server.reset_stats()
    mock_server.config.latency = Latency.fixed(20)
    try:
        code, _, stderr = run(
            "in.jsonl", "--max-new-tokens", "300", "--max-concurrent", "8",
            "--budget-usd", f"{budget:.12f}",
        )  # fmt: skip
    finally:
        mock_server.config.latency = Latency.fixed(2)

    assert code == 1 and any("budget of $" in line for line in stderr), stderr
    rows = assert_valid_jsonl(tmp_path / "out.jsonl")
    assert 10 <= len(rows) < 40  # at least what the worst case allows; stopped before the end
    spent = _mock_cost(mock_server)
    assert spent <= budget
    assert sum(r["cost"] for r in rows) == pytest.approx(spent)
    # Submission is in file order: the rows written are a prefix of the input.
    assert sorted(r["id"] for r in rows) == [r["id"] for r in records[: len(rows)]]

    # A rerun counts what the first run spent (from its rows): the room left after the
    # in-flight worst cases settled into real costs is used, and the total stays under.
    mock_server.reset_stats()
    code, _, _ = run("in.jsonl", "--max-new-tokens", "300", "--budget-usd", f"{budget:.12f}")
    assert code == 1
    assert spent + _mock_cost(mock_server) <= budget
    assert (
        len(assert_valid_jsonl(tmp_path / "out.jsonl"))
        == len(rows) + mock_server.stats()["requests"]
    )


def test_cache_keys_on_the_model_and_rows_say_cache_hit(run, tmp_path, mock_server) -> None:
    _write(tmp_path / "in.jsonl", [{"id": f"c{i}", "prompt": f"cache me {i}"} for i in range(3)])
    cache = ["--cache", str(tmp_path / "cache.sqlite")]

    def rows_of(*args: str) -> list[dict]:
        (tmp_path / "out.jsonl").unlink(missing_ok=True)
        mock_server.reset_stats()
        code, _, stderr = run("in.jsonl", *cache, *args)
        assert code == 0, stderr
        return assert_valid_jsonl(tmp_path / "out.jsonl")

    first = rows_of()
    assert [r["cache_hit"] for r in first] == [False] * 3 and mock_server.stats()["requests"] == 3
    assert all(r["attempts"] == 1 for r in first)

    other_model = rows_of("-m", "gpt-4.1-nano")  # the last -m wins
    assert mock_server.stats()["requests"] == 3, "one cache served two models"
    assert {r["model"] for r in other_model} == {"gpt-4.1-nano"}
    assert not any(r["cache_hit"] for r in other_model)

    again = rows_of()
    assert mock_server.stats()["requests"] == 0
    assert all(r["cache_hit"] and r["attempts"] == 0 for r in again)
    assert {r["id"]: r["completion"] for r in again} == {r["id"]: r["completion"] for r in first}


def test_a_repaired_id_is_written_once_and_skipped_on_resume(run, tmp_path, mock_server) -> None:
    (tmp_path / "in.jsonl").write_bytes(b'{"id": "x\\udc00", "prompt": "hi"}\n')
    mock_server.reset_stats()

    first = run("in.jsonl")
    second = run("in.jsonl")

    assert first[0] == 0 and any("written as 'x\\\\udc00'" in line for line in first[2])
    assert second[0] == 0 and mock_server.stats()["requests"] == 1
    assert [r["id"] for r in assert_valid_jsonl(tmp_path / "out.jsonl")] == ["x\\udc00"]


@pytest.mark.parametrize("command", ["run", "demo", "mock-server"])
def test_help_shows_defaults_description_exit_codes_and_output(command, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    text = capsys.readouterr().out

    assert exited.value.code == 0
    assert "(default: " in text
    assert "exit codes:" in text and "\n  0 " in text
    assert "output" in text.split("exit codes:")[0].split("options:")[1]
    if command == "run":
        for key in ('"total_tokens"', '"cache_hit"', '"latency_s"', '"attempts"', '"error"'):
            assert key in text
        assert "The final spend never passes X." in text
        assert "through the client's cache, per row" in text  # --engine data's resume
        assert '{"id", "custom_id", "response": {"status_code", "request_id", "body"}' in text
        assert "(default: 512)" in text  # --max-new-tokens
