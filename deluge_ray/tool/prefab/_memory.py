"""MemoryManager: long-lived notes with integer ids, outside the chat transcript.

Tools: ``memsearch`` (keywords and/or a regex over descriptions and contents),
``memread``, ``memwrite``, ``memupdate``, ``memdelete``. Given a ``path``, the notes are
loaded from and saved to a JSON file after every change, atomically (a temp file in the
same directory, then ``os.replace``), so a crash never leaves half a file.

Example:
    >>> mem = MemoryManager()
    >>> mem.add("user prefers metric units", "Always answer in km and kg.")
    1
    >>> [m.id for m in mem.search(["metric"])]
    [1]
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ...errors import ConfigurationError, ToolError
from ._common import PicklesWithLock, fail, make_tool, ok

__all__ = ["MemoryItem", "MemoryManager"]


class MemoryItem(BaseModel):
    """One note: ``id``, a one-sentence ``description`` and the full ``content``."""

    id: int
    description: str = Field(description="Short (one sentence) preview of the memory")
    content: str = Field(description="Full content of the memory; Markdown is fine")


class MemoryManager(PicklesWithLock):
    """Keeps notes in memory, and in a JSON file when ``path`` is given.

    >>> [t.name for t in MemoryManager().get_tools()]
    ['memsearch', 'memread', 'memwrite', 'memupdate', 'memdelete']
    """

    def __init__(
        self,
        memories: Sequence[MemoryItem | dict[str, Any]] | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        search_tool_name: str = "memsearch",
        read_tool_name: str = "memread",
        write_tool_name: str = "memwrite",
        update_tool_name: str = "memupdate",
        delete_tool_name: str = "memdelete",
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.tool_names = {
            "search": search_tool_name,
            "read": read_tool_name,
            "write": write_tool_name,
            "update": update_tool_name,
            "delete": delete_tool_name,
        }
        self._lock = threading.Lock()  # tools may run on worker threads concurrently
        self._memories: dict[int, MemoryItem] = {}
        if self.path is not None and self.path.exists():
            self._memories = self._load(self.path)
        for item in memories or ():
            mem = item if isinstance(item, MemoryItem) else self._coerce(item, "memories")
            self._memories[mem.id] = mem
        if memories and self.path is not None:
            self._save()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> MemoryManager:
        """Load notes from ``path``; later changes are saved back to it."""
        if not Path(path).exists():
            raise ConfigurationError(f"Memory file {str(path)!r} does not exist.")
        return cls(path=path, **kwargs)

    @staticmethod
    def _coerce(item: Any, where: str) -> MemoryItem:
        try:
            return MemoryItem.model_validate(item)
        except ValidationError as exc:
            raise ConfigurationError(f"Invalid memory in {where}: {exc}") from None

    def _load(self, path: Path) -> dict[int, MemoryItem]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"Cannot read memory file {str(path)!r}: {exc}") from None
        if not isinstance(data, list):
            raise ConfigurationError(f"Memory file {str(path)!r} must hold a JSON list of notes.")
        items = [self._coerce(item, str(path)) for item in data]
        return {m.id: m for m in items}

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps([m.model_dump() for m in self._memories.values()], indent=2)
        fd, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def to_file(self, path: str | os.PathLike[str]) -> None:
        """Write the notes to ``path`` as a JSON list (atomic)."""
        with self._lock:
            saved, self.path = self.path, Path(path)
            try:
                self._save()
            finally:
                self.path = saved

    def _get(self, mem_id: Any) -> MemoryItem:
        key = _as_id(mem_id)
        if key not in self._memories:
            known = ", ".join(map(str, sorted(self._memories))) or "none yet"
            raise ToolError(f"Memory id {mem_id!r} not found; existing ids: {known}.")
        return self._memories[key]

    # -- plain methods -------------------------------------------------------------------

    def get_memories(self) -> list[MemoryItem]:
        """A copy of every note, by id."""
        with self._lock:
            return [self._memories[k].model_copy() for k in sorted(self._memories)]

    def search(
        self, queries: Sequence[str] | None = None, limit: int = 5, pattern: str | None = None
    ) -> list[MemoryItem]:
        """Notes ranked by how many query keywords (case-insensitive) they contain.

        ``pattern`` (a Python regex) filters notes instead of, or as well as, keywords.
        """
        if isinstance(queries, str):
            queries = [queries]
        keywords = [k for q in queries or () for k in str(q).lower().split()]
        if not keywords and not pattern:
            raise ToolError("memsearch needs queries (keywords) or a regex pattern.")
        regex = None
        if pattern:
            try:
                regex = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ToolError(f"Invalid regular expression {pattern!r}: {exc}.") from None
        with self._lock:
            scored = []
            for mem in self._memories.values():
                text = f"{mem.description}\n{mem.content}"
                if regex is not None and not regex.search(text):
                    continue
                score = sum(text.lower().count(k) > 0 for k in keywords)
                if keywords and score == 0:
                    continue
                scored.append((-score, mem.id, mem))
        return [mem.model_copy() for _, _, mem in sorted(scored)[: max(int(limit), 1)]]

    def read(self, mem_ids: Sequence[int]) -> list[MemoryItem]:
        """The notes with these ids; an unknown id raises :class:`ToolError`."""
        if not isinstance(mem_ids, (list, tuple)):
            mem_ids = [mem_ids]  # type: ignore[list-item]
        with self._lock:
            return [self._get(i).model_copy() for i in mem_ids]

    def add(self, description: str, content: str) -> int:
        """Store a new note and return its id."""
        with self._lock:
            new_id = max(self._memories, default=0) + 1
            self._memories[new_id] = MemoryItem(id=new_id, description=description, content=content)
            self._save()
            return new_id

    def update(
        self, mem_id: int, description: str | None = None, content: str | None = None
    ) -> None:
        """Change a note's description and/or content."""
        if description is None and content is None:
            raise ToolError("memupdate needs a new description, content, or both.")
        with self._lock:
            mem = self._get(mem_id)
            changed = mem.model_copy(
                update={
                    k: v
                    for k, v in (("description", description), ("content", content))
                    if v is not None
                }
            )
            self._memories[mem.id] = changed
            self._save()

    def delete(self, mem_id: int) -> None:
        """Remove a note."""
        with self._lock:
            mem = self._get(mem_id)
            del self._memories[mem.id]
            self._save()

    # -- tools ---------------------------------------------------------------------------

    def get_tools(self) -> list:
        """The five memory tools, bound to this manager (answers are JSON strings)."""

        def memsearch(
            queries: list[str] | None = None, limit: int = 5, pattern: str | None = None
        ) -> str:
            try:
                found = self.search(queries, limit=limit, pattern=pattern)
            except (ToolError, ValueError, TypeError) as exc:
                return fail(exc)
            return ok([{"id": m.id, "description": m.description} for m in found])

        def memread(mem_ids: list[int]) -> str:
            try:
                return ok([m.model_dump() for m in self.read(mem_ids)])
            except (ToolError, ValueError, TypeError) as exc:
                return fail(exc)

        def memwrite(description: str, content: str) -> str:
            try:
                return ok({"id": self.add(description, content)})
            except (ValidationError, OSError) as exc:
                return fail(exc)

        def memupdate(
            mem_id: int, description: str | None = None, content: str | None = None
        ) -> str:
            try:
                self.update(mem_id, description, content)
            except (ToolError, ValidationError, OSError) as exc:
                return fail(exc)
            return ok(f"Memory {mem_id} updated.")

        def memdelete(mem_id: int) -> str:
            try:
                self.delete(mem_id)
            except (ToolError, OSError) as exc:
                return fail(exc)
            return ok(f"Memory {mem_id} deleted.")

        queries = {"type": "array", "items": {"type": "string"}, "description": "Keyword queries"}
        ids = {"type": "array", "items": {"type": "integer"}, "description": "Memory ids"}
        one_id = {"type": "integer", "description": "Memory id"}
        text = {"type": "string"}
        specs = [
            (
                "search",
                "Search memories by keywords (and/or a regex `pattern`); returns ids and "
                "descriptions, best matches first. Read full notes with memread.",
                {"queries": queries, "limit": {"type": "integer"}, "pattern": text},
                [],
                memsearch,
            ),
            (
                "read",
                "Read the full content of memories by id.",
                {"mem_ids": ids},
                ["mem_ids"],
                memread,
            ),
            (
                "write",
                "Save a new memory (a one-sentence description and the full content); returns its id.",
                {"description": text, "content": text},
                ["description", "content"],
                memwrite,
            ),
            (
                "update",
                "Change the description and/or content of a memory by id.",
                {"mem_id": one_id, "description": text, "content": text},
                ["mem_id"],
                memupdate,
            ),
            ("delete", "Delete a memory by id.", {"mem_id": one_id}, ["mem_id"], memdelete),
        ]
        return [
            make_tool(self.tool_names[key], desc, params, req, run)
            for key, desc, params, req, run in specs
        ]


def _as_id(value: Any) -> int:
    """Memory ids are ints; models sometimes send them as strings."""
    if isinstance(value, bool):
        raise ToolError(f"Memory id must be an integer, got {value!r}.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ToolError(f"Memory id must be an integer, got {value!r}.")
