"""A restricted Python interpreter for ToolComposer snippets, written over :mod:`ast`.

The snippet is parsed and checked against an allow-list of node types, then *evaluated
node by node by this module*; it is never compiled or passed to ``exec``. So a snippet
can only do what this file implements: no imports, no function or class definitions, no
attribute whose name starts with ``_``, only the builtins and methods listed in
:mod:`._sandbox_lib`, and only those values as callables.

Tool calls start at once and return a placeholder; the placeholder is awaited the first
time its value is *used* (an operator, a builtin, printing, indexing, a condition, an
argument to another tool). Storing it (assignment, list/dict literals, ``list.append``)
does not wait, so ``a = t1(); b = t2(); print(a, b)`` runs t1 and t2 concurrently, and so
does ``[t(x) for x in xs]``. Every evaluated node costs one step; past ``max_steps`` the
snippet is stopped, which is how ``while True: pass`` ends.

Example:
    >>> import asyncio
    >>> asyncio.run(Interpreter({}).run("total = sum(range(5))\\nprint('total', total)"))
    ('total 10', None, False)
"""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ._sandbox_lib import (
    BINOPS,
    BUILTINS,
    CMPOPS,
    JSON,
    JSON_FUNCTIONS,
    METHODS,
    STORE_METHODS,
    UNARY,
    UNAVAILABLE,
    Builtin,
    SandboxError,
    SnippetError,
    approx_size,
    as_load,
    check_format_spec,
    check_size,
    validate,
)

__all__ = ["Interpreter", "SandboxError", "SnippetError", "ToolFunction"]


@dataclass(frozen=True)
class ToolFunction:
    """A tool as the snippet sees it: ``run(**kwargs)`` awaited; positional args by ``params``."""

    name: str
    run: Callable[..., Awaitable[Any]]
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Method:
    """``obj.name`` taken from an allowed type; called later through the same check."""

    obj: Any
    name: str


