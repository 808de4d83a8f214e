"""Two-column summary tables, the one way ``run``, ``run --dry-run`` and ``demo`` print results."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["print_table"]


def print_table(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """Print ``rows`` of (label, value) under ``title`` as a rich table on stdout.

    Values are right-aligned so columns of numbers line up; the test suite reads these
    tables back, so the label column must stay the first one.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)
