"""Unified-diff parsing and hunk application for the ``apply_patch`` command.

Pure functions over strings: :func:`parse_unified_diff` reads a (possibly multi-file) patch,
:func:`parse_hunks` reads the hunks of one file (also accepting OpenAI's V4A style, where
``@@`` headers carry no line numbers), and :func:`apply_hunks` applies hunks to a text.
Every failure raises :class:`PatchError` whose message says which hunk failed and what it
expected, so the model can fix its patch. Nothing here touches storage; the manager plans
every file's new content first and writes only when all of them applied.

Example:
    >>> patch = "--- a/x.txt\\n+++ b/x.txt\\n@@ -1,2 +1,2 @@\\n one\\n-two\\n+TWO\\n"
    >>> [fp] = parse_unified_diff(patch)
    >>> apply_hunks("one\\ntwo\\n", fp.hunks, path=fp.new_path)
    'one\\nTWO\\n'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...errors import ToolError

__all__ = ["FilePatch", "Hunk", "PatchError", "apply_hunks", "parse_hunks", "parse_unified_diff"]

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ToolError):
    """A patch is malformed or does not apply; the message says where and why."""


@dataclass
class Hunk:
    """One ``@@`` block: ``lines`` holds ``(op, text)`` with op in ``' '``, ``'-'``, ``'+'``."""

    header: str
    old_start: int | None = None
    lines: list[tuple[str, str]] = field(default_factory=list)
    # Set by "\ No newline at end of file" markers after the last old-/new-side line.
    old_ends_without_newline: bool = False
    new_ends_without_newline: bool = False

    def mark_no_newline(self) -> None:
        """Record a no-newline marker for the side(s) of the line just read."""
        op = self.lines[-1][0] if self.lines else " "
        self.old_ends_without_newline |= op in " -"
        self.new_ends_without_newline |= op in " +"

    @property
    def old_lines(self) -> list[str]:
        return [text for op, text in self.lines if op in " -"]

    @property
    def new_lines(self) -> list[str]:
        return [text for op, text in self.lines if op in " +"]


@dataclass
class FilePatch:
    """The changes to one file; ``old_path`` is ``None`` for a new file, ``new_path`` for a deletion."""

    old_path: str | None
    new_path: str | None
    hunks: list[Hunk] = field(default_factory=list)


def _header_path(raw: str) -> str | None:
    # Drop the optional tab-separated timestamp that `diff -u` writes after the name.
    name = raw.split("\t", 1)[0].strip()
    return None if name == "/dev/null" else name


def _strip_git_prefixes(old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """Remove git's ``a/`` and ``b/`` prefixes when the patch uses them."""
    olds = old is None or old.startswith("a/")
    news = new is None or new.startswith("b/")
    if olds and news and (old or new):
        return (old[2:] if old else None), (new[2:] if new else None)
    return old, new


def _read_hunk_body(
    lines: list[str], i: int, hunk: Hunk, counts: tuple[int, int] | None, where: str
) -> int:
    """Fill ``hunk.lines`` from ``lines[i:]``; return the index after the hunk."""
    old_left, new_left = counts if counts else (-1, -1)
    while i < len(lines):
        if counts and old_left <= 0 and new_left <= 0:
            # Counts satisfied; only a trailing no-newline marker still belongs to us.
            if lines[i].startswith("\\"):
                hunk.mark_no_newline()
                i += 1
            break
        line = lines[i]
        if not counts and (line.startswith("@@") or line.startswith("--- ")):
            break
        if line.startswith("\\"):
            hunk.mark_no_newline()
            i += 1
            continue
        # Editors and models often strip the single space of an empty context line.
        op, text = (" ", "") if line == "" else (line[0], line[1:])
        if op not in " -+":
            if counts:
                raise PatchError(
                    f"{where}: line {line!r} inside a hunk must start with ' ', '-' or '+'."
                )
            break
        hunk.lines.append((op, text))
        old_left -= op in " -"
        new_left -= op in " +"
        i += 1
    if counts and (old_left > 0 or new_left > 0):
        raise PatchError(
            f"{where} ({hunk.header}) ends early: the header promises {counts[0]} old and "
            f"{counts[1]} new lines but the body is shorter. Fix the counts or the body."
        )
    return i


def _parse_hunks_at(lines: list[str], i: int, path: str) -> tuple[list[Hunk], int]:
    hunks: list[Hunk] = []
    while i < len(lines) and not lines[i].startswith("--- "):
        line = lines[i]
        if not line.startswith("@@"):
            if line.startswith(("diff ", "index ", "new file", "deleted file", "similarity")):
                break  # the next file's git header
            i += 1  # free text between hunks is ignored, as `patch` does
            continue
        where = f"hunk {len(hunks) + 1} for '{path}'"
        match = _HUNK_HEADER.match(line)
        hunk = Hunk(header=line.strip())
        counts = None
        if match:
            hunk.old_start = int(match.group(1))
            counts = (
                int(match.group(2)) if match.group(2) is not None else 1,
                int(match.group(4)) if match.group(4) is not None else 1,
            )
        i = _read_hunk_body(lines, i + 1, hunk, counts, where)
        if not hunk.lines:
            raise PatchError(f"{where} ({hunk.header}) has no lines.")
        hunks.append(hunk)
    return hunks, i


