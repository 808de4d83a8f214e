"""Pipelines: pure parts, then extract / translate / score_llm through a real LLMClient
(Ray engine) against the mock provider."""

from __future__ import annotations

import math

import pytest
from pydantic import BaseModel

from deluge_ray.client import LLMClient
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import MockProvider, Reply, use_mock
from deluge_ray.pipelines import (
    detect_language,
    extract_async,
    extraction_prompt,
    parse_extraction,
    score_llm_async,
    translate_async,
    yes_probability,
)
from deluge_ray.prompt import File, Image


class Person(BaseModel):
    name: str
    age: int


# -- pure parts ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The weather is nice and we are going out.", "en"),
        ("Le chat est sur la table et il est content.", "fr"),
        ("Der Hund ist nicht hier und ich bin müde.", "de"),
        ("Il gatto è sul tavolo ma non è felice.", "it"),
        ("O gato está em casa e não quer sair.", "pt"),
        ("Привет, как дела?", "ru"),
        ("今日はいい天気ですね", "ja"),
        ("我们今天去公园", "zh"),
        ("안녕하세요", "ko"),
        ("", None),
    ],
)
def test_language_detection_is_offline_and_good_enough(text, code):
    assert detect_language(text) == code


def test_extraction_parsing_recovers_json_and_reports_bad_answers():
    assert parse_extraction('```json\n{"name": "Ada", "age": 36}\n```', Person) == Person(
        name="Ada", age=36
    )
    assert parse_extraction('Here: {"name": "Ada", "age": 36} done', Person).age == 36
    bad = parse_extraction("I cannot help with that.", Person)
    assert "not JSON" in bad["error"] and bad["raw"] == "I cannot help with that."
    wrong = parse_extraction('{"name": "Ada", "age": "old"}', Person)
    assert "does not match Person" in wrong["error"]
    schema = {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}
    assert parse_extraction('{"x": "1"}', schema) == {"x": "1"}
    assert "lacks required fields ['x']" in parse_extraction("{}", schema)["error"]


def test_extraction_prompts_carry_text_images_and_files():
    text = extraction_prompt("Ada is 36.", Person, object_name="person")
    assert "Ada is 36." in text.messages[0].completion and '"age"' in text.messages[0].completion
    png = Image(b"\x89PNG\r\n\x1a\n" + b"\0" * 16, media_type="image/png")
    assert extraction_prompt(png, Person).messages[0].images
    pdf = extraction_prompt(File(b"%PDF-1.4 x"), Person)
    assert any(isinstance(p, File) for p in pdf.messages[0].parts)
    with pytest.raises(ConfigurationError, match="str, Image, File or Conversation"):
        extraction_prompt(42, Person)


def test_yes_probability_from_logprobs():
    top = [
        {"token": "Yes", "logprob": math.log(0.6)},
        {"token": " yes", "logprob": math.log(0.1)},
        {"token": "No", "logprob": math.log(0.3)},
    ]
    assert yes_probability(
        [{"token": "Yes", "logprob": math.log(0.6), "top_logprobs": top}]
    ) == pytest.approx(0.7)
    assert yes_probability([{"token": "No", "logprob": math.log(0.9)}]) == pytest.approx(0.1)
    assert yes_probability(None) is None


# -- through the engine ---------------------------------------------------------------
@pytest.fixture(scope="module")
def mock_server():
    with MockProvider() as server:
        yield server


@pytest.fixture
def client(ray_cluster, mock_server):
    mock_server.clear_scripts()
    mock_server.reset_stats()
    with use_mock(mock_server):
        c = LLMClient("gpt-4.1-mini", progress="manual", max_attempts=1)
        yield c
        c.shutdown()


async def test_extract_returns_objects_and_error_entries_in_order(client, mock_server):
    def reply(view):
        text = view.messages[-1].text
        if "Grace" in text:
            return "not json at all"
        name = "Ada" if "Ada" in text else "Alan"
        return f'{{"name": "{name}", "age": 36}}'

    mock_server.script("*", reply)
    results = await extract_async(
        ["Ada is 36.", "Grace is 85.", "Alan is 41."], Person, client, show_progress=False
    )
    assert results[0] == Person(name="Ada", age=36)
    assert "not JSON" in results[1]["error"]
    assert results[2].name == "Alan"


async def test_translate_leaves_english_alone_and_does_not_mutate(client, mock_server):
    mock_server.script("*", [Reply.text("The cat is on the table.")])
    texts = ["Good morning, how are you?", "Le chat est sur la table et il est content."]
    out = await translate_async(texts, client)
    assert out == ["Good morning, how are you?", "The cat is on the table."]
    assert texts[1].startswith("Le chat")  # the caller's list is unchanged
    assert mock_server.stats()["requests"] == 1  # only the French text was sent


async def test_score_llm_yes_no(client, mock_server):
    answers = {"7": "Yes.", "8": "no", "9": "maybe"}
    # Keyed on the prompt, not on arrival order: the engine sends requests concurrently.
    mock_server.script("*", lambda view: answers[view.messages[-1].text.split()[1]])
    scores = await score_llm_async("Is {} a prime number?", [7, 8, 9], client)
    assert scores == [True, False, None]


async def test_score_llm_probabilities_need_logprobs(client):
    with pytest.raises(ConfigurationError, match="logprobs=True"):
        await score_llm_async("Is {} prime?", [7], client, return_probabilities=True)
