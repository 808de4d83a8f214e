"""Every prefab tool pickles (tools travel to SubAgent actors) and keeps working after."""

from __future__ import annotations

import json

import cloudpickle

from deluge_ray.tool import Tool
from deluge_ray.tool.prefab import (
    BatchTool,
    FilesystemManager,
    MemoryManager,
    TodoManager,
    ToolComposer,
    ToolSearchTool,
)

from .helpers import add


def test_all_prefab_tools_round_trip_through_cloudpickle() -> None:
    adder = Tool.from_function(add)
    tools = [
        *FilesystemManager().get_tools(),
        *TodoManager().get_tools(),
        *MemoryManager().get_tools(),
        *BatchTool([adder]).get_tools(),
        *ToolSearchTool([adder]).get_tools(),
        *ToolComposer([adder]).get_tools(),
    ]
    copies = {t.name: cloudpickle.loads(cloudpickle.dumps(t)) for t in tools}
    assert set(copies) == {t.name for t in tools}
    memwrite = copies["memwrite"]
    assert json.loads(memwrite.call(description="d", content="c"))["result"] == {"id": 1}
    todo = json.loads(copies["todowrite"].call(todos=[{"id": "1", "content": "x"}]))
    assert todo["todos"][0]["status"] == "pending"
