"""What a ToolComposer snippet may use: builtins, methods per type, and size guards.

Kept apart from the interpreter so the whole allow-list can be audited on one screen.
Everything here is an allow-list: a builtin, a type's method or a module function that is
not named below does not exist for a snippet.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...errors import ToolError

__all__ = [
    "BINOPS",
    "BUILTINS",
    "CMPOPS",
    "JSON",
    "METHODS",
    "STORE_METHODS",
    "UNARY",
    "UNAVAILABLE",
    "Builtin",
    "SandboxError",
    "SnippetError",
    "as_load",
    "check_format_spec",
    "check_size",
    "validate",
]

MAX_ITEMS = 1_000_000  # largest string/sequence a single operation may build
MAX_RANGE = 1_000_000


class SandboxError(ToolError):
    """The snippet tried something the sandbox forbids (import, dunder, open...)."""


class SnippetError(ToolError):
    """The snippet failed while running (bad value, failing tool, step limit...)."""


@dataclass(frozen=True)
class Builtin:
    """A function the snippet may call; ``fn`` is never handed to the snippet itself."""

    name: str
    fn: Callable[..., Any]

    def __repr__(self) -> str:
        return f"<builtin {self.name}>"


class _JsonModule:
    """The ``json`` name inside snippets: only ``dumps`` and ``loads``."""

    def __repr__(self) -> str:
        return "<module json (dumps, loads)>"


JSON = _JsonModule()
JSON_FUNCTIONS: dict[str, Callable[..., Any]] = {"dumps": json.dumps, "loads": json.loads}


def approx_size(value: Any, limit: int = MAX_ITEMS) -> int:
    """Elements (characters for strings) in ``value``, counted through nesting.

    Stops counting once past ``limit``, so measuring a huge value stays cheap.
    """
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, dict):
            total += len(item)
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += len(item)
            stack.extend(item)
        else:
            total += 1
    return total


def check_size(size: int, what: str) -> None:
    """Refuse to build values past ``MAX_ITEMS`` (memory exhaustion is a way out too)."""
    if size > MAX_ITEMS:
        raise SnippetError(f"{what} would hold about {size:,} items; the limit is {MAX_ITEMS:,}.")


def check_format_spec(spec: str) -> None:
    """Refuse format specs with absurd widths such as ``{x:>999999999}``."""
    if re.search(r"\d{7,}", spec):
        raise SnippetError(f"Format spec {spec!r} asks for an absurd width or precision.")


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise SnippetError(f"range of {len(r):,} numbers is over the limit of {MAX_RANGE:,}.")
    return r


def _unwrap_type(spec: Any) -> Any:
    if isinstance(spec, Builtin) and isinstance(spec.fn, type):
        return spec.fn
    if isinstance(spec, tuple):
        return tuple(_unwrap_type(s) for s in spec)
    raise SnippetError(
        "isinstance needs a type such as str, int, list or dict (or a tuple of them)."
    )


def _isinstance(value: Any, spec: Any) -> bool:
    return isinstance(value, _unwrap_type(spec))


_SAFE_TYPES = {
    "bool": bool,
    "dict": dict,
    "float": float,
    "int": int,
    "list": list,
    "set": set,
    "str": str,
    "tuple": tuple,
}

_SAFE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "all": all,
    "any": any,
    "divmod": divmod,
    "enumerate": lambda *a, **k: list(enumerate(*a, **k)),
    "isinstance": _isinstance,
    "len": len,
    "max": max,
    "min": min,
    "range": _range,
    "repr": repr,
    "reversed": lambda seq: list(reversed(seq)),
    "round": round,
    "sorted": sorted,
    "sum": sum,
    "zip": lambda *a: list(zip(*a, strict=False)),
}

BUILTINS: dict[str, Builtin] = {
    name: Builtin(name, fn) for name, fn in {**_SAFE_TYPES, **_SAFE_FUNCTIONS}.items()
}
# `print` is handled by the interpreter (it writes to the captured output).
BUILTINS["print"] = Builtin("print", print)

# Methods reachable through attribute access, per exact type. Anything growing a value by
# an argument-sized amount (ljust, center, zfill, expandtabs) and str.format/format_map
# (which can reach attributes through "{0.__class__}") are deliberately absent.
METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        "capitalize casefold count endswith find index isalnum isalpha isdigit islower "
        "isnumeric isspace istitle isupper join lower lstrip partition removeprefix "
        "removesuffix replace rfind rindex rpartition rsplit rstrip split splitlines "
        "startswith strip swapcase title upper".split()
    ),
    list: frozenset("append clear copy count extend index insert pop remove reverse sort".split()),
    dict: frozenset("clear copy get items keys pop popitem setdefault update values".split()),
    set: frozenset(
        "add clear copy difference discard intersection isdisjoint issubset issuperset pop "
        "remove symmetric_difference union update".split()
    ),
    tuple: frozenset({"count", "index"}),
    int: frozenset({"bit_length"}),
    float: frozenset({"is_integer"}),
}

# Methods that only store their argument: they may receive an unresolved tool result, so
# `out.append(tool(x))` in a loop does not wait for each call before starting the next.
STORE_METHODS = frozenset({(list, "append"), (list, "insert")})


_FORBIDDEN_MESSAGES: dict[type, str] = {
    ast.Import: "imports are not allowed; use the tools and builtins you were given",
    ast.ImportFrom: "imports are not allowed; use the tools and builtins you were given",
    ast.FunctionDef: "defining functions is not allowed",
    ast.AsyncFunctionDef: "defining functions is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ClassDef: "defining classes is not allowed",
    ast.Global: "'global' is not allowed",
    ast.Nonlocal: "'nonlocal' is not allowed",
    ast.With: "'with' is not allowed (there are no files or resources to open)",
    ast.AsyncWith: "'async with' is not allowed",
    ast.Await: "'await' is not needed: call tools like plain functions",
    ast.Try: "try/except is not supported; a failing tool stops the snippet with its error",
    ast.Raise: "'raise' is not supported",
    ast.Starred: "*-unpacking is not supported",
    ast.NamedExpr: "':=' is not supported",
}
# Names a snippet might reach for to escape; they get a security message, not "undefined".
UNAVAILABLE = frozenset(
    "open eval exec compile getattr setattr delattr hasattr globals locals vars dir type "
    "object input breakpoint help memoryview bytearray classmethod staticmethod property "
    "super id hash iter next exit quit".split()
)
_ALLOWED = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.While, ast.Break,
    ast.Continue, ast.Pass, ast.Delete, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp,
    ast.Dict, ast.Set, ast.List, ast.Tuple, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.comprehension, ast.Compare, ast.Call, ast.keyword, ast.Constant,
    ast.Attribute, ast.Subscript, ast.Slice, ast.Name, ast.JoinedStr, ast.FormattedValue,
    ast.Load, ast.Store, ast.Del, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)  # fmt: skip


def validate(tree: ast.AST) -> None:
    """Refuse any node outside the allow-list, and names/attributes reaching internals."""
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        where = f" (line {line})" if line else ""
        if type(node) in _FORBIDDEN_MESSAGES:
            raise SandboxError(f"{_FORBIDDEN_MESSAGES[type(node)]}{where}.")
        if not isinstance(node, _ALLOWED):
            raise SandboxError(f"{type(node).__name__} is not allowed in the sandbox{where}.")
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                raise SandboxError(
                    f"attribute {node.attr!r} is not allowed{where}: names starting with '_' "
                    "reach Python internals."
                )
            if isinstance(node.ctx, (ast.Store, ast.Del)):
                raise SandboxError(f"setting or deleting attributes is not allowed{where}.")
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise SandboxError(f"name {node.id!r} is not allowed{where}.")


BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.BitAnd: operator.and_,
}  # fmt: skip
CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_,
    ast.IsNot: operator.is_not, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}  # fmt: skip
UNARY: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
    ast.Invert: operator.invert,
}  # fmt: skip


def as_load(target: ast.expr) -> ast.expr:
    """The expression reading what an augmented assignment writes."""
    if isinstance(target, ast.Name):
        return ast.copy_location(ast.Name(id=target.id, ctx=ast.Load()), target)
    if isinstance(target, ast.Subscript):
        return ast.copy_location(
            ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load()), target
        )
    raise SandboxError("augmented assignment works on names and items only.")
