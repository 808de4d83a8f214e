"""Tools in swarms (issue 19 item 5): one set per loop from a factory, and tool failures
that come back to the model as text instead of losing loops."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading

import pytest

from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import Reply, RequestView, use_mock
from deluge_ray.prompt import Text
from deluge_ray.tool import Tool
from deluge_ray.tool.prefab import FilesystemManager
from tests.support.clients import client_builder


@pytest.fixture(scope="module")
def client(ray_cluster, mock_server):
    """One client for the module: its SubAgent actor starts once."""
    with use_mock(mock_server):
        builder = client_builder()
        yield next(builder)()
        next(builder, None)  # shuts it down


def _loop_number(view: RequestView) -> int:
    return int(re.search(r"loop (\d+)", view.messages[0].text).group(1))


def write_then_list(view: RequestView) -> Reply | str:
    """Round 1 writes loopN.txt, round 2 lists the workspace, round 3 answers the list."""
    n, results = _loop_number(view), view.tool_results
    if not results:
        return Reply.tool_call(
            "filesystem", {"command": "write_file", "path": f"loop{n}.txt", "content": str(n)}
        )
    if len(results) == 1:
        return Reply.tool_call("filesystem", {"command": "list_dir", "path": "."})
    return results[1]["content"]


def workspace_tools() -> list[Tool]:
    """A fresh in-memory workspace and its tool."""
    return FilesystemManager().get_tools()


def _files_seen(completion: str) -> set[str]:
    return set(re.findall(r"loop\d+\.txt", completion))


async def test_a_tool_factory_gives_each_loop_its_own_workspace(mock, client):
    mock.script("*", write_then_list)
    prompts = [f"loop {i}" for i in range(6)]
    own = await client.process_agent_loops_async(
        prompts,
        tools=workspace_tools,
        max_rounds=3,
        max_concurrent_agents=6,
        num_actors=1,
        show_progress=False,
    )
    for i, (_, response) in enumerate(own):
        assert _files_seen(response.completion) == {f"loop{i}.txt"}, response.completion
    # The same tools as a list: one workspace per actor, which every loop writes into.
    shared = await client.process_agent_loops_async(
        prompts,
        tools=workspace_tools(),
        max_rounds=3,
        max_concurrent_agents=6,
        num_actors=1,
        show_progress=False,
    )
    assert any(len(_files_seen(r.completion)) > 1 for _, r in shared)


async def test_a_factory_that_does_not_return_a_list_is_a_clear_error(mock, client):
    with pytest.raises(ConfigurationError, match="must return a list of tools"):
        await client.process_agent_loops_async(["loop 0"], tools=lambda: None)
    assert mock.stats()["requests"] == 0


# ---- tools that fail in every way a SubAgent could lose a loop to ------------------------
def boom() -> str:
    """Raise."""
    raise ValueError("boom in the tool")


async def hang() -> str:
    """Never answer."""
    await asyncio.Event().wait()
    return "unreachable"


def lock() -> str:
    """Return something that cannot be pickled."""
    return threading.Lock()  # type: ignore[return-value]


def leave() -> str:
    """Exit, as some libraries do."""
    sys.exit(3)


def local_parts() -> list:
    """Return content parts of a class pickle cannot find by name."""

    class LocalText(Text):
        pass

    return [LocalText("hi")]


FAILING = [boom, hang, lock, leave, local_parts]


def call_all_then_echo(view: RequestView) -> Reply | str:
    if not view.tool_results:
        return Reply.tool_calls([(f.__name__, {}) for f in FAILING])
    return json.dumps([r["content"] for r in view.tool_results])


async def test_tool_failures_reach_the_model_as_errors_and_every_loop_finishes(mock, client):
    mock.script("*", call_all_then_echo)
    results = await client.process_agent_loops_async(
        [f"loop {i}" for i in range(3)],
        tools=[Tool.from_function(f) for f in FAILING],
        max_rounds=2,
        tool_timeout=0.2,
        num_actors=1,
        show_progress=False,
    )
    for _, response in results:
        assert response.loop_stop_reason == "no_tool_calls", response.error_message
        seen = json.loads(response.completion)  # what the model read, in call order
        assert seen[0] == "Error: ValueError: boom in the tool"
        assert "did not answer within tool_timeout=0.2 s" in seen[1]
        assert "'lock' returned a lock, which cannot be sent back" in seen[2]
        assert seen[3] == "Error: SystemExit: 3"
        assert "'local_parts' returned a list, which cannot be sent back" in seen[4]
