"""Short user scripts from the seeds, run against lm-deluge 0.0.168 and deluge_ray.

Each script takes the library module and returns plain data (provider payloads, logs,
descriptions); the two libraries' results are compared field by field. Nothing here needs
Ray or a server: these are the prompt, message, file and tool behaviours of issue 14.
"""

from __future__ import annotations

import datetime
import json
import warnings
from typing import Optional

import lm_deluge
import pytest
from lm_deluge.prompt import File as OracleFile

import deluge_ray

LIBS = {"lm_deluge": lm_deluge, "deluge_ray": deluge_ray}


def _file_class(lib):
    return OracleFile if lib is lm_deluge else deluge_ray.File


def _both(script):
    return script(lm_deluge), script(deluge_ray)


def _part(part) -> tuple:
    kind = type(part).__name__
    if kind == "Text":
        return ("text", part.text)
    if kind == "ToolCall":
        return ("call", part.id, part.name, part.arguments)
    if kind == "ToolResult":
        return ("result", part.tool_call_id, part.result)
    if kind == "Thinking":
        return ("thinking", part.content)
    return (kind.lower(),)


def _shape(conv) -> list[tuple]:
    """A conversation as plain data both libraries can be compared on: the two emit
    different (equally valid) OpenAI shapes, e.g. a string vs a list of text parts."""
    return [(m.role, [_part(p) for p in m.parts]) for m in conv.messages]


def test_deprecated_add_aliases_build_what_with_builds():
    def script(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            msg = lib.Message.ai("look").add_text("closer")
            msg.add_tool_call("c1", "f", {"x": 1})
            msg.add_thinking("hmm")
        assert any(issubclass(w.category, DeprecationWarning) for w in caught)
        return _shape(lib.Conversation().add(msg))

    theirs, ours = _both(script)
    assert ours == theirs


def test_message_with_tool_result_takes_tool_call_id_keyword():
    def script(lib):
        msg = lib.Message("tool", []).with_tool_result(tool_call_id="c9", result="done")
        return lib.Conversation().add(msg).to_openai()

    theirs, ours = _both(script)
    assert ours == theirs == [{"role": "tool", "tool_call_id": "c9", "content": "done"}]


def test_with_tool_results_folds_execute_tool_calls_output():
    def script(lib):
        conv = lib.Conversation().user("go")
        conv.add(lib.Message.ai("").with_tool_call("a", "f", {}).with_tool_call("b", "f", {}))
        return _shape(conv.with_tool_results([("a", "one"), ("b", "two")]))

    theirs, ours = _both(script)
    assert ours == theirs


def test_model_used_bookkeeping_and_its_log_key():
    def script(lib):
        conv = lib.Conversation().user("hi")
        conv.with_message(lib.Message.ai("hello"), model_used="gpt-4.1-mini")
        log = conv.to_log()
        back = lib.Conversation.from_log(log)
        return log.get("model_used"), back.model_used, lib.Conversation().user("x").model_used

    theirs, ours = _both(script)
    assert ours == theirs == ("gpt-4.1-mini", "gpt-4.1-mini", None)


def test_with_response_appends_content_and_records_the_model():
    def script(lib):
        resp = lib.APIResponse(
            id=0,
            model_internal="claude-4.5-sonnet",
            prompt=lib.Conversation().user("q"),
            sampling_params=lib.SamplingParams(),
            status_code=200,
            is_error=False,
            error_message=None,
            content=lib.Message.ai("answer"),
        )
        conv = lib.Conversation().user("q").with_response(resp)
        return conv.model_used, _shape(conv)

    theirs, ours = _both(script)
    assert ours == theirs


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}],
        [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
            },
        ],
        [{"role": "user", "content": "plain"}],
    ],
    ids=["openai", "anthropic", "ambiguous"],
)
def test_from_unknown_detects_the_format_like_0_0_168(messages):
    def script(lib):
        conv, fmt = lib.Conversation.from_unknown(messages)
        return fmt, _shape(conv)

    theirs, ours = _both(script)
    assert ours == theirs


def test_from_unknown_reads_a_log():
    def script(lib):
        log = lib.Conversation().user("hi").ai("yo").to_log()
        conv, fmt = lib.Conversation.from_unknown(log)
        return fmt, _shape(conv)

    theirs, ours = _both(script)
    assert ours == theirs


