"""APIResponse and Usage: conveniences, pickling and the to_dict/from_dict round trip."""

from __future__ import annotations

import dataclasses
import json
import pickle

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import APIResponse, ErrorKind, RequestSpec, Usage
from deluge_ray.api_requests.response import sampling_params_dict
from deluge_ray.config import SamplingParams
from deluge_ray.prompt import Conversation, Message, Thinking, ToolCall

from . import _cases as cases


def make(**overrides) -> APIResponse:
    content = Message(
        "assistant",
        [Thinking("hmm", signature="s1"), ToolCall("c1", "get_weather", {"city": "Oslo"})],
    )
    content.with_text("Done.")
    fields = dict(
        id=7,
        model_internal="claude-4.5-sonnet",
        prompt=Conversation().system("sys").user("Weather?"),
        sampling_params=SamplingParams(temperature=0.2, thinking_budget=1024),
        status_code=200,
        is_error=False,
        error_message=None,
        usage=Usage(input_tokens=10, output_tokens=20, cache_read_tokens=30, cache_write_tokens=40),
        content=content,
        thinking="hmm",
        model_external="claude-sonnet-4-5-20250929",
        logprobs=[{"token": "Done", "logprob": -0.1}],
        finish_reason="end_turn",
        cost=0.0123,
        cache_hit=True,
        response_id="msg_1",
        raw_response={"id": "msg_1"},
    )
    fields.update(overrides)
    return APIResponse(**fields)


def test_usage_totals() -> None:
    u = Usage(input_tokens=10, output_tokens=20, cache_read_tokens=30, cache_write_tokens=40)
    assert u.total_input_tokens == 80 and u.total_tokens == 100
    assert u.has_cache_hit and not Usage(1, 1).has_cache_hit
    assert (u + u).total_tokens == 200
    assert Usage.from_dict(u.to_dict()) == u


def test_conveniences_proxy_content_and_usage() -> None:
    r = make()
    assert r.completion == "Done."
    assert (r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens) == (
        10,
        20,
        30,
        40,
    )
    empty = make(usage=None, content=None, is_error=True, error_message="HTTP 500: boom")
    assert (empty.completion, empty.input_tokens, empty.cache_write_tokens) == (None, None, None)


def test_to_dict_is_json_safe_and_round_trips() -> None:
    r = make()
    d = r.to_dict()
    text = json.dumps(d)  # JSON-safe
    back = APIResponse.from_dict(json.loads(text))
    assert back == r
    assert back.content.parts[0] == Thinking("hmm", signature="s1")
    assert back.prompt.fingerprint == r.prompt.fingerprint
    assert back.sampling_params == r.sampling_params


def test_error_response_round_trips() -> None:
    r = make(
        usage=None,
        content=None,
        is_error=True,
        error_message="HTTP 429: slow",
        retry_with_different_model=True,
    )
    assert APIResponse.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_explicit_dict_builders_cover_every_field() -> None:
    # to_dict builds its dicts by hand (for speed); a field added to a dataclass must be
    # added there too, or it would silently drop out of caches and logs.
    sp = SamplingParams(
        temperature=0.3,
        top_p=0.9,
        json_mode=True,
        max_new_tokens=77,
        global_effort="low",
        reasoning_effort="medium",
        thinking_budget=2048,
        logprobs=True,
        top_logprobs=4,
        strict_tools=False,
    )
    assert sampling_params_dict(sp) == dataclasses.asdict(sp) == sp.to_dict()
    usage = Usage(1, 2, 3, 4)
    assert usage.to_dict() == dataclasses.asdict(usage)
    r = make(sampling_params=sp, region="eu", local_cache_hit=True, give_up_if_no_other_models=True)
    d = r.to_dict()
    assert list(d) == [f.name for f in dataclasses.fields(APIResponse)]
    for f in dataclasses.fields(APIResponse):
        if f.name not in ("prompt", "content", "sampling_params", "usage"):
            assert d[f.name] == getattr(r, f.name), f.name
    assert APIResponse.from_dict(json.loads(json.dumps(d))) == r


def test_images_become_placeholders_unless_kept() -> None:
    r = make(prompt=cases.with_image())
    d = r.to_dict()
    assert "[image omitted]" in json.dumps(d) and "base64" not in json.dumps(d)
    assert APIResponse.from_dict(d).prompt.messages[0].completion.endswith("[image omitted]")
    kept = APIResponse.from_dict(json.loads(json.dumps(r.to_dict(keep_images=True))))
    assert kept.prompt.fingerprint == r.prompt.fingerprint


def test_pickles_for_ray() -> None:
    r = make()
    assert pickle.loads(pickle.dumps(r)) == r


def test_request_spec_never_shows_keys() -> None:
    spec = RequestSpec(
        "POST",
        "https://x/v1",
        {
            "x-api-key": Secret("sk-ant-secret").reveal(),
            "Authorization": "Bearer sk-live",
            "x-goog-api-key": "g-1",
        },
        {"model": "m"},
    )
    shown = repr(spec) + str(spec) + repr(spec.masked_headers())
    for secret in ("sk-ant-secret", "sk-live", "g-1"):
        assert secret not in shown
    assert spec.headers["Authorization"] == "Bearer sk-live"  # the real headers still work


def test_raw_response_of_an_object_pickled_by_an_earlier_version_is_kept():
    from deluge_ray.api_requests.response import attach_raw_body

    old = APIResponse.__new__(APIResponse)
    fresh = APIResponse(
        id=1,
        model_internal="gpt-4.1-mini",
        prompt={},
        sampling_params=SamplingParams(),
        status_code=200,
        is_error=False,
        error_message=None,
    )
    state = {k: v for k, v in fresh.__dict__.items() if k != "_raw_response"}
    old.__dict__.update(state, raw_response={"id": "chatcmpl-old"})  # the old layout
    assert pickle.loads(pickle.dumps(old)).raw_response == {"id": "chatcmpl-old"}
    attach_raw_body(fresh, b'{"id": "chatcmpl-new"}')
    copy = pickle.loads(pickle.dumps(fresh))
    assert copy.raw_response == {"id": "chatcmpl-new"} and copy == fresh


def test_error_factory_flags_give_up_only_for_401_403_404() -> None:
    def made(status, kind):
        return APIResponse.error(
            id=1,
            model="gpt-4.1-mini",
            prompt={},
            sampling_params=SamplingParams(),
            message="no",
            status_code=status,
            kind=kind,
        )

    for status in (401, 403, 404):
        r = made(status, ErrorKind.RETRY_OTHER_MODEL)
        assert r.give_up_if_no_other_models and r.retry_with_different_model
    for status, kind in ((400, ErrorKind.GIVE_UP), (429, ErrorKind.RETRY_OTHER_MODEL)):
        r = made(status, kind)
        assert not r.give_up_if_no_other_models
        assert r.retry_with_different_model == (kind is ErrorKind.RETRY_OTHER_MODEL)
    r = made(None, None)
    assert (r.is_error, r.error_message, r.model_internal, r.status_code) == (
        True,
        "no",
        "gpt-4.1-mini",
        None,
    )
