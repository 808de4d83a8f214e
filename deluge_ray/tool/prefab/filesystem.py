"""lm-deluge 0.0.168's import path for the filesystem tools (a re-export, no code of its own).

``InMemoryWorkspaceBackend`` is 0.0.168's name for :class:`InMemoryWorkspace`, and
``FilesystemParams`` its name for the schema of one filesystem tool call.
"""

from __future__ import annotations

from ._filesystem import FilesystemManager
from ._filesystem_params import FilesystemParams
from ._workspace import InMemoryWorkspace, WorkspaceBackend

InMemoryWorkspaceBackend = InMemoryWorkspace

__all__ = [
    "FilesystemManager",
    "FilesystemParams",
    "InMemoryWorkspaceBackend",
    "WorkspaceBackend",
]
