"""Model-written regular expressions, matched in linear time with RE2.

Python's ``re`` backtracks: ``(a+)+$`` over 25 ``a`` s and a ``b`` takes seconds and doubles
per character, on whatever thread runs it. RE2 (``google-re2``) matches in time linear in
the text for every pattern it accepts; what it cannot do that way (backreferences,
lookaround) it refuses, and the model is told so.

Example:
    >>> matcher = compile_pattern(r"^def \\w+")
    >>> bool(matcher.search("def f():")), bool(matcher.search("x = 1"))
    (True, False)
"""

from __future__ import annotations

from typing import Any

import re2

from ...errors import ToolError

__all__ = ["RegexError", "compile_pattern"]

_MAX_PATTERN = 2_000
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error reaches the model as a message, not stderr
_OPTIONS.max_mem = 8 << 20  # a program bigger than this is refused instead of compiled


class RegexError(ToolError):
    """A pattern that is invalid or outside what the linear-time engine supports."""


def compile_pattern(pattern: Any) -> Any:
    """Compile ``pattern`` with RE2; the result has ``search(text)`` like ``re.Pattern``.

    Raises :class:`RegexError` naming the problem and what to write instead.
    """
    if not isinstance(pattern, str) or not pattern:
        raise RegexError("pattern must be a non-empty regular expression string.")
    if len(pattern) > _MAX_PATTERN:
        raise RegexError(f"pattern is {len(pattern):,} characters; keep it under {_MAX_PATTERN:,}.")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(
            f"Invalid regular expression {pattern!r}: {reason}. grep uses RE2 (linear time): "
            "backreferences such as \\1 and lookaround such as (?=...) or (?<!...) are not "
            "supported. Escape special characters such as ( [ { . * + ? with a backslash to "
            "match them literally."
        ) from None
