"""The pure parts of process_dataset: reading a row's prompt, the output columns, pool sizing."""

from __future__ import annotations

import pyarrow as pa
import pytest

from deluge_ray.api_requests import APIResponse
from deluge_ray.api_requests.response import Usage
from deluge_ray.config import SamplingParams
from deluge_ray.data import OUTPUT_COLUMNS
from deluge_ray.data._columns import ColumnValues, added_columns, arrow_types
from deluge_ray.data._plan import check_dataset_columns
from deluge_ray.data._rows import RowReader
from deluge_ray.data._sizing import MAX_ACTORS, actor_pool_bounds
from deluge_ray.errors import ConfigurationError
from deluge_ray.prompt import Conversation, Message


def test_a_string_prompt_is_one_user_message():
    conversation = RowReader().read({"prompt": "What is 2 + 2?"})
    assert [(m.role, m.completion) for m in conversation.messages] == [("user", "What is 2 + 2?")]


def test_openai_and_anthropic_message_lists_are_read_with_arrow_nulls_dropped():
    reader = RowReader(prompt_column="chat")
    openai = [
        {"role": "system", "content": "Be terse.", "name": None},
        {"role": "user", "content": "Hi", "name": None},
    ]
    anthropic = [
        {"role": "user", "content": [{"type": "text", "text": "Hello", "source": None}]},
    ]
    got_openai = reader.read({"chat": openai})
    got_anthropic = reader.read({"chat": anthropic})
    assert [m.role for m in got_openai.messages] == ["system", "user"]
    assert got_anthropic.messages[0].completion == "Hello"


def test_messages_column_takes_precedence_and_system_column_is_prepended():
    reader = RowReader(prompt_column="p", messages_column="m", system_column="s")
    got = reader.read({"p": "ignored", "m": [{"role": "user", "content": "Q"}], "s": "Be brief."})
    assert [(m.role, m.completion) for m in got.messages] == [
        ("system", "Be brief."),
        ("user", "Q"),
    ]
    # A null or blank system value means no system message for that row.
    assert [
        m.role for m in reader.read({"m": [{"role": "user", "content": "Q"}], "s": None}).messages
    ] == ["user"]
    assert reader.required_columns == ("m", "s")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "column 'prompt' is null"),
        ("", "column 'prompt' is empty"),
        ("  \n", "column 'prompt' is empty"),
        (42, "column 'prompt' holds a int; expected a string"),
        ([], "column 'prompt' holds an empty message list"),
        (["hi"], "not of message dicts"),
        ([{"role": "wizard", "content": "x"}], "column 'prompt' holds an invalid message list"),
    ],
)
def test_a_bad_prompt_is_a_message_naming_the_problem(value, expected):
    got = RowReader().read({"prompt": value})
    assert isinstance(got, str)
    assert expected in got


def test_a_non_string_system_value_is_a_row_error():
    got = RowReader(system_column="sys").read({"prompt": "hi", "sys": 3})
    assert got == "column 'sys' holds a int; expected a string (the system message)"


def _response(**overrides):
    fields = dict(
        id=0,
        model_internal="gpt-4.1-mini",
        prompt=Conversation().user("q"),
        sampling_params=SamplingParams(),
        status_code=200,
        is_error=False,
        error_message=None,
        usage=Usage(input_tokens=11, output_tokens=7, cache_read_tokens=3),
        content=Message.ai("an answer"),
        finish_reason="stop",
        cost=0.0025,
        raw_response={"id": "chatcmpl-1", "choices": []},
    )
    fields.update(overrides)
    return APIResponse(**fields)


def test_column_values_follow_the_contract_with_fixed_arrow_types():
    columns = added_columns(include_raw_response=True, completions_only=False)
    assert columns == (*OUTPUT_COLUMNS, "raw_response")
    values = ColumnValues(columns, rows=3)
    values.set_response(0, _response())
    values.set_error(1, "column 'prompt' is null; give the row a prompt", model="gpt-4.1-mini")
    failed = APIResponse.error(
        id=2,
        model="gpt-4.1-mini",
        prompt={},
        sampling_params=SamplingParams(),
        message="HTTP 400: refused",
        status_code=400,
    )
    values.set_response(2, failed)
    table = pa.table(values.arrays())
    assert table.schema == pa.schema(list(arrow_types(columns).items()))
    rows = table.to_pylist()
    assert rows[0] == {
        "completion": "an answer",
        "is_error": False,
        "error_message": None,
        "status_code": 200,
        "model": "gpt-4.1-mini",
        "input_tokens": 11,
        "output_tokens": 7,
        "cache_read_tokens": 3,
        "cost": 0.0025,
        "cache_hit": False,
        "finish_reason": "stop",
        "raw_response": '{"id":"chatcmpl-1","choices":[]}',
    }
    assert rows[1]["is_error"] and rows[1]["error_message"].startswith("column 'prompt' is null")
    assert rows[1]["status_code"] is None and rows[1]["input_tokens"] == 0
    assert rows[2]["is_error"] and rows[2]["status_code"] == 400
    assert rows[2]["error_message"] == "HTTP 400: refused" and rows[2]["completion"] is None


def test_an_all_error_batch_keeps_the_same_schema():
    columns = added_columns(include_raw_response=False, completions_only=False)
    values = ColumnValues(columns, rows=2)
    values.set_error(0, "bad", model="m")
    values.set_error(1, "bad", model="m")
    assert pa.table(values.arrays()).schema == pa.schema(list(arrow_types(columns).items()))


def test_completions_only_adds_just_the_completion():
    assert added_columns(include_raw_response=False, completions_only=True) == ("completion",)


def test_dataset_column_check_names_the_columns_that_exist():
    with pytest.raises(
        ConfigurationError, match=r"prompt_column='prompt' .* columns are \['id', 'question'\]"
    ):
        check_dataset_columns(["id", "question"], RowReader(), OUTPUT_COLUMNS)
    with pytest.raises(ConfigurationError, match="system_column='sys'"):
        check_dataset_columns(["prompt"], RowReader(system_column="sys"), OUTPUT_COLUMNS)
    with pytest.raises(ConfigurationError, match=r"already has column\(s\) \['cost'\]"):
        check_dataset_columns(["prompt", "cost"], RowReader(), OUTPUT_COLUMNS)


def test_pool_grows_with_rate_times_latency_and_is_capped():
    small = actor_pool_bounds(rpm=3_000, max_concurrent=10_000, latency_s=0.2, batch_size=64)
    slow = actor_pool_bounds(rpm=60_000, max_concurrent=10_000, latency_s=10.0, batch_size=64)
    huge = actor_pool_bounds(rpm=10_000_000, max_concurrent=10**9, latency_s=30.0, batch_size=8)
    assert small == (1, 1)
    # 1,000 req/s for 10 s with 1.5x headroom = 15,000 rows; capped by max_concurrent.
    assert slow == (1, 40)  # 10,000 / (64 * 4) rounded up
    assert huge == (1, MAX_ACTORS)
