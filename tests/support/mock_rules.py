"""Script rules for the mock provider that several test modules share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deluge_ray.mock._validate import MockHTTPError


def fail_first(times: int, error: MockHTTPError) -> Callable[[Any], str]:
    """A script rule: raise ``error`` for the first ``times`` requests, then answer."""
    state = {"left": times}

    def rule(view: Any) -> str:
        if state["left"] > 0:
            state["left"] -= 1
            raise error
        return f"ok after errors: {view.last_user_text}"

    return rule
