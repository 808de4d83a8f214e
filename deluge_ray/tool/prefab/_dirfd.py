"""Race-free path walking inside a root directory, one directory file descriptor at a time.

Resolving a path to a string and then opening the string leaves a window in which another
process can swap a directory for a symbolic link to ``/``. Here every component is opened
relative to the descriptor of its parent with ``O_NOFOLLOW``: a component that becomes a
link after it was inspected makes the open fail, it is never followed. Links are resolved
by this module (like ``openat2(RESOLVE_IN_ROOT)`` would, but refusing instead of clamping):
a link whose target leaves the root is refused.

Example:
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> with walk(root, ["a", "b.txt"], create_dirs=True) as (parent, name, parts):
    ...     name, parts
    ('b.txt', ['a'])
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import deque
from collections.abc import Iterator

from ...errors import ToolError

__all__ = ["DIR_FLAGS", "MAX_LINKS", "OutsideRootError", "walk"]

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_LINKS = 40  # the kernel's own limit on links followed in one lookup


class OutsideRootError(ToolError):
    """A path, through ``..`` in a link or an absolute link, leaves the root."""


@contextlib.contextmanager
def walk(
    root: str | os.PathLike[str],
    parts: list[str],
    *,
    follow_final: bool = True,
    create_dirs: bool = False,
) -> Iterator[tuple[int, str, list[str]]]:
    """Yield ``(parent_fd, name, parent_parts)`` for ``parts`` under ``root``.

    Intermediate components must be directories (links to directories inside the root
    are followed); ``create_dirs`` makes missing ones. The final component is not opened:
    when ``follow_final`` and it is a link, the link is resolved and ``name`` is its
    target's last component. ``name`` is ``""`` when the path is the root itself. Every
    descriptor is closed on exit; the caller opens ``name`` with ``dir_fd=parent_fd``.
    """
    root = os.fspath(root)
    stack = [os.open(root, DIR_FLAGS)]
    names: list[str] = []
    try:
        todo = deque(p for p in parts if p not in ("", "."))
        links = 0
        name = ""
        while todo:
            part = todo.popleft()
            if part in ("", "."):
                continue
            if part == "..":
                if not names:
                    raise OutsideRootError("a symbolic link leads outside the workspace")
                os.close(stack.pop())
                names.pop()
                continue
            last = not todo
            try:
                info = os.stat(part, dir_fd=stack[-1], follow_symlinks=False)
            except FileNotFoundError:
                if last:
                    name = part
                    break
                if not create_dirs:
                    where = "/".join([*names, part])
                    raise FileNotFoundError(f"Directory '{where}' does not exist.") from None
                os.mkdir(part, 0o777, dir_fd=stack[-1])
                info = os.stat(part, dir_fd=stack[-1], follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode) and (follow_final or not last):
                links += 1
                if links > MAX_LINKS:
                    raise OutsideRootError("too many levels of symbolic links")
                target = os.readlink(part, dir_fd=stack[-1])
                if os.path.isabs(target):
                    inside = os.path.relpath(os.path.normpath(target), root)
                    if inside == ".." or inside.startswith("../"):
                        raise OutsideRootError("a symbolic link points outside the workspace")
                    while len(stack) > 1:  # restart from the root
                        os.close(stack.pop())
                    names.clear()
                    target = inside
                todo.extendleft(reversed(target.split("/")))
                continue
            if last:
                name = part
                break
            if not stat.S_ISDIR(info.st_mode):
                where = "/".join([*names, part])
                raise NotADirectoryError(f"'{where}' is a file, not a directory.")
            # O_NOFOLLOW: if `part` was swapped for a link since the stat, this fails.
            stack.append(os.open(part, DIR_FLAGS, dir_fd=stack[-1]))
            names.append(part)
        yield stack[-1], name, list(names)
    finally:
        for fd in stack:
            os.close(fd)
