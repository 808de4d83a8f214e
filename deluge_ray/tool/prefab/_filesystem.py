"""FilesystemManager: a sandboxed workspace the model reads, searches, writes and patches.

The commands (``read_file``, ``write_file``, ``delete_path``, ``list_dir``, ``grep``,
``apply_patch``) are plain methods that return dicts and raise on bad input; the tools from
:meth:`FilesystemManager.get_tools` wrap them so the model always gets a JSON string,
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": ..., "message": ...}``, never an
exception.

``apply_patch`` is all-or-nothing: every file's new content is computed first, and only when
all hunks of all files apply is anything written; if a write fails half-way, the files
already written are restored.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ...errors import ConfigurationError, ToolError
from ._common import fail, make_tool, ok
from ._patch import FilePatch, PatchError, apply_hunks, parse_hunks, parse_unified_diff
from ._regex import compile_pattern
from ._workspace import (
    ROOT,
    DirectoryWorkspace,
    InMemoryWorkspace,
    WorkspaceBackend,
    normalize_path,
)

__all__ = ["FilesystemManager"]

COMMANDS = ("read_file", "write_file", "delete_path", "list_dir", "grep", "apply_patch")
WRITE_MODES = ("overwrite", "append", "create_if_missing")

_DESCRIPTION = (
    "Work with files in a sandboxed workspace. Paths are relative to the workspace root "
    "('.' is the root); '..' and absolute paths are refused. Commands: read_file (path, "
    "optional start_line/end_line, 1-based inclusive), write_file "
    "(path, content, mode overwrite|append|create_if_missing), delete_path (path), list_dir "
    "(path, recursive), grep (regex pattern in RE2 syntax: no backreferences or lookaround, optional path, max_results), apply_patch "
    "(patch: a unified diff for one or more files; use '--- /dev/null' to create and "
    "'+++ /dev/null' to delete; if any hunk does not apply, nothing is changed)."
)

_PARAMS: dict[str, dict[str, Any]] = {
    "path": {"type": "string", "description": "Path relative to the workspace root."},
    "start_line": {"type": "integer", "description": "First line to read (1-based)."},
    "end_line": {"type": "integer", "description": "Last line to read (inclusive)."},
    "content": {"type": "string", "description": "Text to write."},
    "mode": {"type": "string", "enum": list(WRITE_MODES), "description": "How to write."},
    "recursive": {"type": "boolean", "description": "List sub-directories too."},
    "pattern": {"type": "string", "description": "Regular expression (RE2 syntax) to search for."},
    "max_results": {"type": "integer", "description": "Maximum matches to return (50)."},
    "patch": {"type": "string", "description": "Unified diff, one or more files."},
    "operation": {
        "type": "object",
        "description": "Alternative to patch: {type: create_file|update_file|delete_file, "
        "path, diff}, the OpenAI apply_patch shape.",
        "properties": {
            "type": {"type": "string", "enum": ["create_file", "update_file", "delete_file"]},
            "path": {"type": "string"},
            "diff": {"type": "string"},
        },
        "required": ["type", "path"],
    },
}

_COMMAND_ARGS: dict[str, tuple[list[str], list[str]]] = {
    # command: (parameters, required)
    "read_file": (["path", "start_line", "end_line"], ["path"]),
    "write_file": (["path", "content", "mode"], ["path", "content"]),
    "delete_path": (["path"], ["path"]),
    "list_dir": (["path", "recursive"], []),
    "grep": (["pattern", "path", "max_results"], ["pattern"]),
    "apply_patch": (["patch", "operation"], []),
}


def _int_arg(name: str, value: Any, *, minimum: int = 1) -> int | None:
    """Accept ints (and digit strings, which models sometimes send); refuse the rest."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ToolError(f"{name} must be at least {minimum}, got {value}.")
    return value


