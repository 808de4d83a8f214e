"""Each prefab manager driven through a real agent loop: real engine, real Ray, real mock.

The mock model is scripted with one rule per test. The rule looks at the request it gets
(the number of assistant turns so far, and the tool results it was sent) and decides the
next move, so a later step can depend on what an earlier tool answered, exactly as a model
would. The final text quotes what the model saw, which proves the tool results reached it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from deluge_ray.client import LLMClient
from deluge_ray.mock import Reply, RequestView
from deluge_ray.prompt import Conversation, ToolResult
from deluge_ray.tool import Tool
from deluge_ray.tool.prefab import (
    BatchTool,
    FilesystemManager,
    MemoryManager,
    TodoManager,
    ToolComposer,
    ToolSearchTool,
)
from tests.support.clients import mock_fixtures

MODEL = "gpt-4.1-mini"


# ---- fixtures (module-local: one mock provider for the module, clients shut down) --------
mock_server, mock, make_client = mock_fixtures(
    1, model=MODEL, client_needs_mock=True, max_attempts=2
)


@pytest.fixture
def client(make_client):
    return make_client()


# ---- helpers ------------------------------------------------------------------------------
Step = Reply | Callable[[RequestView], Reply | str]


def staged(
    *steps: Step, final: Callable[[RequestView], str]
) -> Callable[[RequestView], Reply | str]:
    """A script rule: the n-th model turn plays ``steps[n]``; after the last, ``final``."""

    def rule(view: RequestView) -> Reply | str:
        turn = sum(1 for m in view.messages if m.role == "assistant")
        if turn < len(steps):
            step = steps[turn]
            return step(view) if callable(step) else step
        return final(view)

    return rule


def seen(view: RequestView, index: int = -1) -> str:
    """The text of a tool result the model was sent (default: the latest)."""
    return view.tool_results[index]["content"]


def tool_results(conv: Conversation) -> list[ToolResult]:
    return [r for m in conv.messages for r in m.tool_results]


def tool_call_names(conv: Conversation) -> list[str]:
    return [c.name for m in conv.messages for c in m.tool_calls]


async def run(client: LLMClient, text: str, tools: list, max_rounds: int = 6):
    conv, resp = await client.run_agent_loop(
        Conversation().user(text), tools=tools, max_rounds=max_rounds
    )
    assert not resp.is_error, resp.error_message
    return conv, resp


# ---- FilesystemManager --------------------------------------------------------------------
async def test_filesystem_write_then_read_in_a_real_directory(mock, client, tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    fs = FilesystemManager(root=root)
    mock.script(
        "*",
        staged(
            Reply.tool_call(
                "filesystem",
                {"command": "write_file", "path": "notes/plan.md", "content": "alpha\nbeta\n"},
            ),
            Reply.tool_call(
                "filesystem", {"command": "read_file", "path": "notes/plan.md", "start_line": 2}
            ),
            final=lambda v: "Line 2 is: " + json.loads(seen(v))["result"]["content"],
        ),
    )
    conv, resp = await run(client, "Write the plan, then check line 2.", fs.get_tools())

    assert resp.completion == "Line 2 is: beta"
    assert resp.loop_stop_reason == "no_tool_calls" and resp.agent_rounds == 3
    # The workspace is a real directory: the file is on disk with exactly what was written.
    assert (root / "notes" / "plan.md").read_text() == "alpha\nbeta\n"
    written, read = (json.loads(r.result) for r in tool_results(conv))
    assert written == {
        "ok": True,
        "result": {"path": "notes/plan.md", "status": "ok", "mode": "overwrite", "written": True},
    }
    assert read["ok"] is True
    assert read["result"]["start_line"] == 2 and read["result"]["total_lines"] == 2
    assert read["result"]["content"] == "beta"


async def test_filesystem_path_escape_is_an_error_message_and_the_loop_goes_on(
    mock, client, tmp_path
):
    root = tmp_path / "ws"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("outside\n")
    fs = FilesystemManager(root=root)
    mock.script(
        "*",
        staged(
            Reply.tool_call("filesystem", {"command": "read_file", "path": "../secret.txt"}),
            Reply.tool_call(
                "filesystem",
                {"command": "write_file", "path": "../escaped.txt", "content": "pwned"},
            ),
            Reply.tool_call(
                "filesystem", {"command": "write_file", "path": "inside.txt", "content": "ok"}
            ),
            final=lambda v: f"errors seen: {sum('false' in r['content'] for r in v.tool_results)}",
        ),
    )
    conv, resp = await run(client, "Try to read outside the workspace.", fs.get_tools())

    # The loop did not stop at the errors: the model got them and made a third call.
    assert resp.agent_rounds == 4 and resp.completion == "errors seen: 2"
    read_escape, write_escape, good = (json.loads(r.result) for r in tool_results(conv))
    for answer in (read_escape, write_escape):
        assert answer["ok"] is False
        assert answer["error"] == "WorkspacePathError"
        assert "'..'" in answer["message"] and "workspace" in answer["message"]
    assert "outside" not in json.dumps(read_escape)  # no content leaked
    assert not (tmp_path / "escaped.txt").exists()
    assert good["ok"] is True and (root / "inside.txt").read_text() == "ok"
    assert sorted(p.name for p in root.iterdir()) == ["inside.txt"]


# ---- TodoManager --------------------------------------------------------------------------
async def test_todo_write_then_read(mock, client):
    todos = TodoManager()
    items = [
        {"id": "1", "content": "write tests", "priority": "high", "status": "in_progress"},
        {"id": "2", "content": "ship the release"},
    ]
    mock.script(
        "*",
        staged(
            Reply.tool_call("todowrite", {"todos": items}),
            Reply.tool_call("todoread", {}),
            final=lambda v: "Board: " + json.loads(seen(v))["title"],
        ),
    )
    conv, resp = await run(client, "Plan the work.", todos.get_tools())

    assert resp.completion == "Board: 2 todos"
    state = todos.get_todos()
    assert [(t.id, t.content, t.priority, t.status) for t in state] == [
        ("1", "write tests", "high", "in_progress"),
        ("2", "ship the release", "medium", "pending"),
    ]
    after_write, after_read = (json.loads(r.result) for r in tool_results(conv))
    assert after_write == after_read  # both show the list as stored
    assert [t["content"] for t in after_read["todos"]] == ["write tests", "ship the release"]


async def test_todo_unknown_id_is_a_clear_message_and_changes_nothing(mock, client):
    todos = TodoManager([{"id": "a", "content": "draft"}, {"id": "b", "content": "review"}])
    mock.script(
        "*",
        staged(
            Reply.tool_call(
                "todowrite",
                {
                    "todos": [
                        {"id": "a", "status": "completed"},
                        {"id": "zz", "status": "completed"},
                    ],
                    "merge": True,
                },
            ),
            Reply.tool_call(
                "todowrite", {"todos": [{"id": "b", "status": "completed"}], "merge": True}
            ),
            final=lambda v: "done",
        ),
    )
    conv, resp = await run(client, "Mark things done.", todos.get_tools())

    assert resp.completion == "done" and resp.agent_rounds == 3
    bad, good = (json.loads(r.result) for r in tool_results(conv))
    assert bad["ok"] is False
    assert "Unknown todo id 'zz'" in bad["message"] and "a, b" in bad["message"]
    # The rejected update was all-or-nothing ("a" stayed pending); the retry applied.
    assert [(t.id, t.status) for t in todos.get_todos()] == [("a", "pending"), ("b", "completed")]
    assert [t["status"] for t in good["todos"]] == ["pending", "completed"]


# ---- MemoryManager ------------------------------------------------------------------------
async def test_memory_write_then_search_persists_to_the_json_file(mock, client, tmp_path):
    path = tmp_path / "memory" / "notes.json"
    memory = MemoryManager(path=path)

    def read_found(view: RequestView) -> Reply:
        found = json.loads(seen(view))["result"]
        return Reply.tool_call("memread", {"mem_ids": [m["id"] for m in found]})

    mock.script(
        "*",
        staged(
            Reply.tool_call(
                "memwrite",
                {"description": "user prefers metric units", "content": "Answer in km and kg."},
            ),
            Reply.tool_call("memsearch", {"queries": ["metric"]}),
            read_found,
            final=lambda v: "Remembered: " + json.loads(seen(v))["result"][0]["content"],
        ),
    )
    conv, resp = await run(client, "Remember my preference, then recall it.", memory.get_tools())

    assert resp.completion == "Remembered: Answer in km and kg."
    wrote, searched, read = (json.loads(r.result) for r in tool_results(conv))
    assert wrote == {"ok": True, "result": {"id": 1}}
    assert searched == {
        "ok": True,
        "result": [{"id": 1, "description": "user prefers metric units"}],
    }
    assert read["result"] == [
        {"id": 1, "description": "user prefers metric units", "content": "Answer in km and kg."}
    ]
    on_disk = json.loads(path.read_text())
    assert on_disk == read["result"]
    # A fresh manager over the same file sees the note (persistence, not just a dump).
    assert [m.content for m in MemoryManager(path=path).get_memories()] == ["Answer in km and kg."]


async def test_memory_unknown_id_is_a_clear_message(mock, client):
    memory = MemoryManager([{"id": 3, "description": "d", "content": "c"}])
    mock.script(
        "*",
        staged(
            Reply.tool_call("memread", {"mem_ids": [7]}),
            Reply.tool_call("memread", {"mem_ids": [3]}),
            final=lambda v: "ok",
        ),
    )
    conv, resp = await run(client, "Read note 7.", memory.get_tools())
    missing, found = (json.loads(r.result) for r in tool_results(conv))
    assert missing["ok"] is False and "Memory id 7 not found" in missing["message"]
    assert "3" in missing["message"]  # the existing ids are listed
    assert found["result"][0]["content"] == "c" and resp.agent_rounds == 3


# ---- BatchTool ----------------------------------------------------------------------------
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def test_batch_runs_inner_calls_in_one_round_and_keeps_order(mock, client):
    batch = BatchTool([Tool.from_function(add), Tool.from_function(multiply)])
    calls = [
        {"tool": "multiply", "arguments": {"a": 6, "b": 7}},
        {"tool": "add", "arguments": {"a": 1, "b": 2}},
        {"tool": "subtract", "arguments": {"a": 1, "b": 2}},
    ]
    mock.script(
        "*",
        staged(
            Reply.tool_call("batch", {"calls": calls}),
            final=lambda v: (
                "results: "
                + ",".join(str(r.get("result", r["status"])) for r in json.loads(seen(v)))
            ),
        ),
    )
    conv, resp = await run(client, "Compute both.", batch.get_tools())

    assert resp.completion == "results: 42,3,error"
    assert resp.agent_rounds == 2 and mock.stats()["requests"] == 2
    assert tool_call_names(conv) == ["batch"]  # one round trip for three calls
    [result] = tool_results(conv)
    out = json.loads(result.result)
    assert [r["tool"] for r in out] == ["multiply", "add", "subtract"]
    assert [r["status"] for r in out] == ["ok", "ok", "error"]
    assert "Unknown tool 'subtract'" in out[2]["error"]


# ---- ToolSearchTool -----------------------------------------------------------------------
async def test_tool_search_then_call_through_the_helper(mock, client):
    calls: list[str] = []

    def forecast(city: str) -> str:
        """Weather forecast for a city."""
        calls.append(city)
        return f"sunny in {city}"

    filler = [
        Tool(
            name=f"lookup_{i}",
            description=f"Look up record {i}.",
            parameters={},
            run=lambda: "record",
        )
        for i in range(30)
    ]
    finder = ToolSearchTool([*filler, Tool.from_function(forecast)])

    def call_found(view: RequestView) -> Reply:
        [match] = json.loads(seen(view))
        return Reply.tool_call(
            "tool_search_tool_call", {"tool_id": match["id"], "arguments": {"city": "Oslo"}}
        )

    mock.script(
        "*",
        staged(
            Reply.tool_call("tool_search_tool_search", {"pattern": "weather|forecast"}),
            call_found,
            final=lambda v: json.loads(seen(v))["result"],
        ),
    )
    conv, resp = await run(client, "What's the weather in Oslo?", finder.get_tools())

    assert resp.completion == "sunny in Oslo"
    assert calls == ["Oslo"]
    # The model only ever saw the two helper schemas, not the 31 tools behind them.
    assert mock.stats()["requests"] == 3
    assert tool_call_names(conv) == ["tool_search_tool_search", "tool_search_tool_call"]
    searched, called = (json.loads(r.result) for r in tool_results(conv))
    assert [m["id"] for m in searched] == ["forecast"]
    assert searched[0]["required"] == ["city"]
    assert called == {"tool": "forecast", "tool_id": "forecast", "result": "sunny in Oslo"}


async def test_tool_search_offers_only_the_helpers_to_the_model(mock, client):
    offered: list[list[str]] = []

    def record(view: RequestView) -> str:
        offered.append(list(view.tools))
        return "no tools needed"

    mock.script("*", record)
    finder = ToolSearchTool([Tool.from_function(add), Tool.from_function(multiply)])
    _, resp = await run(client, "hi", finder.get_tools())
    assert resp.completion == "no tools needed"
    assert offered == [["tool_search_tool_search", "tool_search_tool_call"]]


# ---- ToolComposer -------------------------------------------------------------------------
async def test_composer_snippet_calls_two_tools_and_only_the_final_output_returns(mock, client):
    ran: list[tuple[str, int, int]] = []

    def add(a: int, b: int) -> int:
        """Add two integers."""
        ran.append(("add", a, b))
        return a + b

    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        ran.append(("multiply", a, b))
        return a * b

    composer = ToolComposer([Tool.from_function(add), Tool.from_function(multiply)])
    snippet = "s = add(a=2, b=3)\np = multiply(a=s, b=4)\nresult = {'sum': s, 'product': p}"
    mock.script(
        "*",
        staged(Reply.tool_call("compose", {"code": snippet}), final=lambda v: "got " + seen(v)),
    )
    conv, resp = await run(client, "Compute (2+3)*4.", composer.get_tools())

    assert sorted(ran) == [("add", 2, 3), ("multiply", 5, 4)]
    # One tool call, one result: the intermediate values never entered the conversation.
    assert tool_call_names(conv) == ["compose"]
    [result] = tool_results(conv)
    assert json.loads(result.result) == {"sum": 5, "product": 20}
    assert resp.completion == 'got {"sum": 5, "product": 20}'
    assert resp.agent_rounds == 2


async def test_composer_refuses_an_import_and_the_loop_goes_on(mock, client):
    composer = ToolComposer([Tool.from_function(add)])
    mock.script(
        "*",
        staged(
            Reply.tool_call("compose", {"code": "import os\nresult = os.listdir('/')"}),
            Reply.tool_call("compose", {"code": "result = add(a=1, b=1)"}),
            final=lambda v: "final " + seen(v),
        ),
    )
    conv, resp = await run(client, "List files.", composer.get_tools())
    refused, fine = (r.result for r in tool_results(conv))
    assert refused.startswith("Security error:") and "import" in refused.lower()
    assert fine == "2" and resp.completion == "final 2"