class _Pending:
    """The not-yet-used result of a tool call."""

    __slots__ = ("name", "task")

    def __init__(self, name: str, task: asyncio.Task[Any]) -> None:
        self.name, self.task = name, task

    async def value(self) -> Any:
        try:
            return await self.task
        except SnippetError:
            raise
        except Exception as exc:
            raise SnippetError(f"tool {self.name!r} failed: {type(exc).__name__}: {exc}") from None


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Interpreter:
    """Runs one snippet. ``functions`` maps names to :class:`ToolFunction` s.

    :meth:`run` returns ``(printed_output, result_value, has_result)``; errors raise
    :class:`SandboxError` (refused) or :class:`SnippetError` (failed while running).
    """

    def __init__(
        self,
        functions: dict[str, ToolFunction],
        *,
        max_steps: int = 100_000,
        max_tool_calls: int = 100,
        max_output_chars: int = 20_000,
    ) -> None:
        self.functions = functions
        self.max_steps = max_steps
        self.max_tool_calls = max_tool_calls
        self.max_output_chars = max_output_chars
        self.steps = 0
        self.output: list[str] = []  # raw print() chunks, joined at the end
        self.output_chars = 0
        self.scopes: list[dict[str, Any]] = [{}]
        self.calls: list[_Pending] = []  # every tool call started, in order

    # -- entry point ----------------------------------------------------------------------

    async def run(self, code: str) -> tuple[str, Any, bool]:
        """Check and run ``code``; wait for every tool call it started."""
        try:
            tree = ast.parse(code, mode="exec")
        except SyntaxError as exc:
            raise SnippetError(f"syntax error at line {exc.lineno}: {exc.msg}.") from None
        except (ValueError, RecursionError, MemoryError) as exc:
            raise SnippetError(f"the code cannot be parsed: {exc}.") from None
        validate(tree)
        try:
            await self._block(tree.body)
            # Calls whose results were never used still finish (they may have effects).
            for call in self.calls:
                await call.value()
            globals_ = self.scopes[0]
            has_result = "result" in globals_
            result = await self._deep(globals_["result"]) if has_result else None
            check_size(approx_size(result), "result")
        except (_Break, _Continue):
            raise SnippetError("'break' or 'continue' outside a loop.") from None
        finally:
            for call in self.calls:
                call.task.cancel()
        return "".join(self.output).rstrip("\n"), result, has_result

    # -- helpers --------------------------------------------------------------------------

    async def _tick(self, node: ast.AST) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise SnippetError(
                f"stopped after {self.max_steps:,} evaluation steps at line "
                f"{getattr(node, 'lineno', '?')}: an infinite loop, or too much work for one "
                "snippet."
            )
        if self.steps % 2000 == 0:
            await asyncio.sleep(0)  # let tool calls progress and timeouts fire

    async def _force(self, value: Any) -> Any:
        while isinstance(value, _Pending):
            value = await value.value()
        return value

    async def _deep(self, value: Any, seen: set[int] | None = None) -> Any:
        """Resolve placeholders anywhere inside ``value`` (sandbox containers in place)."""
        value = await self._force(value)
        if not self.calls or not isinstance(value, (list, dict, tuple)):
            return value
        seen = seen if seen is not None else set()
        if id(value) in seen:
            return value
        seen.add(id(value))
        if isinstance(value, list):
            for i, item in enumerate(value):
                value[i] = await self._deep(item, seen)
        elif isinstance(value, dict):
            for key, item in value.items():
                value[key] = await self._deep(item, seen)
        else:
            value = tuple([await self._deep(item, seen) for item in value])
        return value

    def _lookup(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.functions:
            return self.functions[name]
        if name in BUILTINS:
            return BUILTINS[name]
        if name == "json":
            return JSON
        if name in UNAVAILABLE:
            raise SandboxError(
                f"{name!r} is not available in the sandbox: no files, no dynamic code, no "
                "introspection. Use the tools and the listed builtins."
            )
        raise SnippetError(f"name {name!r} is not defined.")

    # -- statements -----------------------------------------------------------------------

    async def _block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            await self._stmt(stmt)

    async def _stmt(self, node: ast.stmt) -> None:
        await self._tick(node)
        try:
            await getattr(self, f"_s_{type(node).__name__}")(node)
        except (SnippetError, SandboxError, _Break, _Continue):
            raise
        except Exception as exc:  # a Python error inside the snippet: report where
            raise SnippetError(f"line {node.lineno}: {type(exc).__name__}: {exc}") from None

    async def _s_Expr(self, node: ast.Expr) -> None:
        await self._eval(node.value)

    async def _s_Pass(self, node: ast.Pass) -> None:
        pass

    async def _s_Break(self, node: ast.Break) -> None:
        raise _Break

    async def _s_Continue(self, node: ast.Continue) -> None:
        raise _Continue

    async def _s_Assign(self, node: ast.Assign) -> None:
        value = await self._eval(node.value)
        for target in node.targets:
            await self._assign(target, value)

    async def _s_AugAssign(self, node: ast.AugAssign) -> None:
        current = await self._eval(as_load(node.target))
        value = await self._binop(node.op, current, await self._eval(node.value))
        await self._assign(node.target, value)

    async def _s_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                if target.id not in self.scopes[-1]:
                    raise SnippetError(f"name {target.id!r} is not defined.")
                del self.scopes[-1][target.id]
            elif isinstance(target, ast.Subscript):
                container = await self._container(target.value)
                del container[await self._deep(await self._eval(target.slice))]
            else:
                raise SandboxError("only names and items can be deleted.")

    async def _s_If(self, node: ast.If) -> None:
        if await self._truth(node.test):
            await self._block(node.body)
        else:
            await self._block(node.orelse)

    async def _loop_body(self, body: list[ast.stmt]) -> bool:
        """Run one iteration; ``False`` means the loop hit ``break``."""
        try:
            await self._block(body)
        except _Break:
            return False
        except _Continue:
            pass
        return True

    async def _s_For(self, node: ast.For) -> None:
        iterable = await self._deep(await self._eval(node.iter))
        for item in list(iterable) if isinstance(iterable, (dict, set)) else iterable:
            await self._tick(node)
            await self._assign(node.target, item)
            if not await self._loop_body(node.body):
                return
        await self._block(node.orelse)

    async def _s_While(self, node: ast.While) -> None:
        while await self._truth(node.test):
            await self._tick(node)
            if not await self._loop_body(node.body):
                return
        await self._block(node.orelse)

    async def _assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = list(await self._deep(value))
            if len(items) != len(target.elts):
                raise SnippetError(
                    f"cannot unpack {len(items)} values into {len(target.elts)} names."
                )
            for sub, item in zip(target.elts, items, strict=True):
                await self._assign(sub, item)
        elif isinstance(target, ast.Subscript):
            container = await self._container(target.value)
            container[await self._deep(await self._eval(target.slice))] = value
        else:
            raise SandboxError(f"cannot assign to {type(target).__name__}.")

    async def _container(self, node: ast.expr) -> Any:
        container = await self._force(await self._eval(node))
        if not isinstance(container, (list, dict)):
            raise SnippetError(
                f"item assignment needs a list or dict, not {type(container).__name__}."
            )
        return container

    # -- expressions ----------------------------------------------------------------------

    async def _eval(self, node: ast.expr) -> Any:
        await self._tick(node)
        return await getattr(self, f"_e_{type(node).__name__}")(node)

    async def _value(self, node: ast.expr) -> Any:
        """Evaluate and resolve: the value is about to be used."""
        return await self._deep(await self._eval(node))

    async def _truth(self, node: ast.expr) -> bool:
        return bool(await self._value(node))

    async def _e_Constant(self, node: ast.Constant) -> Any:
        return node.value

    async def _e_Name(self, node: ast.Name) -> Any:
        return self._lookup(node.id)

    async def _e_List(self, node: ast.List) -> list[Any]:
        return [await self._eval(e) for e in node.elts]

    async def _e_Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple([await self._eval(e) for e in node.elts])

    async def _e_Set(self, node: ast.Set) -> set[Any]:
        return {await self._value(e) for e in node.elts}

    async def _e_Dict(self, node: ast.Dict) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, val in zip(node.keys, node.values, strict=True):
            if key is None:  # {**other}
                other = await self._value(val)
                if not isinstance(other, dict):
                    raise SnippetError("** in a dict literal needs a dict.")
                out.update(other)
            else:
                out[await self._value(key)] = await self._eval(val)
        return out

    async def _e_BinOp(self, node: ast.BinOp) -> Any:
        return await self._binop(
            node.op, await self._value(node.left), await self._value(node.right)
        )

    async def _binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        left, right = await self._deep(left), await self._deep(right)
        kind = type(op)
        if kind is ast.Mult:
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                    check_size(approx_size(seq) * max(n, 0), "the repeated sequence")
        elif kind is ast.Add and isinstance(left, (str, list, tuple)):
            check_size(approx_size(left) + approx_size(right), "the concatenation")
        elif kind in (ast.Pow, ast.LShift) and isinstance(right, int) and abs(right) > 10_000:
            if not (isinstance(left, (int, float)) and abs(left) <= 1 and kind is ast.Pow):
                raise SnippetError(f"the exponent or shift {right:,} is too large.")
        if kind is ast.MatMult:
            raise SnippetError("the @ operator is not supported.")
        return BINOPS[kind](left, right)

    async def _e_UnaryOp(self, node: ast.UnaryOp) -> Any:
        return UNARY[type(node.op)](await self._value(node.operand))

    async def _e_BoolOp(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for operand in node.values:
            value = await self._value(operand)
            if isinstance(node.op, ast.And) != bool(value):
                return value  # short-circuit: first falsy for `and`, first truthy for `or`
        return value

    async def _e_Compare(self, node: ast.Compare) -> bool:
        left = await self._value(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = await self._value(comparator)
            if not CMPOPS[type(op)](left, right):
                return False
            left = right
        return True

    async def _e_IfExp(self, node: ast.IfExp) -> Any:
        return await self._eval(node.body if await self._truth(node.test) else node.orelse)

    async def _e_Subscript(self, node: ast.Subscript) -> Any:
        container = await self._force(await self._eval(node.value))
        key = await self._value(node.slice)
        return await self._force(container[key])

    async def _e_Slice(self, node: ast.Slice) -> slice:
        parts = [
            None if p is None else await self._value(p) for p in (node.lower, node.upper, node.step)
        ]
        return slice(*parts)

    async def _e_Attribute(self, node: ast.Attribute) -> Any:
        obj = await self._force(await self._eval(node.value))
        if obj is JSON:
            if node.attr not in JSON_FUNCTIONS:
                raise SandboxError(f"json has only dumps and loads, not {node.attr!r}.")
            return Builtin(f"json.{node.attr}", JSON_FUNCTIONS[node.attr])
        if node.attr not in METHODS.get(type(obj), ()):
            owner = obj.name if isinstance(obj, Builtin) else type(obj).__name__
            raise SandboxError(
                f"{owner}.{node.attr} is not available in the sandbox "
                "(only common str/list/dict/set methods are)."
            )
        return _Method(obj, node.attr)

    async def _e_JoinedStr(self, node: ast.JoinedStr) -> str:
        parts = []
        for value in node.values:
            parts.append(
                value.value if isinstance(value, ast.Constant) else await self._eval(value)
            )
        text = "".join(parts)
        check_size(len(text), "the f-string")
        return text

    async def _e_FormattedValue(self, node: ast.FormattedValue) -> str:
        value = await self._value(node.value)
        check_size(approx_size(value), "the formatted value")
        if node.conversion == ord("r"):
            value = repr(value)
        elif node.conversion in (ord("s"), ord("a")):
            value = str(value) if node.conversion == ord("s") else ascii(value)
        spec = "" if node.format_spec is None else await self._eval(node.format_spec)
        check_format_spec(spec)
        return format(value, spec)

    # comprehensions: each gets its own scope, like Python 3

    async def _comprehend(
        self, generators: list[ast.comprehension], emit: Callable[[], Awaitable[None]]
    ) -> None:
        async def level(i: int) -> None:
            if i == len(generators):
                await emit()
                return
            gen = generators[i]
            if gen.is_async:
                raise SandboxError("async comprehensions are not allowed.")
            iterable = await self._value(gen.iter)
            for item in list(iterable) if isinstance(iterable, (dict, set)) else iterable:
                await self._tick(gen.iter)
                await self._assign(gen.target, item)
                if all([await self._truth(cond) for cond in gen.ifs]):
                    await level(i + 1)

        self.scopes.append({})
        try:
            await level(0)
        finally:
            self.scopes.pop()

    async def _e_ListComp(self, node: ast.ListComp) -> list[Any]:
        out: list[Any] = []

        async def emit() -> None:
            out.append(await self._eval(node.elt))
            check_size(len(out), "the comprehension")

        await self._comprehend(node.generators, emit)
        return out

    # Generator expressions are evaluated eagerly into a list: sum(x for x in xs) works.
    _e_GeneratorExp = _e_ListComp

    async def _e_SetComp(self, node: ast.SetComp) -> set[Any]:
        return set(await self._deep(await self._e_ListComp(node)))  # type: ignore[arg-type]

    async def _e_DictComp(self, node: ast.DictComp) -> dict[Any, Any]:
        out: dict[Any, Any] = {}

        async def emit() -> None:
            out[await self._value(node.key)] = await self._eval(node.value)

        await self._comprehend(node.generators, emit)
        return out

    # calls

    async def _e_Call(self, node: ast.Call) -> Any:
        func = await self._force(await self._eval(node.func))
        store_only = isinstance(func, _Method) and (type(func.obj), func.name) in STORE_METHODS
        # Arguments to a tool or a store-only method may stay unresolved for now.
        lazy = store_only or isinstance(func, ToolFunction)
        args = [await (self._eval(a) if lazy else self._value(a)) for a in node.args]
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            value = await (self._eval(kw.value) if lazy else self._value(kw.value))
            if kw.arg is None:
                value = await self._deep(value)
                if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                    raise SnippetError("** in a call needs a dict with string keys.")
                kwargs.update(value)
            else:
                kwargs[kw.arg] = value
        if isinstance(func, ToolFunction):
            return await self._call_tool(func, args, kwargs)
        if isinstance(func, _Method):
            return self._call_method(func, args, kwargs, store_only)
        if isinstance(func, Builtin):
            return self._call_builtin(func, args, kwargs)
        raise SnippetError(f"{type(func).__name__} values cannot be called.")

    async def _call_tool(
        self, func: ToolFunction, args: list[Any], kwargs: dict[str, Any]
    ) -> _Pending:
        if len(args) > len(func.params):
            raise SnippetError(
                f"{func.name}() takes at most {len(func.params)} positional arguments "
                f"({', '.join(func.params) or 'none'}); use keywords."
            )
        kwargs = {**dict(zip(func.params, args, strict=False)), **kwargs}
        if len(self.calls) >= self.max_tool_calls:
            raise SnippetError(f"a snippet may make at most {self.max_tool_calls} tool calls.")

        async def invoke() -> Any:
            # Dependencies are awaited inside the task, so independent calls never wait.
            resolved = await self._deep(kwargs)
            result = await func.run(**resolved)
            if isinstance(result, str) and result.lstrip()[:1] in ("{", "["):
                try:
                    return json.loads(result)
                except json.JSONDecodeError:
                    return result
            return result

        pending = _Pending(func.name, asyncio.ensure_future(invoke()))
        self.calls.append(pending)
        return pending

    def _call_method(
        self, func: _Method, args: list[Any], kwargs: dict[str, Any], store_only: bool
    ) -> Any:
        if "key" in kwargs:
            kwargs["key"] = _key_function(kwargs["key"])
        if func.name == "replace" and isinstance(func.obj, str) and len(args) >= 2:
            old, new = str(args[0]), str(args[1])
            hits = func.obj.count(old) if old else len(func.obj) + 1
            check_size(len(func.obj) + hits * len(new), "the replaced string")
        if func.name == "join" and isinstance(func.obj, str) and args:
            check_size(
                approx_size(args[0]) + len(func.obj) * approx_size(args[0]), "the joined string"
            )
        return getattr(func.obj, func.name)(*args, **kwargs)

    def _call_builtin(self, func: Builtin, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if func.name == "print":
            return self._print(args, kwargs)
        if "key" in kwargs:
            kwargs["key"] = _key_function(kwargs["key"])
        if func.name in ("str", "repr") and args:
            check_size(approx_size(args[0]) * 4, "the string")
        for arg in (*args, *kwargs.values()):
            if func.name != "isinstance" and isinstance(arg, (Builtin, _Method, ToolFunction)):
                raise SnippetError(f"{func.name}() cannot take a function as an argument here.")
        return func.fn(*args, **kwargs)

    def _print(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        unknown = set(kwargs) - {"sep", "end"}
        if unknown:
            raise SnippetError(f"print() accepts only sep= and end= here, not {sorted(unknown)}.")
        for arg in args:  # str() of a huge nested value would exhaust memory first
            check_size(approx_size(arg), "the printed value")
        sep, end = kwargs.get("sep"), kwargs.get("end")
        text = (" " if sep is None else str(sep)).join(str(a) for a in args)
        text += "\n" if end is None else str(end)
        room = self.max_output_chars - self.output_chars
        if room <= 0:
            return
        self.output.append(text[:room])
        self.output_chars += len(text[:room])


def _key_function(key: Any) -> Callable[[Any], Any] | None:
    """``key=`` may be a builtin (len, str...) or an allowed method, never a tool or print."""
    if key is None:
        return None
    if isinstance(key, Builtin) and key.name != "print":
        return key.fn
    if isinstance(key, _Method):
        return getattr(key.obj, key.name)
    raise SnippetError("key= must be a builtin such as len or str, or a method such as d.get.")
