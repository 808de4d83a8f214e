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

import contextlib
import os
import re
import stat
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ...errors import ConfigurationError, ToolError
from ._dirfd import DIR_FLAGS, OutsideRootError, walk
from ._regex import compile_pattern

__all__ = [
    "DirectoryWorkspace",
    "InMemoryWorkspace",
    "WorkspaceBackend",
    "WorkspacePathError",
    "normalize_path",
]

ROOT = "."
MAX_PATH_DEPTH = 32  # directory levels; deeper paths are refused, deeper trees not listed


class WorkspacePathError(ToolError):
    """A path names something outside the workspace, or is not a usable path at all.

    A ``ValueError`` (through :class:`ToolError`), which is what lm-deluge raises for a path
    escape, so code that catches that keeps working.
    """


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
    if len(parts) > MAX_PATH_DEPTH:
        raise WorkspacePathError(
            f"Path {path[:80]!r}... has {len(parts)} levels; the limit is {MAX_PATH_DEPTH}. "
            "Use a shallower path."
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
                entries[file_path] = {
                    "path": file_path,
                    "type": "file",
                    "size": len(content),
                    "line_count": len(content.splitlines()),
                }
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

    Paths are walked one directory descriptor at a time with ``O_NOFOLLOW`` (see
    :mod:`._dirfd`), so a link swapped in mid-operation is never followed. Links that stay
    inside ``root`` work; a link that leads outside is refused with a clear message. Only
    regular files are read: FIFOs, devices and sockets are refused, and so are files with
    several hard links (another name of the file may be outside the workspace).

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

    @contextlib.contextmanager
    def _at(
        self,
        path: str,
        *,
        follow_final: bool = True,
        create_dirs: bool = False,
        missing_ok: bool = False,
    ):
        """``walk`` with its refusals worded for the model.

        ``missing_ok``: a parent that is a file means the path does not exist (as in the
        in-memory backend), not an error of its own.
        """
        parts = [] if path == ROOT else path.split("/")
        try:
            with walk(
                self.root, parts, follow_final=follow_final, create_dirs=create_dirs
            ) as found:
                yield found
        except NotADirectoryError:
            if missing_ok:
                raise FileNotFoundError(f"File '{path}' does not exist.") from None
            raise
        except OutsideRootError as exc:
            raise WorkspacePathError(
                f"Path '{path}' resolves outside the workspace ({exc}); refused."
            ) from None

    @staticmethod
    def _lstat(parent: int, name: str) -> os.stat_result | None:
        try:
            return os.stat(name or ".", dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return None

    @staticmethod
    def _check_regular(path: str, info: os.stat_result) -> None:
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(f"'{path}' is a directory, not a file.")
        if not stat.S_ISREG(info.st_mode):
            raise WorkspacePathError(
                f"'{path}' is a {_kind(info.st_mode)}, not a regular file; refused."
            )
        if info.st_nlink > 1:
            raise WorkspacePathError(
                f"'{path}' has {info.st_nlink} hard links (another name may be outside the "
                "workspace); refused. Copy the file instead of hard-linking it."
            )

    def read_file(self, path: str) -> str:
        """Return the UTF-8 text of ``path`` (a regular file with a single link)."""
        with self._at(path, missing_ok=True) as (parent, name, _):
            info = self._lstat(parent, name)
            if info is None:
                raise FileNotFoundError(f"File '{path}' does not exist.")
            self._check_regular(path, info)  # before opening: opening a device can act
            fd = os.open(
                name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=parent
            )
            with os.fdopen(fd, "rb") as handle:
                opened = os.fstat(handle.fileno())
                if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
                    raise WorkspacePathError(f"'{path}' changed while being opened; refused.")
                self._check_regular(path, opened)
                data = handle.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ToolError(
                f"File '{path}' is not UTF-8 text; it cannot be read as text."
            ) from None

    def write_file(self, path: str, content: str, *, overwrite: bool) -> None:
        """Create or replace ``path`` atomically (temp file + rename), making parents."""
        with self._at(path, create_dirs=True) as (parent, name, _):
            info = self._lstat(parent, name)
            if not name or (info is not None and stat.S_ISDIR(info.st_mode)):
                raise IsADirectoryError(f"'{path}' is a directory; cannot write a file there.")
            if info is not None and not overwrite:
                raise FileExistsError(f"File '{path}' already exists.")
            if info is not None:
                self._check_regular(path, info)
            # Write beside the target and rename, so a reader never sees half a file.
            tmp = f".tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}.part"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(tmp, flags, 0o644, dir_fd=parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                    handle.write(content)
                os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=parent)
                raise

    def append_file(self, path: str, content: str) -> None:
        """Append to ``path``, creating it when missing."""
        try:
            existing = self.read_file(path)
        except FileNotFoundError:
            existing = ""
        self.write_file(path, existing + content, overwrite=True)

    def delete_path(self, path: str) -> None:
        """Delete a file, or a directory with everything under it (links are unlinked)."""
        if path == ROOT:
            raise WorkspacePathError("Refusing to delete the workspace root.")
        with self._at(path, follow_final=False) as (parent, name, _):
            info = self._lstat(parent, name)
            if info is None:
                raise FileNotFoundError(f"Path '{path}' does not exist.")
            if stat.S_ISDIR(info.st_mode):
                _remove_tree(parent, name)
            else:
                os.unlink(name, dir_fd=parent)

    def list_dir(self, path: str, recursive: bool) -> list[dict[str, Any]]:
        """List the entries under directory ``path`` (sorted by path)."""
        with self._at(path) as (parent, name, _):
            info = self._lstat(parent, name)
            if info is None:
                raise FileNotFoundError(f"Directory '{path}' does not exist.")
            if not stat.S_ISDIR(info.st_mode):
                raise NotADirectoryError(f"'{path}' is a file, not a directory.")
            fd = os.open(name or ".", DIR_FLAGS, dir_fd=parent)
        prefix = "" if path == ROOT else path + "/"
        entries: list[dict[str, Any]] = []
        try:
            self._list(fd, prefix, recursive, entries, depth=len(path.split("/")))
        finally:
            os.close(fd)
        return sorted(entries, key=lambda e: e["path"])

    def _list(
        self, fd: int, prefix: str, recursive: bool, out: list[dict[str, Any]], depth: int
    ) -> None:
        for entry in sorted(os.scandir(fd), key=lambda e: e.name):
            rel = prefix + entry.name
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                # A link is shown as what it points to, and only when that is inside.
                try:
                    with self._at(rel) as (parent, name, _):
                        info = self._lstat(parent, name)
                except (OSError, ToolError):
                    continue
                if info is None:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    out.append({"path": rel, "type": "directory"})
                elif stat.S_ISREG(info.st_mode):
                    out.append({"path": rel, "type": "file", "size": info.st_size})
                continue  # never descend through a link
            if stat.S_ISDIR(info.st_mode):
                out.append({"path": rel, "type": "directory"})
                if recursive and depth < MAX_PATH_DEPTH:
                    sub = os.open(entry.name, DIR_FLAGS, dir_fd=fd)
                    try:
                        self._list(sub, rel + "/", recursive, out, depth + 1)
                    finally:
                        os.close(sub)
            elif stat.S_ISREG(info.st_mode):
                out.append({"path": rel, "type": "file", "size": info.st_size})
            # FIFOs, devices and sockets are not workspace files: not listed.

    def grep(self, pattern: str, path: str | None, limit: int) -> list[dict[str, Any]]:
        """Regex search over the text files under ``path``; other files are skipped."""
        where = path or ROOT
        with self._at(where) as (parent, name, _):
            info = self._lstat(parent, name)
        if info is None:
            raise FileNotFoundError(f"Path '{where}' does not exist.")
        if not stat.S_ISDIR(info.st_mode):
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
                except (ToolError, OSError):
                    continue  # not UTF-8, not a regular file, vanished: grep is for text

        return _grep_texts(texts(), pattern, limit)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _remove_tree(parent: int, name: str) -> None:
    """Remove directory ``name`` under ``parent`` without following any link inside."""
    fd = os.open(name, DIR_FLAGS, dir_fd=parent)
    try:
        for entry in list(os.scandir(fd)):
            if entry.is_dir(follow_symlinks=False):
                _remove_tree(fd, entry.name)
            else:
                os.unlink(entry.name, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent)
