"""The retry policy and the request/response seam types import nothing from the package.

``api_requests._types`` is imported by response.py and every provider module, and
``transport._retry`` by the provider error classifier and the rate-limit header reader: a
module-level import of the package from either would tie those homes into a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import deluge_ray

PACKAGE = Path(deluge_ray.__file__).parent
LEAVES = ["api_requests/_types.py", "transport/_retry.py"]


def module_level_imports(path: Path) -> list[str]:
    """Modules imported at module level (``if TYPE_CHECKING:`` blocks do not run)."""
    names: list[str] = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaf_imports_nothing_from_the_package(leaf: str) -> None:
    imports = module_level_imports(PACKAGE / leaf)
    assert imports, "the parse found no imports at all: the check is not looking"
    inside = [n for n in imports if n.startswith(".") or n.startswith("deluge_ray")]
    assert inside == [], f"{leaf} imports {inside} at module level"
