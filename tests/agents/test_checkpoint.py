"""A loop's checkpoints, actor side and driver side, without Ray or a provider."""

from __future__ import annotations

from deluge_ray.agents._checkpoint import LoopProgress, LoopReporter
from deluge_ray.agents._records import LoopJob
from deluge_ray.api_requests import APIResponse
from deluge_ray.api_requests.response import Usage
from deluge_ray.config import SamplingParams
from deluge_ray.prompt import Conversation, Message
from deluge_ray.transport._work import WorkResult


def _response(text: str, rounds: int) -> APIResponse:
    response = APIResponse(
        id=0,
        model_internal="m",
        prompt=Conversation(),
        sampling_params=SamplingParams(),
        status_code=200,
        is_error=False,
        error_message=None,
        content=Message.ai(text),
        usage=Usage(input_tokens=10, output_tokens=2),
        cost=0.5,
    )
    response.agent_rounds = rounds
    return response


def _grow(conversation: Conversation, *messages: Message) -> Conversation:
    return Conversation(list(conversation.messages) + list(messages))


def test_each_message_travels_once_and_the_driver_rebuilds_the_loop():
    start = Conversation().user("go")
    reporter = LoopReporter(LoopJob(3, start))
    progress = LoopProgress(3, Conversation(list(start.messages)))
    round1 = _grow(start, Message.ai("thinking"), Message.user("tool said 4"))
    first = reporter.checkpoint(1, round1)
    assert [m.role for m in first.new_messages] == ["assistant", "user"]  # not the prompt
    progress.apply(first)
    final_reply = _response("done", rounds=2)
    ended = _grow(round1, final_reply.content)
    last = reporter.finished(ended, final_reply)
    assert last.final and last.new_messages == [final_reply.content]
    assert last.response.prompt == {}  # the driver rebuilds it; it is not shipped twice
    progress.apply(last)
    assert progress.conversation.messages == ended.messages
    assert progress.rounds_done == 2
    # The final response's prompt is the conversation its model call saw: before the reply.
    assert last.response.prompt.messages == round1.messages


def test_usage_is_counted_once_per_model_call_between_events():
    start = Conversation().user("go")
    reporter = LoopReporter(LoopJob(0, start))
    progress = LoopProgress(0, start)
    for _ in range(2):
        reporter.count(WorkResult(key=0, response=_response("x", 1), requests_sent=2, retries=1))
    progress.apply(reporter.checkpoint(1, start))
    reporter.count(WorkResult(key=0, response=_response("x", 2), requests_sent=1))
    progress.apply(reporter.finished(start, _response("y", 2)))
    assert progress.spent.requests_sent == 5 and progress.spent.retries == 2
    assert progress.spent.usage.input_tokens == 30 and progress.spent.cost == 1.5


def test_a_restart_resumes_from_the_last_checkpoint_and_a_failure_keeps_its_rounds():
    start = Conversation().user("go")
    progress = LoopProgress(1, start)
    reporter = LoopReporter(progress.job())
    progress.apply(reporter.checkpoint(1, _grow(start, Message.ai("a"), Message.user("r"))))
    job = progress.job()
    assert job.rounds_done == 1 and len(job.conversation.messages) == 3
    failed = LoopReporter(job).failed(ValueError("bad tool state"))
    assert failed.final and failed.error == "ValueError: bad tool state"
    assert failed.rounds_done == 1 and failed.new_messages == []
