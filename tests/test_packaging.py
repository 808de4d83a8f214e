"""The distribution installs every package directory, including actors/ as deluge_ray.actors."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared_packages() -> set[str]:
    # requires-python allows 3.10, which has no tomllib (and tomli is not a dev dependency),
    # so read the one array needed: ``packages = [...]`` in the [tool.setuptools] table.
    text = (ROOT / "pyproject.toml").read_text()
    table = re.search(r"^\[tool\.setuptools\]\n(.*?)(?=^\[)", text, flags=re.S | re.M)
    assert table, "pyproject.toml has no [tool.setuptools] table"
    array = re.search(r"^packages = \[(.*?)^\]", table.group(1), flags=re.S | re.M)
    assert array, "[tool.setuptools] has no multi-line `packages = [...]` array"
    body = "\n".join(line.split("#", 1)[0] for line in array.group(1).splitlines())
    names = set(re.findall(r'"([^"]+)"', body))
    assert "deluge_ray" in names, f"could not read the packages array: {names}"
    return names


def _requirement_names(section: str) -> set[str]:
    """Distribution names (normalised) in a pyproject array like ``dependencies = [...]``."""
    text = (ROOT / "pyproject.toml").read_text()
    array = re.search(rf"^{re.escape(section)} = \[(.*?)^\]", text, flags=re.S | re.M)
    assert array, f"pyproject.toml has no multi-line `{section} = [...]` array"
    body = "\n".join(line.split("#", 1)[0] for line in array.group(1).splitlines())
    return {
        _normalise(re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0])
        for req in re.findall(r'"([^"]+)"', body)
    }


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _top_level_imports(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


# Imported by a test only to check behaviour when it is absent or present; not a dependency.
OPTIONAL_TEST_IMPORTS = {"vllm": "tests/providers/test_config.py checks both cases"}


def test_the_dev_extra_installs_everything_the_tests_import() -> None:
    # `pip install -e '.[dev]' && pytest` on a fresh machine must not stop at collection.
    installed = _requirement_names("dependencies") | _requirement_names("dev")
    first_party = {"deluge_ray", "tests"}
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for name in sorted(_top_level_imports(ROOT / "tests")):
        if name in sys.stdlib_module_names or name in first_party or name in OPTIONAL_TEST_IMPORTS:
            continue
        distributions = {_normalise(d) for d in providers.get(name, [name])}
        if not distributions & installed:
            missing[name] = sorted(distributions)
    assert not missing, (
        f"add to the dev extra in pyproject.toml (import -> distribution): {missing}"
    )


def test_the_cluster_extra_brings_ray_job_submission() -> None:
    # `ray job submit` needs Ray's dashboard packages, which plain `ray` does not install.
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^cluster = \["ray\[default\][^"]*"\]$', text, flags=re.M)
    assert "pip install -e '.[cluster]'" in (ROOT / "README.md").read_text()


def _package_dirs() -> set[str]:
    found = set()
    for init in (ROOT / "deluge_ray").rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        found.add(".".join(rel.parts))
    for init in (ROOT / "actors").rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT / "actors")
        found.add(".".join(("deluge_ray", "actors", *rel.parts)).rstrip("."))
    return found


def test_every_package_directory_is_declared() -> None:
    missing = _package_dirs() - _declared_packages()
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_actors_import_as_subpackage_of_deluge_ray() -> None:
    import deluge_ray.actors

    assert Path(deluge_ray.actors.__file__).parent.name == "actors"


def test_py_typed_marker_is_shipped() -> None:
    assert (ROOT / "deluge_ray" / "py.typed").exists()
