"""The arguments of one filesystem tool call as a pydantic model (0.0.168's ``FilesystemParams``).

:class:`~deluge_ray.tool.prefab.FilesystemManager` validates its arguments itself; this
model is for scripts that build or check filesystem calls the way 0.0.168 lets them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["FilesystemCommand", "FilesystemParams"]

FilesystemCommand = Literal[
    "read_file", "write_file", "delete_path", "list_dir", "grep", "apply_patch"
]


class FilesystemParams(BaseModel):
    """One filesystem command and its arguments; unset fields take the tools' defaults."""

    command: FilesystemCommand = Field(description="Which filesystem operation to run.")
    path: str | None = Field(default=None, description="Workspace-relative path ('.' = root).")
    start_line: int | None = Field(default=None, ge=1, description="First line to read (1-based).")
    end_line: int | None = Field(default=None, ge=1, description="Last line to read (inclusive).")
    content: str | None = Field(default=None, description="Text to write (write_file).")
    mode: Literal["overwrite", "append", "create_if_missing"] | None = Field(
        default="overwrite", description="How write_file treats an existing file."
    )
    recursive: bool | None = Field(default=None, description="list_dir: descend into folders.")
    pattern: str | None = Field(default=None, description="grep: the regular expression.")
    max_results: int | None = Field(default=50, ge=1, description="grep: most matches returned.")
    operation: dict[str, Any] | None = Field(
        default=None, description="apply_patch: the operation (type, path, diff)."
    )
