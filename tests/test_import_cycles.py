"""No module-level import cycle among deluge_ray's modules, except the few listed here.

The graph holds one edge per module-level import between two of the package's modules
(``actors/`` counts as ``deluge_ray.actors``). Imports inside functions, and under
``if TYPE_CHECKING:``, run later or never, so they cannot close a cycle at import time and
are left out; class bodies run at import time and are kept. ``from pkg import name`` is an
edge to ``pkg.name`` when that is a module, else to ``pkg``; relative imports are resolved
against the importing module's package. Importing ``a.b.c`` also runs ``a.b``'s
``__init__``, so that is an edge too, unless ``a.b`` is an ancestor of the importer (an
ancestor always starts initialising first: that is how the root package can re-export
everything). Strongly connected components of what remains, after removing the allowlisted
edges, are the cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "deluge_ray"
# Where each top-level package's source lives (actors/ installs as deluge_ray.actors).
SOURCES = {PACKAGE: ROOT / "deluge_ray", f"{PACKAGE}.actors": ROOT / "actors"}

# (importer, imported) -> why this edge may close a cycle. Each must still exist. The edges
# the reference's API shape forces (``Tool.from_mcp`` reaching the MCP client, ``LLMClient``
# methods reaching the agent code) are imports inside the functions that need them today.
ALLOWED_EDGES: dict[tuple[str, str], str] = {}


def module_files() -> dict[str, Path]:
    """Every module of the package, by dotted name (a package is its ``__init__``)."""
    modules: dict[str, Path] = {}
    for prefix, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([prefix, *parts])] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    pending.append(child)
                elif isinstance(child, ast.excepthandler | ast.match_case):
                    pending.extend(child.body)


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``module`` imports at module level."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in module_level_imports(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = _package_of(module, path).split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base]) if base else ".".join(anchor)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            found.add(submodule if submodule in known else base)
    return {package for name in found for package in _initialised_by(name, module)} & known


def _initialised_by(imported: str, importer: str) -> Iterator[str]:
    """``imported`` and the packages above it that importing it may run first."""
    parts = imported.split(".")
    for depth in range(1, len(parts) + 1):
        package = ".".join(parts[:depth])
        if depth == len(parts) or not (importer == package or importer.startswith(package + ".")):
            yield package


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports at module level."""
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, known) - {name} for name, path in files.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of more than one module, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete cycle through ``component``'s first module, for the failure message."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"{component} is not a cycle")


def test_no_import_cycles_outside_the_allowlist() -> None:
    graph = import_graph()
    # Guard against a vacuous pass (e.g. the sources moved and nothing was parsed).
    assert "deluge_ray.client._engine" in graph["deluge_ray.client._client"], (
        "the import graph looks empty"
    )
    stale = [edge for edge in ALLOWED_EDGES if edge[1] not in graph.get(edge[0], set())]
    assert not stale, f"remove these from ALLOWED_EDGES, the imports are gone: {stale}"
    for importer, imported in ALLOWED_EDGES:
        graph[importer].discard(imported)
    cycles = [" -> ".join(a_cycle(graph, c)) for c in strongly_connected(graph)]
    assert not cycles, (
        "module-level import cycles (move an import into the function that needs it, or "
        "move the shared name to a leaf module):\n" + "\n".join(cycles)
    )


def test_the_graph_sees_relative_type_checking_and_function_imports_correctly(
    tmp_path, monkeypatch
) -> None:
    # A throwaway package: a <-> b at module level is a cycle; c's imports of a are inside a
    # function or under TYPE_CHECKING, so they are not edges; other's import of sub.b runs
    # sub's __init__ first (an edge), while a's and b's own package is not an edge of theirs.
    pkg = tmp_path / "deluge_ray"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import a\n")
    (pkg / "sub" / "a.py").write_text("from .b import thing\n")
    (pkg / "sub" / "b.py").write_text("import deluge_ray.sub.a\nthing = 1\n")
    (pkg / "other.py").write_text("from deluge_ray.sub.b import thing\n")
    (pkg / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from deluge_ray.sub import a\n"
        "def f():\n    from ..sub import a\n"
        "class K:\n    from deluge_ray import sub\n"
    )
    monkeypatch.setitem(SOURCES, PACKAGE, pkg)
    monkeypatch.delitem(SOURCES, f"{PACKAGE}.actors")
    graph = import_graph()
    assert graph == {
        "deluge_ray": set(),
        "deluge_ray.other": {"deluge_ray.sub", "deluge_ray.sub.b"},
        "deluge_ray.sub": {"deluge_ray.sub.a"},
        "deluge_ray.sub.a": {"deluge_ray.sub.b"},
        "deluge_ray.sub.b": {"deluge_ray.sub.a"},
        "deluge_ray.sub.c": {"deluge_ray.sub"},
    }
    (component,) = strongly_connected(graph)
    assert component == ["deluge_ray.sub.a", "deluge_ray.sub.b"]
    assert a_cycle(graph, component) == ["deluge_ray.sub.a", "deluge_ray.sub.b", "deluge_ray.sub.a"]
