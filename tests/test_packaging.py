"""The distribution installs every package directory, including actors/ as deluge_ray.actors."""

from __future__ import annotations

import re
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