class FilesystemManager:
    """Expose a workspace to the model through file tools.

    Pass a ``backend`` (any :class:`WorkspaceBackend`), or ``root`` for a
    :class:`DirectoryWorkspace` over a real directory; with neither, an empty
    :class:`InMemoryWorkspace` is used. ``max_read_lines`` bounds one read (the result
    says where to go on); ``number_lines`` prefixes read lines with their numbers.

    >>> fs = FilesystemManager()
    >>> fs.write_file("a.txt", "one\\ntwo\\n")["path"]
    'a.txt'
    >>> fs.read_file("a.txt", start_line=2)["content"]
    'two'
    >>> FilesystemManager(fs.backend, number_lines=True).read_file("a.txt")["content"]
    '     1\\tone\\n     2\\ttwo'
    >>> [t.name for t in fs.get_tools()]  # doctest: +SKIP
    ['filesystem']
    """

    def __init__(
        self,
        backend: WorkspaceBackend | None = None,
        *,
        root: str | os.PathLike[str] | None = None,
        tool_name: str = "filesystem",
        max_read_lines: int = 2000,
        number_lines: bool = False,
    ) -> None:
        if backend is not None and root is not None:
            raise ConfigurationError(
                "Pass either backend= or root= to FilesystemManager, not both."
            )
        if max_read_lines < 1:
            raise ConfigurationError("max_read_lines must be at least 1.")
        if root is not None:
            backend = DirectoryWorkspace(root)
        self.backend: WorkspaceBackend = backend if backend is not None else InMemoryWorkspace()
        self.tool_name = tool_name
        self.max_read_lines = max_read_lines
        self.number_lines = number_lines

    # -- commands (plain methods: return dicts, raise on bad input) --------------------

    def read_file(
        self, path: str, start_line: int | None = None, end_line: int | None = None
    ) -> dict[str, Any]:
        """Read ``path``, optionally only ``start_line..end_line``.

        ``content`` is the text itself, as lm-deluge returns it (the whole file verbatim
        when the whole file is read); with ``number_lines=True`` each line is prefixed by
        its number and a tab.
        """
        rel = normalize_path(path)
        start = _int_arg("start_line", start_line) or 1
        end = _int_arg("end_line", end_line)
        text = self.backend.read_file(rel)
        lines = text.splitlines()
        total = len(lines)
        if total and start > total:
            raise ToolError(f"start_line {start} is past the end of '{rel}' ({total} lines).")
        if end is not None and end < start:
            raise ToolError(f"end_line ({end}) must not be smaller than start_line ({start}).")
        last = min(end if end is not None else total, total)
        truncated = end is None and last - start + 1 > self.max_read_lines
        if truncated:
            last = start + self.max_read_lines - 1
        if self.number_lines:
            shown = "\n".join(f"{n:>6}\t{lines[n - 1]}" for n in range(start, last + 1))
        elif start == 1 and last >= total:
            shown = text
        else:
            shown = "\n".join(lines[start - 1 : last])
        result: dict[str, Any] = {
            "path": rel,
            "start_line": start,
            "end_line": last,
            "total_lines": total,
            "content": shown,
            "character_count": len(text),  # of the whole file, as lm-deluge reports it
        }
        if truncated:
            result["note"] = (
                f"Output stopped after {self.max_read_lines} lines; pass start_line={last + 1} "
                "to read on."
            )
        return result

    def write_file(self, path: str, content: str, mode: str | None = "overwrite") -> dict[str, Any]:
        """Write ``content`` to ``path`` (``mode``: overwrite, append or create_if_missing)."""
        rel = normalize_path(path)
        if not isinstance(content, str):
            raise ToolError("content must be a string.")
        mode = mode or "overwrite"
        if mode == "overwrite":
            self.backend.write_file(rel, content, overwrite=True)
        elif mode == "append":
            self.backend.append_file(rel, content)
        elif mode == "create_if_missing":
            try:
                self.backend.write_file(rel, content, overwrite=False)
            except FileExistsError:
                return {
                    "path": rel,
                    "status": "ok",
                    "mode": mode,
                    "written": False,
                    "note": "already exists",
                }
        else:
            raise ToolError(f"Unknown write mode {mode!r}; use one of {', '.join(WRITE_MODES)}.")
        return {"path": rel, "status": "ok", "mode": mode, "written": True}

    def delete_path(self, path: str) -> dict[str, Any]:
        """Delete a file, or a directory and everything under it."""
        rel = normalize_path(path)
        self.backend.delete_path(rel)
        return {"path": rel, "status": "ok", "deleted": True}

    def list_dir(self, path: str | None = ".", recursive: bool | None = False) -> dict[str, Any]:
        """List a directory (the root by default), optionally recursively."""
        rel = normalize_path(path or ".", allow_root=True)
        entries = self.backend.list_dir(rel, recursive=bool(recursive))
        for entry in entries:
            if entry.get("type") == "directory":
                entry.setdefault("size", None)  # lm-deluge lists directories with size null
        return {"path": rel, "recursive": bool(recursive), "entries": entries}

    def grep(
        self, pattern: str, path: str | None = None, max_results: int | None = 50
    ) -> dict[str, Any]:
        """Search file lines for a regular expression (RE2 syntax, linear-time matching)."""
        compile_pattern(pattern)  # refuse a bad pattern before touching the backend
        limit = _int_arg("max_results", max_results) or 50
        rel = None if path is None else normalize_path(path, allow_root=True)
        matches = self.backend.grep(pattern, rel, limit)
        return {
            "pattern": pattern,
            "path": rel or ".",
            "max_results": limit,
            "matches": matches,
            "truncated": len(matches) >= limit,
        }

    def apply_patch(
        self, patch: str | None = None, operation: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Apply a unified diff (or one OpenAI-style ``operation``) atomically.

        Either every file changes or none does; a failure says which hunk did not apply and
        what it expected.
        """
        if (patch is None) == (operation is None):
            raise PatchError("Pass exactly one of patch (a unified diff) or operation.")
        file_patches = (
            parse_unified_diff(patch) if patch is not None else self._operation(operation)
        )
        plan, summary = self._plan(file_patches)
        self._commit(plan)
        return {"files": summary, "message": f"Patch applied to {len(summary)} file(s)."}

    def dump(self, destination: str | os.PathLike[str], *, as_zip: bool = False) -> list[str]:
        """Copy every workspace file to ``destination`` (a directory, or a zip file).

        Returns the relative paths written, sorted. The destination is the caller's choice
        (not the model's), so it is not confined like workspace paths are.
        """
        files = [
            e["path"] for e in self.backend.list_dir(ROOT, recursive=True) if e["type"] == "file"
        ]
        target = Path(destination)
        if as_zip:
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
                for rel in files:
                    archive.writestr(rel, self.backend.read_file(rel))
            return sorted(files)
        if target.exists() and not target.is_dir():
            raise NotADirectoryError(f"{target} exists and is not a directory; pick another.")
        for rel in files:
            out = target.joinpath(*rel.split("/"))
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(self.backend.read_file(rel), encoding="utf-8")
        return sorted(files)

    # -- apply_patch internals ---------------------------------------------------------

    @staticmethod
    def _operation(operation: Any) -> list[FilePatch]:
        if not isinstance(operation, dict):
            raise PatchError("operation must be an object with type, path and diff.")
        kind, path, diff = operation.get("type"), operation.get("path"), operation.get("diff")
        if not isinstance(path, str):
            raise PatchError("operation.path must be a string.")
        if kind == "delete_file":
            return [FilePatch(old_path=path, new_path=None)]
        if kind not in ("create_file", "update_file"):
            raise PatchError(
                f"operation.type {kind!r} is not one of create_file, update_file, delete_file."
            )
        hunks = parse_hunks(diff, path=path)
        if kind == "create_file":
            return [FilePatch(old_path=None, new_path=path, hunks=hunks)]
        return [FilePatch(old_path=path, new_path=path, hunks=hunks)]

    def _plan(
        self, file_patches: Iterable[FilePatch]
    ) -> tuple[dict[str, str | None], list[dict[str, str]]]:
        """Compute every touched path's new content (``None`` = delete) without writing."""
        staged: dict[str, str | None] = {}

        def current(rel: str) -> str | None:
            if rel in staged:
                return staged[rel]
            try:
                return self.backend.read_file(rel)
            except FileNotFoundError:
                return None

        summary: list[dict[str, str]] = []
        for fp in file_patches:
            old = None if fp.old_path is None else normalize_path(fp.old_path)
            new = None if fp.new_path is None else normalize_path(fp.new_path)
            if old is None:
                assert new is not None  # the parser refuses /dev/null on both sides
                if current(new) is not None:
                    raise PatchError(
                        f"Cannot create '{new}': it already exists. Use '--- a/{new}' to modify it."
                    )
                staged[new] = apply_hunks("", fp.hunks, path=new)
                summary.append({"path": new, "operation": "create"})
                continue
            text = current(old)
            if text is None:
                raise PatchError(f"Cannot patch '{old}': the file does not exist.")
            if new is None:
                staged[old] = None
                summary.append({"path": old, "operation": "delete"})
                continue
            updated = apply_hunks(text, fp.hunks, path=old)
            if new != old:
                if current(new) is not None:
                    raise PatchError(f"Cannot rename '{old}' to '{new}': '{new}' already exists.")
                staged[old] = None
                summary.append({"path": new, "operation": "rename", "from": old})
            else:
                summary.append({"path": new, "operation": "update"})
            staged[new] = updated
        return staged, summary

    def _commit(self, plan: dict[str, str | None]) -> None:
        """Write the plan; if a write fails, restore what was written and re-raise."""
        originals: dict[str, str | None] = {}
        for rel in plan:
            try:
                originals[rel] = self.backend.read_file(rel)
            except FileNotFoundError:
                originals[rel] = None
        done: list[str] = []
        try:
            for rel, content in plan.items():
                if content is None:
                    self.backend.delete_path(rel)
                else:
                    self.backend.write_file(rel, content, overwrite=True)
                done.append(rel)
        except Exception as exc:
            for rel in reversed(done):
                self._restore(rel, originals[rel])
            raise PatchError(
                f"Writing '{rel}' failed ({exc}); the files already written were restored, "
                "so the patch changed nothing."
            ) from exc

    def _restore(self, rel: str, original: str | None) -> None:
        try:
            if original is None:
                self.backend.delete_path(rel)
            else:
                self.backend.write_file(rel, original, overwrite=True)
        except OSError:
            pass  # best effort: the original failure is what the model needs to see

    # -- tools --------------------------------------------------------------------------

    def run_command(self, command: str, **arguments: Any) -> str:
        """Run one command with model-supplied arguments; always returns a JSON string."""
        try:
            if command not in COMMANDS:
                raise ToolError(f"Unknown command {command!r}; use one of {', '.join(COMMANDS)}.")
            allowed, required = _COMMAND_ARGS[command]
            missing = [name for name in required if arguments.get(name) is None]
            if missing:
                raise ToolError(f"{command} needs {', '.join(missing)}.")
            kwargs = {k: v for k, v in arguments.items() if k in allowed and v is not None}
            method: Callable[..., dict[str, Any]] = getattr(self, command)
            return ok(method(**kwargs))
        except Exception as exc:  # the model gets every failure as a message, never a raise
            return fail(exc)

    def get_tools(self, *, exclude: Iterable[str] | None = None, separate: bool = False) -> list:
        """The tools for an agent loop.

        By default one tool named ``tool_name`` (``"filesystem"``) with a ``command``
        argument, as lm-deluge does; ``separate=True`` gives one tool per command instead
        (``read_file``, ``write_file``, ...). ``exclude`` drops commands (e.g. the writers).
        """
        excluded = set(exclude or ())
        unknown = excluded.difference(COMMANDS)
        if unknown:
            raise ConfigurationError(f"Unknown filesystem commands to exclude: {sorted(unknown)}.")
        commands = [c for c in COMMANDS if c not in excluded]
        if not commands:
            raise ConfigurationError("Cannot exclude every filesystem command.")
        if separate:
            return [self._command_tool(c) for c in commands]
        names = sorted({p for c in commands for p in _COMMAND_ARGS[c][0]})
        parameters = {
            "command": {"type": "string", "enum": commands, "description": "Operation to run."},
            **{n: _PARAMS[n] for n in names},
        }

        def filesystem(command: str, **arguments: Any) -> str:
            if command in excluded:
                return fail(ToolError(f"The {command!r} command is disabled here."))
            return self.run_command(command, **arguments)

        return [make_tool(self.tool_name, _DESCRIPTION, parameters, ["command"], filesystem)]

    def _command_tool(self, command: str):
        allowed, required = _COMMAND_ARGS[command]

        def run(**arguments: Any) -> str:
            return self.run_command(command, **arguments)

        description = f"Filesystem command {command}. {_DESCRIPTION}"
        return make_tool(command, description, {n: _PARAMS[n] for n in allowed}, required, run)
