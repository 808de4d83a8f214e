"""Client configuration scripts (no request sent), run with lm-deluge 0.0.168 and deluge_ray
and compared: model switching, the model_dump / model_validate round trip, output effort,
fallbacks, effort suffixes, and the 0.0.168 fields of responses, usage and prompt parts."""

from __future__ import annotations

import importlib

import lm_deluge
import pytest

import deluge_ray


def _both(script):
    return script(lm_deluge), script(deluge_ray)


def _models(client):
    return (
        list(client.model_names),
        [round(w, 6) for w in client.model_weights],
        [sp.reasoning_effort for sp in client.sampling_params],
    )


def test_with_model_and_with_models_switch_like_0_0_168():
    def script(lib):
        client = lib.LLMClient("gpt-4.1-mini", max_new_tokens=40, progress="manual")
        seen = [_models(client.with_model("o3-high"))]
        seen.append(_models(client.with_models(["gpt-4.1-mini", "gpt-4.1-nano"])))
        return seen, [sp.max_new_tokens for sp in client.sampling_params]

    theirs, ours = _both(script)
    assert ours == theirs
    assert ours[0][0] == (["o3"], [1.0], ["high"])


def test_fallback_models_join_with_zero_weight_like_0_0_168():
    def script(lib):
        client = lib.LLMClient(
            ["gpt-4.1-mini", "gpt-4.1-nano"],
            model_weights=[3, 1],
            fallback_models=["gpt-4o-mini-high", "gpt-4.1-nano"],
            progress="manual",
        )
        before = (_models(client), list(client.fallback_models), client.name)
        return before, _models(client.with_model("o3"))

    theirs, ours = _both(script)
    assert ours == theirs
    assert ours[0][0][1] == [0.75, 0.25, 0.0]


@pytest.mark.parametrize("name", ["o3-xhigh", "gpt-5-max", "gpt-5-minimal", "o3"])
def test_effort_suffixes_set_the_effort_like_0_0_168(name):
    def script(lib):
        client = lib.LLMClient(name, progress="manual")
        return _models(client), client.reasoning_effort

    theirs, ours = _both(script)
    assert ours == theirs


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(global_effort="max"),
        dict(verbosity="low"),
        dict(global_effort="xhigh", verbosity="xhigh"),
    ],
)
def test_global_effort_and_verbosity_like_0_0_168(kwargs):
    def script(lib):
        client = lib.LLMClient("claude-4.5-opus", progress="manual", **kwargs)
        sp = client.sampling_params[0]
        return client.global_effort, client.verbosity, sp.global_effort, sp.verbosity

    theirs, ours = _both(script)
    assert ours == theirs


def test_disagreeing_global_effort_and_verbosity_are_refused_by_both():
    for lib in (lm_deluge, deluge_ray):
        with pytest.raises(ValueError, match=r"verbosity and global_effort|disagree"):
            lib.LLMClient("gpt-4.1-mini", global_effort="low", verbosity="high")


@pytest.mark.parametrize("effort", ["none", "minimal", "low", "medium", "high", "xhigh", "max"])
def test_sampling_params_accept_every_0_0_168_effort(effort):
    def script(lib):
        sp = lib.SamplingParams(reasoning_effort=effort, global_effort=effort)
        return sp.reasoning_effort, sp.global_effort, sp.verbosity

    theirs, ours = _both(script)
    assert ours == theirs == (effort, effort, effort)


_DUMP_KEYS = (
    "model_names",
    "name",
    "model_weights",
    "fallback_models",
    "max_requests_per_minute",
    "max_tokens_per_minute",
    "max_concurrent_requests",
    "max_attempts",
    "request_timeout",
    "reasoning_effort",
    "global_effort",
    "verbosity",
    "thinking_budget",
    "max_new_tokens",
    "progress",
)
_SP_KEYS = ("temperature", "max_new_tokens", "reasoning_effort", "global_effort", "verbosity")


def test_model_dump_and_model_validate_round_trip_like_0_0_168():
    def script(lib):
        client = lib.LLMClient(
            "o3-high",
            fallback_models=["gpt-4.1-nano"],
            temperature=0.3,
            max_new_tokens=99,
            global_effort="medium",
            thinking_budget=2048,
            request_timeout=17,
            progress="manual",
        )
        dumped = client.model_dump()
        again = type(client).model_validate(dumped).model_dump()
        shown = {k: dumped[k] for k in _DUMP_KEYS}
        shown["sampling_params"] = [
            {k: sp[k] for k in _SP_KEYS} for sp in dumped["sampling_params"]
        ]
        return shown, {k: again[k] for k in _DUMP_KEYS} == {k: dumped[k] for k in _DUMP_KEYS}

    theirs, ours = _both(script)
    assert ours == theirs
    assert ours[1] is True


