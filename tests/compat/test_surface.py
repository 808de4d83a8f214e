"""Every public name of lm-deluge 0.0.168 in scope exists at the same path in deluge_ray.

"Public" is a module's ``__all__`` when it has one, otherwise the classes and functions the
module defines itself. A name passes when deluge_ray has it at the same dotted path and,
for callables, accepts every parameter name the 0.0.168 callable accepts (by keyword).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import lm_deluge
import pytest

from ._scope import (
    IN_SCOPE_MODULES,
    KNOWN_GAPS,
    OUT_OF_SCOPE_MODULES,
    OUT_OF_SCOPE_NAMES,
    SIGNATURE_EXEMPT,
)


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and getattr(v, "__module__", None) == module.__name__
        and (inspect.isclass(v) or inspect.isfunction(v))
    ]


def _params(obj) -> tuple[set[str], bool] | None:
    """Keyword-passable parameter names, and whether ``**kwargs`` takes any other."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    names: set[str] = set()
    var_kw = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
            names.add(p.name)
    return names, var_kw


def _problems(suffix: str) -> list[str]:
    oracle = importlib.import_module("lm_deluge" + suffix)
    try:
        ours = importlib.import_module("deluge_ray" + suffix)
    except ImportError as exc:
        return [f"module deluge_ray{suffix} missing ({exc})"]
    out: list[str] = []
    for name in _public_names(oracle):
        if (suffix, name) in OUT_OF_SCOPE_NAMES:
            continue
        if not hasattr(ours, name):
            out.append(f"deluge_ray{suffix}.{name} missing")
            continue
        theirs, mine = getattr(oracle, name), getattr(ours, name)
        if not callable(theirs) or not callable(mine) or (suffix, name) in SIGNATURE_EXEMPT:
            continue
        want, got = _params(theirs), _params(mine)
        if want is None or got is None:
            continue
        lacking = want[0] - got[0]
        if lacking and not got[1]:
            out.append(f"deluge_ray{suffix}.{name} lacks parameters {sorted(lacking)}")
    return out


@pytest.mark.parametrize("suffix", IN_SCOPE_MODULES, ids=lambda s: "lm_deluge" + s)
def test_module_surface_matches_0_0_168(suffix):
    assert _problems(suffix) == KNOWN_GAPS.get(suffix, [])


def test_known_gaps_name_only_walked_modules():
    assert set(KNOWN_GAPS) <= set(IN_SCOPE_MODULES)


def test_every_module_of_the_wheel_is_in_scope_or_excluded_with_a_reason():
    """A module the 0.0.168 wheel has is either walked or listed with why it is not."""
    covered = set(IN_SCOPE_MODULES) | set(OUT_OF_SCOPE_MODULES)
    unaccounted = []
    for info in pkgutil.walk_packages(lm_deluge.__path__, "lm_deluge."):
        suffix = info.name[len("lm_deluge") :]
        parts = suffix.split(".")
        prefixes = {".".join(parts[:i]) for i in range(2, len(parts) + 1)}
        if suffix.split(".")[-1].startswith("_") or prefixes & covered:
            continue
        # Submodules of a walked package (e.g. prompt.serialization) are the package's own
        # implementation; their public names are reached through the walked modules.
        if any(suffix.startswith(c + ".") for c in IN_SCOPE_MODULES if c):
            continue
        unaccounted.append(suffix)
    assert unaccounted == []


def test_out_of_scope_lists_name_real_things():
    """Every exclusion names a module or name the wheel really has (no stale entries)."""
    stale = []
    for suffix, name in OUT_OF_SCOPE_NAMES:
        module = importlib.import_module("lm_deluge" + suffix)
        if name not in _public_names(module):
            stale.append((suffix, name))
    assert stale == []
