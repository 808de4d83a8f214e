"""Workspaces behind :class:`FilesystemManager`: the backend protocol and two backends.

A workspace is a tree of UTF-8 text files addressed by relative POSIX paths such as
``"src/app.py"``. Every path a model sends goes through :func:`normalize_path` first, so no
backend ever sees ``..``, an absolute path or a NUL byte; :class:`DirectoryWorkspace` also
resolves symbolic links and refuses any path whose real location is outside its root.

Backends signal problems with the builtin ``OSError`` family (``FileNotFoundError``,
``FileExistsError``, ``IsADirectoryError``, ``NotADirectoryError``) and with
:class:`WorkspacePathError`; the manager turns all of them into messages for the model.

Example:
    >>> ws = InMemoryWorkspace({"notes/a.txt": "hello\\n"})
    >>> ws.read_file("notes/a.txt")
    'hello\\n'
    >>> [e["path"] for e in ws.list_dir(".", recursive=True)]
    ['notes', 'notes/a.txt']
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ...errors import ConfigurationError, ToolError
from ._regex import compile_pattern

__all__ = [
    "DirectoryWorkspace",
    "InMemoryWorkspace",
    "WorkspaceBackend",
    "WorkspacePathError",
    "normalize_path",
]

ROOT = "."


class WorkspacePathError(ToolError):
    """A path names something outside the workspace, or is not a usable path at all."""


def normalize_path(path: str | None, *, allow_root: bool = False) -> str:
    """Turn a model-supplied path into a clean relative POSIX path, or refuse it.

    ``..`` is refused outright (even when it would stay inside) because a model that needs
    it is confused about where it is, and refusing keeps the rule simple to audit.

    >>> normalize_path("./src//app.py")
    'src/app.py'
    >>> normalize_path(".", allow_root=True)
    '.'
    """
    if path is None or not isinstance(path, str):
        raise WorkspacePathError("A path (a string relative to the workspace root) is required.")
    if "\x00" in path:
        raise WorkspacePathError(f"Path {path!r} contains a NUL byte; paths must be plain text.")
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        raise WorkspacePathError(
            f"Path {path!r} is absolute; use a path relative to the workspace root, e.g. 'src/app.py'."
        )
    # Backslashes are treated as separators so 'a\\..\\b' cannot smuggle a '..' through.
    parts = [p for p in re.split(r"[/\\]", path) if p not in ("", ".")]
    if ".." in parts:
        raise WorkspacePathError(
            f"Path {path!r} contains '..'; paths cannot leave the workspace root."
        )
    if not parts:
        if allow_root:
            return ROOT
        raise WorkspacePathError(f"Path {path!r} names the workspace root, not a file.")
    return "/".join(parts)


@runtime_checkable
class WorkspaceBackend(Protocol):
    """Storage for a :class:`FilesystemManager`; paths arrive already normalised.

    ``list_dir`` returns dicts with ``path``, ``type`` (``"file"`` or ``"directory"``) and,
    for files, ``size`` (characters); ``grep`` returns dicts with ``path``, ``line`` (1-based)
    and ``text``. Implement these six methods to put the tools on any store.
    """

    def read_file(self, path: str) -> str: ...

    def write_file(self, path: str, content: str, *, overwrite: bool) -> None: ...

    def append_file(self, path: str, content: str) -> None: ...

    def delete_path(self, path: str) -> None: ...

    def list_dir(self, path: str, recursive: bool) -> list[dict[str, Any]]: ...

    def grep(self, pattern: str, path: str | None, limit: int) -> list[dict[str, Any]]: ...


def _grep_texts(files: Iterable[tuple[str, str]], pattern: str, limit: int) -> list[dict[str, Any]]:
    """Shared grep over ``(path, text)`` pairs, stopping after ``limit`` matches."""
    regex = compile_pattern(pattern)
    matches: list[dict[str, Any]] = []
    for path, text in files:
        for number, line in enumerate(text.splitlines(), start=1):
            if regex.search(line):
                matches.append({"path": path, "line": number, "text": line})
                if len(matches) >= limit:
                    return matches
    return matches


def _is_under(path: str, directory: str) -> bool:
    return directory == ROOT or path == directory or path.startswith(directory + "/")


class InMemoryWorkspace:
    """A workspace held in a dict of ``path -> text``; directories are implied by paths.

    >>> ws = InMemoryWorkspace()
    >>> ws.write_file("a/b.txt", "x", overwrite=True)
    >>> ws.files
    {'a/b.txt': 'x'}
    """

    def __init__(self, files: dict[str, str] | None = None) -> None:
        self.files: dict[str, str] = {}
        for path, content in (files or {}).items():
            self.files[normalize_path(path)] = content

    def _is_dir(self, path: str) -> bool:
        return path == ROOT or any(p.startswith(path + "/") for p in self.files)

    def read_file(self, path: str) -> str:
        """Return the text of ``path``."""
        if path in self.files:
            return self.files[path]
        if self._is_dir(path):
            raise IsADirectoryError(f"'{path}' is a directory, not a file.")
        raise FileNotFoundError(f"File '{path}' does not exist.")

    def write_file(self, path: str, content: str, *, overwrite: bool) -> None:
        """Create or replace ``path``; parent directories are implied."""
        if self._is_dir(path):
            raise IsADirectoryError(f"'{path}' is a directory; cannot write a file there.")
        parts = path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in self.files:
                raise NotADirectoryError(f"'{parent}' is a file, so '{path}' cannot be created.")
        if not overwrite and path in self.files:
            raise FileExistsError(f"File '{path}' already exists.")
        self.files[path] = content

    def append_file(self, path: str, content: str) -> None:
        """Append to ``path``, creating it when missing."""
        existing = self.files.get(path, "")
        self.write_file(path, existing + content, overwrite=True)

    def delete_path(self, path: str) -> None:
        """Delete a file, or a directory with everything under it."""
        if path == ROOT:
            raise WorkspacePathError("Refusing to delete the workspace root.")
        if path in self.files:
            del self.files[path]
            return
        doomed = [p for p in self.files if p.startswith(path + "/")]
        if not doomed:
            raise FileNotFoundError(f"Path '{path}' does not exist.")
        for p in doomed:
            del self.files[p]

    def list_dir(self, path: str, recursive: bool) -> list[dict[str, Any]]:
        """List the entries under directory ``path`` (sorted by path)."""
        if path in self.files:
            raise NotADirectoryError(f"'{path}' is a file, not a directory.")
        if not self._is_dir(path):
            raise FileNotFoundError(f"Directory '{path}' does not exist.")
        prefix = "" if path == ROOT else path + "/"
        entries: dict[str, dict[str, Any]] = {}
        for file_path, content in self.files.items():
            if not file_path.startswith(prefix):
                continue
            rest = file_path[len(prefix) :].split("/")
            # Every directory between `path` and the file is an entry (only the first one
            # when not recursive).
            depth = len(rest) if recursive else 1
            for i in range(1, min(depth, len(rest) - 1) + 1):
                d = prefix + "/".join(rest[:i])
                entries[d] = {"path": d, "type": "directory"}
            if recursive or len(rest) == 1:
                entries[file_path] = {"path": file_path, "type": "file", "size": len(content)}
        return [entries[k] for k in sorted(entries)]

    def grep(self, pattern: str, path: str | None, limit: int) -> list[dict[str, Any]]:
        """Regex search over every file under ``path`` (the whole workspace when ``None``)."""
        where = path or ROOT
        if where != ROOT and where not in self.files and not self._is_dir(where):
            raise FileNotFoundError(f"Path '{where}' does not exist.")
        files = [(p, self.files[p]) for p in sorted(self.files) if _is_under(p, where)]
        return _grep_texts(files, pattern, limit)


class DirectoryWorkspace:
    """A workspace that is a real directory on disk, confined to ``root``.

    Every path is resolved (following symbolic links) and must stay inside ``root``; a link
    that points outside is refused with a clear message, never followed.

    >>> import tempfile
    >>> ws = DirectoryWorkspace(tempfile.mkdtemp())
    >>> ws.write_file("hello.txt", "hi\\n", overwrite=True)
    >>> ws.read_file("hello.txt")
    'hi\\n'
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        resolved = Path(root).expanduser().resolve()
        if not resolved.is_dir():
            raise ConfigurationError(
                f"DirectoryWorkspace root {str(root)!r} is not an existing directory; "
                "create it first (e.g. Path(root).mkdir(parents=True))."
            )
        self.root = resolved

    def _real(self, path: str) -> Path:
        """The on-disk location of ``path`` after resolving links, checked to be inside."""
        candidate = self.root if path == ROOT else self.root / path
        real = candidate.resolve()
        if real != self.root and self.root not in real.parents:
            raise WorkspacePathError(
                f"Path '{path}' resolves outside the workspace (through a symbolic link); refused."
            )
        return real

    def _rel(self, real: Path) -> str:
        return real.relative_to(self.root).as_posix() or ROOT

    def read_file(self, path: str) -> str:
        """Return the UTF-8 text of ``path``."""
        real = self._real(path)
        if real.is_dir():
            raise IsADirectoryError(f"'{path}' is a directory, not a file.")
        if not real.exists():
            raise FileNotFoundError(f"File '{path}' does not exist.")
        try:
            return real.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ToolError(
                f"File '{path}' is not UTF-8 text; it cannot be read as text."
            ) from None

    def write_file(self, path: str, content: str, *, overwrite: bool) -> None:
        """Create or replace ``path`` atomically (temp file + rename), making parents."""
        real = self._real(path)
        if real.is_dir():
            raise IsADirectoryError(f"'{path}' is a directory; cannot write a file there.")
        if not overwrite and real.exists():
            raise FileExistsError(f"File '{path}' already exists.")
        for parent in reversed(real.parents):
            if parent.exists() and not parent.is_dir():
                raise NotADirectoryError(
                    f"'{self._rel(parent)}' is a file, so '{path}' cannot be created."
                )
        real.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
            os.replace(tmp, real)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def append_file(self, path: str, content: str) -> None:
        """Append to ``path``, creating it when missing."""
        real = self._real(path)
        existing = real.read_text(encoding="utf-8") if real.is_file() else ""
        self.write_file(path, existing + content, overwrite=True)

    def delete_path(self, path: str) -> None:
        """Delete a file, or a directory with everything under it."""
        if path == ROOT:
            raise WorkspacePathError("Refusing to delete the workspace root.")
        real = self._real(path)
        if real.is_dir():
            # Walk bottom-up ourselves instead of shutil.rmtree so that each entry is
            # unlinked, never followed: a link inside pointing outside is removed, not emptied.
            for current, dirs, files in os.walk(real, topdown=False, followlinks=False):
                for name in files:
                    os.unlink(os.path.join(current, name))
                for name in dirs:
                    full = os.path.join(current, name)
                    if os.path.islink(full):
                        os.unlink(full)
                    else:
                        os.rmdir(full)
            os.rmdir(real)
        elif real.exists():
            real.unlink()
        else:
            raise FileNotFoundError(f"Path '{path}' does not exist.")

    def _walk(self, real: Path, recursive: bool) -> list[Path]:
        found: list[Path] = []
        for child in sorted(real.iterdir()):
            target = child.resolve()
            # Entries whose real location is outside the root are hidden, not followed.
            if target != self.root and self.root not in target.parents:
                continue
            found.append(child)
            if recursive and child.is_dir() and not child.is_symlink():
                found.extend(self._walk(child, recursive))
        return found

    def list_dir(self, path: str, recursive: bool) -> list[dict[str, Any]]:
        """List the entries under directory ``path`` (sorted by path)."""
        real = self._real(path)
        if real.is_file():
            raise NotADirectoryError(f"'{path}' is a file, not a directory.")
        if not real.exists():
            raise FileNotFoundError(f"Directory '{path}' does not exist.")
        entries = []
        for child in self._walk(real, recursive):
            rel = child.relative_to(self.root).as_posix()
            if child.is_dir():
                entries.append({"path": rel, "type": "directory"})
            else:
                entries.append({"path": rel, "type": "file", "size": child.stat().st_size})
        return sorted(entries, key=lambda e: e["path"])

    def grep(self, pattern: str, path: str | None, limit: int) -> list[dict[str, Any]]:
        """Regex search over the text files under ``path``; binary files are skipped."""
        where = path or ROOT
        real = self._real(where)
        if not real.exists():
            raise FileNotFoundError(f"Path '{where}' does not exist.")
        if real.is_file():
            candidates = [where]
        else:
            candidates = [
                e["path"] for e in self.list_dir(where, recursive=True) if e["type"] == "file"
            ]

        def texts() -> Iterator[tuple[str, str]]:
            # Lazy, so a search that hits its limit early reads no further files.
            for rel in candidates:
                try:
                    yield rel, self.read_file(rel)
                except ToolError:
                    continue  # not UTF-8: grep is for text

        return _grep_texts(texts(), pattern, limit)
