"""Module-level tool functions: importable by name, so tools built from them pickle."""

from __future__ import annotations

import asyncio


def multiply(a: int, b: int = 2) -> int:
    """Multiply two integers."""
    return a * b


async def slow_upper(text: str) -> str:
    """Upper-case a text after yielding to the event loop once."""
    await asyncio.sleep(0)
    return text.upper()