def test_print_shows_roles_and_clips_long_text(capsys):
    conv = deluge_ray.Conversation().system("rules").user("x" * 50)
    conv.print(max_text_length=10)
    out = capsys.readouterr().out
    assert "[SYSTEM]" in out and "[USER]" in out
    assert "x" * 10 + "... [40 more chars]" in out


def test_file_with_file_id_sends_the_id_not_the_bytes():
    def script(lib):
        File = _file_class(lib)
        f = File(b"%PDF-1.4 x", file_id="file-abc", filename="a.pdf", media_type="application/pdf")
        return lib.Conversation().add(lib.Message.user("read").with_file(f)).to_openai()

    theirs, ours = _both(script)
    assert ours == theirs
    assert ours[0]["content"][-1] == {"type": "file", "file": {"file_id": "file-abc"}}


def test_file_with_file_id_does_not_read_its_string():
    def script(lib):
        File = _file_class(lib)
        f = File("x", file_id="file-abc")
        return lib.Conversation().add(lib.Message.user("read").with_file(f)).to_openai()

    theirs, ours = _both(script)
    assert ours == theirs


def _undocumented(x: int, y: Optional[str] = None) -> int:  # noqa: UP045 - as users write it
    return x


class _Item(deluge_ray.tool._tool.BaseModel):
    name: str
    score: float


def _search(query: str) -> list[_Item]:
    """Search the catalogue."""
    return []


@pytest.mark.parametrize("func", [_undocumented, _search], ids=["no-docstring", "list-of-model"])
@pytest.mark.parametrize("with_schema", [False, True], ids=["plain", "with-output-schema"])
def test_tool_descriptions_match_0_0_168(func, with_schema):
    def script(lib):
        tool = lib.Tool.from_function(func, include_output_schema_in_description=with_schema)
        return tool.description

    theirs, ours = _both(script)
    assert ours == theirs


def test_strict_mode_makes_optional_parameters_nullable_and_required_like_0_0_168():
    def script(lib):
        tool = lib.Tool.from_function(_undocumented)
        body = tool.for_openai_completions(strict=True)["function"]
        return body["parameters"], body["strict"]

    theirs, ours = _both(script)
    assert ours == theirs


def test_validate_output_failure_is_a_value_error_in_both():
    """0.0.168 raises pydantic's ValidationError; deluge_ray's ToolError is, like it, a
    ValueError (pydantic's class cannot be subclassed; see the README's differences)."""

    def bad(x: int) -> int:
        """Return a number (but does not)."""
        return "text"  # type: ignore[return-value]

    for lib in LIBS.values():
        with pytest.raises(ValueError):
            lib.Tool.from_function(bad).call(x=1, validate_output=True)


@pytest.mark.parametrize(
    "block",
    [
        {"type": "input_file", "file_id": "file-1"},
        {
            "type": "input_file",
            "filename": "a.pdf",
            "file_data": "data:application/pdf;base64,JVBERi0xLjQ=",
        },
        {"type": "file", "file": {"file_id": "file-2"}},
    ],
    ids=["input_file-id", "input_file-data", "file-id"],
)
def test_from_openai_chat_accepts_input_file_parts(block):
    def script(lib):
        conv = lib.Conversation.from_openai_chat([{"role": "user", "content": [block]}])
        [part] = conv.messages[0].parts
        return type(part).__name__, part.file_id or None, part.filename

    theirs, ours = _both(script)
    assert ours[:2] == theirs[:2]


def test_to_log_writes_values_json_cannot_hold_as_their_repr():
    when = datetime.date(2020, 1, 1)

    def script(lib):
        conv = lib.Conversation().user("x")
        conv.add(lib.Message.ai("").with_tool_call("c1", "f", {"when": when}))
        conv.add(lib.Message("tool", []).with_tool_result("c1", {"when": when}))
        log = conv.to_log()
        json.dumps(log)  # the log must be JSON
        return log["messages"][1]["content"][-1]["arguments"], log["messages"][2]["content"][-1][
            "result"
        ]

    theirs, ours = _both(script)
    assert ours == theirs == ({"when": repr(when)}, {"when": repr(when)})