def test_defaults_of_the_new_constructor_arguments_match_0_0_168():
    keys = (
        "fallback_models",
        "cache_ttl",
        "thinking_prefix_mismatch",
        "stateless_responses",
        "global_effort",
        "verbosity",
        "thinking_budget",
        "task_budget",
        "max_tokens_per_minute",
    )

    def script(lib):
        client = lib.LLMClient("gpt-4.1-mini", progress="manual")
        return {k: getattr(client, k) for k in keys}

    theirs, ours = _both(script)
    assert ours == theirs


def test_usage_and_response_carry_the_0_0_168_fields():
    def script(lib):
        usage = importlib.import_module(lib.__name__ + ".usage").Usage(
            input_tokens=3, output_tokens=4
        )
        resp = lib.APIResponse(
            id=0,
            model_internal="gpt-4.1-mini",
            prompt=lib.Conversation().user("hi"),
            sampling_params=lib.SamplingParams(),
            status_code=200,
            is_error=False,
            error_message=None,
            usage=usage,
        )
        return (
            usage.cache_write_1h_tokens,
            usage.reasoning_tokens,
            resp.container_id,
            resp.input_transformations,
            resp.trajectory,
        )

    theirs, ours = _both(script)
    assert ours == theirs == (0, 0, None, None, None)


def test_message_extra_survives_the_log_like_0_0_168():
    def script(lib):
        message = lib.Message("user", [lib.prompt.Text("hi")], extra={"phase": "plan", "n": 2})
        log = message.to_log()
        return log["extra"], lib.Message.from_log(log).extra

    theirs, ours = _both(script)
    assert ours == theirs == ({"phase": "plan", "n": 2}, {"phase": "plan", "n": 2})


def test_remote_file_spelling_sends_the_file_id_like_0_0_168():
    def script(lib):
        f = lib.File(None, file_id="file-xyz", is_remote=True, remote_provider="openai")
        return lib.Conversation().add(lib.Message.user("read").with_file(f)).to_openai()

    theirs, ours = _both(script)
    assert ours == theirs


def test_remote_file_without_a_provider_is_refused_by_both():
    for lib in (lm_deluge, deluge_ray):
        with pytest.raises(ValueError, match="remote_provider"):
            lib.File(None, file_id="file-xyz", is_remote=True)


def test_tool_call_thought_signature_goes_back_to_gemini():
    from deluge_ray.prompt import Text, ToolCall

    call = ToolCall("c1", "f", {"x": 1}, thought_signature="sig-1")
    message = deluge_ray.Message("assistant", [Text("thinking aloud", "sig-0"), call])
    _, contents = deluge_ray.Conversation([message]).to_gemini()
    parts = contents[0]["parts"]
    assert parts[0] == {"text": "thinking aloud", "thoughtSignature": "sig-0"}
    assert parts[1]["thoughtSignature"] == "sig-1"
    logged = deluge_ray.Message.from_log(message.to_log())
    assert logged == message


def test_built_in_tool_parts_are_refused_not_dropped():
    from deluge_ray.errors import PromptError
    from deluge_ray.prompt import ToolCall, ToolResult

    with pytest.raises(PromptError, match="built_in"):
        ToolCall("c1", "web_search", {}, built_in=True, built_in_type="web_search_call")
    with pytest.raises(PromptError, match="files"):
        ToolResult("c1", "done", files=[object()])


def test_loop_and_stream_types_are_importable_where_0_0_168_has_them():
    from deluge_ray.client import AgentLoopResponse

    conv = deluge_ray.Conversation().user("hi")
    wrapped = AgentLoopResponse(conversation=conv, final_response=None)  # type: ignore[arg-type]
    assert wrapped.conversation is conv
    event = deluge_ray.TextDeltaEvent("text", 0, "gpt-4.1-mini", "he")
    theirs = lm_deluge.TextDeltaEvent("text", 0, "gpt-4.1-mini", "he")
    assert (event.kind, event.round, event.model, event.text) == (
        theirs.kind,
        theirs.round,
        theirs.model,
        theirs.text,
    )