def parse_unified_diff(text: str) -> list[FilePatch]:
    """Parse a unified diff (one or many files, plain or git style) into :class:`FilePatch` es.

    >>> [p.new_path for p in parse_unified_diff("--- /dev/null\\n+++ b/new.txt\\n@@ -0,0 +1 @@\\n+hi\\n")]
    ['new.txt']
    """
    if not isinstance(text, str) or not text.strip():
        raise PatchError("The patch is empty; send a unified diff with '--- ' and '+++ ' headers.")
    lines = text.splitlines()
    patches: list[FilePatch] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("@@") and not patches:
            raise PatchError(
                "The patch has a hunk before any file header; start each file with "
                "'--- a/<path>' and '+++ b/<path>' lines."
            )
        if not line.startswith("--- "):
            i += 1
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("+++ "):
            raise PatchError(f"Patch line {i + 1}: '---' header is not followed by a '+++' header.")
        old, new = _strip_git_prefixes(_header_path(line[4:]), _header_path(lines[i + 1][4:]))
        if old is None and new is None:
            raise PatchError(f"Patch line {i + 1}: both sides are /dev/null.")
        hunks, i = _parse_hunks_at(lines, i + 2, new or old or "")
        if not hunks and old is not None and new is not None:
            raise PatchError(f"The patch for '{new}' has no '@@' hunks.")
        patches.append(FilePatch(old_path=old, new_path=new, hunks=hunks))
    if not patches:
        raise PatchError(
            "No file changes found: a unified diff needs '--- a/<path>', '+++ b/<path>' "
            "and '@@ -l,n +l,n @@' hunks."
        )
    return patches


def parse_hunks(diff: str, *, path: str) -> list[Hunk]:
    """Parse the hunks of a single file's diff; leading lines before any ``@@`` form a hunk.

    This is what the ``operation`` form of ``apply_patch`` uses (OpenAI's V4A diffs have
    ``@@`` headers without line numbers, or none at all).
    """
    if not isinstance(diff, str) or not diff.strip():
        raise PatchError(f"The diff for '{path}' is empty.")
    lines = diff.splitlines()
    if lines[0].startswith("@@"):
        hunks, _ = _parse_hunks_at(lines, 0, path)
        return hunks
    head = Hunk(header="@@")
    i = _read_hunk_body(lines, 0, head, None, f"hunk 1 for '{path}'")
    rest, _ = _parse_hunks_at(lines, i, path)
    return [head, *rest] if head.lines else rest


def _find(haystack: list[str], needle: list[str], start: int, hint: int | None) -> int | None:
    """Index where ``needle`` occurs at or after ``start``, preferring the one nearest ``hint``."""
    last = len(haystack) - len(needle)
    for normalise in (lambda s: s, str.rstrip):  # exact first, then ignoring trailing spaces
        wanted = [normalise(s) for s in needle]
        hits = [
            k
            for k in range(start, last + 1)
            if [normalise(s) for s in haystack[k : k + len(needle)]] == wanted
        ]
        if hits:
            return min(hits, key=lambda k: abs(k - hint)) if hint is not None else hits[0]
    return None


def _describe_mismatch(hunk: Hunk, index: int, lines: list[str], hint: int, path: str) -> str:
    expected = "\n".join(f"    {s}" for s in hunk.old_lines) or "    (nothing)"
    around = lines[hint : hint + max(len(hunk.old_lines), 1)]
    actual = "\n".join(f"    {s}" for s in around) or "    (end of file)"
    return (
        f"Hunk {index} ({hunk.header}) does not apply to '{path}': these lines were expected "
        f"near line {hint + 1}:\n{expected}\nbut the file has there:\n{actual}\n"
        "Read the file again and regenerate the hunk from its current content."
    )


def apply_hunks(original: str, hunks: list[Hunk], *, path: str) -> str:
    """Apply ``hunks`` in order to ``original`` and return the new text, or raise :class:`PatchError`."""
    lines = original.splitlines()
    cursor = 0
    offset = 0  # how far earlier hunks moved the file, to turn header line numbers into hints
    for number, hunk in enumerate(hunks, start=1):
        old = hunk.old_lines
        hint = None if hunk.old_start is None else max(hunk.old_start - 1 + offset, 0)
        if not old:
            # Pure insertion: '-N,0' means "after line N"; without a number, at the end.
            at = len(lines) if hunk.old_start is None else min(hunk.old_start + offset, len(lines))
        else:
            found = _find(lines, old, cursor, hint)
            if found is None:
                raise PatchError(
                    _describe_mismatch(
                        hunk, number, lines, hint if hint is not None else cursor, path
                    )
                )
            at = found
        lines[at : at + len(old)] = hunk.new_lines
        cursor = at + len(hunk.new_lines)
        offset += len(hunk.new_lines) - len(old)
    if not lines:
        return ""
    if any(h.new_ends_without_newline for h in hunks):
        ends_bare = True
    elif any(h.old_ends_without_newline for h in hunks):
        ends_bare = False  # the diff itself added the final newline
    else:
        ends_bare = bool(original) and not original.endswith("\n")
    return "\n".join(lines) + ("" if ends_bare else "\n")
