"""The durable swarm's journal without Ray: batched writes, latest state per loop, keys."""

from __future__ import annotations

import threading

from deluge_ray.agents._durable import Journal, LoopRecord, open_checkpoint, swarm_key
from deluge_ray.agents._options import LoopOptions
from deluge_ray.agents._records import LoopEvent
from deluge_ray.prompt import Conversation, Message


class GatedStore:
    """A store whose first write waits for ``gate``: events noted meanwhile pile up."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.batches: list[dict[str, bytes]] = []
        self.closed = False

    def key(self, swarm: str, index: int) -> str:
        return f"{swarm}:{index}"

    def read(self, keys):
        return [None] * len(keys)

    def write(self, items) -> None:
        self.started.set()
        self.gate.wait()
        self.batches.append(dict(items))

    def close(self) -> None:
        self.closed = True


def test_events_noted_while_a_write_runs_go_out_together_as_each_loop_s_latest_state():
    store = GatedStore()
    journal = Journal(store, "s", 10)
    prompt = [Message.user("hi")]
    journal.on_event(LoopEvent(0, 1, [Message.ai("r1")]), list(prompt))
    assert store.started.wait(10)  # the first write is under way, holding loop 0's round 1
    for rounds in range(1, 6):  # five more rounds of every loop while it waits
        for index in range(10):
            journal.on_event(LoopEvent(index, rounds, [Message.ai(f"r{rounds}")]), list(prompt))
    store.gate.set()
    journal.close()

    assert len(store.batches) == 2  # 51 events, two writes
    assert list(store.batches[0]) == ["s:0"]
    latest = {k: LoopRecord.decode(v) for k, v in store.batches[1].items()}
    assert sorted(latest) == [f"s:{i}" for i in range(10)]
    assert {r.rounds_done for r in latest.values()} == {5}
    assert store.closed


def test_failed_loops_keep_their_last_good_round(tmp_path):
    store = open_checkpoint(tmp_path / "j.sqlite")
    journal = Journal(store, "s", 1)
    before = [Message.user("hi")]
    journal.on_event(LoopEvent(0, 1, [Message.ai("r1")]), list(before))
    journal.on_event(LoopEvent(0, 1, [], error="RuntimeError: bug"), [*before, Message.ai("r1")])
    journal.close()

    again = Journal(open_checkpoint(tmp_path / "j.sqlite"), "s", 1)
    (record,) = again.load().values()
    again.close()
    assert (record.rounds_done, record.finished) == (1, False)
    assert [m.role for m in record.messages] == ["user", "assistant"]


def test_the_key_changes_with_what_the_call_sends():
    class Context:
        request_key = "gpt-4.1-mini/t0"

    prompts = [Conversation().user("a"), Conversation().user("b")]
    base = swarm_key(Context(), prompts, ["square"], 3, LoopOptions())
    assert base == swarm_key(Context(), list(prompts), ["square"], 3, LoopOptions())
    assert base != swarm_key(Context(), prompts[::-1], ["square"], 3, LoopOptions())
    assert base != swarm_key(Context(), prompts, ["cube"], 3, LoopOptions())
    assert base != swarm_key(Context(), prompts, ["square"], 3, LoopOptions(service_tier="flex"))
    assert base != swarm_key(
        Context(), prompts, ["square"], 3, LoopOptions(max_turns_warning="retain")
    )
