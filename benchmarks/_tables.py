"""Rendering helpers: Markdown tables, number formatting, ratios and the rate plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "cpu_breakdown_table",
    "fmt",
    "limit_rows",
    "md_table",
    "per_request",
    "plot_rates",
    "ratio",
    "side_notes",
]

PLOTS_DIR = Path(__file__).resolve().parent / "plots"


def plot_rates(
    name: str,
    title: str,
    curves: dict[str, list[dict[str, Any]]],
    limit_rps: float,
) -> Path | None:
    """A PNG of served requests/s per client over time, with the limit as a dashed line.

    When any client drew 429s, a second panel below shows 429s per second (on its own
    scale: a bursting client draws far more refusals than the limit's rate). Returns
    ``None`` (and the report says so) when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    PLOTS_DIR.mkdir(parents=True, exist_ok=True)
    refusals = any(row["rate_limited"] for series in curves.values() for row in series)
    if refusals:
        fig, (top, bottom) = plt.subplots(
            2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
        )
    else:
        fig, top = plt.subplots(figsize=(9, 4.5))
        bottom = None
    peak = limit_rps
    for index, (label, series) in enumerate(curves.items()):
        xs = [row["t"] for row in series]
        served = [row["accepted"] for row in series]
        peak = max([peak, *served])
        top.plot(xs, served, color=f"C{index}", marker=".", label=label)
        if bottom is not None:
            bottom.plot(xs, [row["rate_limited"] for row in series], color=f"C{index}", label=label)
    top.axhline(limit_rps, color="black", linestyle="--", linewidth=1, label="limit")
    top.set_ylabel("served requests / s")
    top.set_ylim(0, peak * 1.25)
    top.set_title(title)
    top.legend(loc="lower center", fontsize=8)
    top.grid(alpha=0.3)
    last = bottom if bottom is not None else top
    if bottom is not None:
        bottom.set_ylabel("429s / s")
        bottom.set_ylim(bottom=0)
        bottom.legend(loc="upper right", fontsize=8)
        bottom.grid(alpha=0.3)
    last.set_xlabel("seconds since the batch started (counts at the mock)")
    path = PLOTS_DIR / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def ratio(ours: float | None, theirs: float | None, digits: int = 2) -> str:
    """``ours / theirs`` as text (``n/a`` when either is missing or zero)."""
    if not ours or not theirs:
        return "n/a"
    return f"{ours / theirs:.{digits}f}x"


def fmt(value: Any, digits: int = 1) -> str:
    """A number for a table cell (``n/a`` for None)."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cpu_breakdown_table(
    ours_side: dict[str, Any], theirs_side: dict[str, Any], n: int, unit: str
) -> str | None:
    """CPU ms per 1,000 ``unit`` (requests, model calls), process by process (``/proc``)."""
    ours = ours_side.get("cpu_by_process_s") or {}
    theirs = theirs_side.get("cpu_by_process_s") or {}
    labels = sorted(set(ours) | set(theirs), key=lambda k: -(ours.get(k, 0) + theirs.get(k, 0)))
    if not labels or not n:
        return None
    per_thousand = 1_000_000.0 / n  # seconds spent on n units -> ms per 1,000 units

    def cell(table: dict[str, float], key: str) -> Any:
        return round(table[key] * per_thousand, 1) if key in table else "-"

    rows = [[label, cell(ours, label), cell(theirs, label)] for label in labels]
    return md_table([f"CPU ms per 1,000 {unit}, by process", "deluge_ray", "lm-deluge"], rows)


def per_request(value: float | None) -> str:
    """A small ratio such as limiter calls per request, to three decimals."""
    return "n/a" if value is None else f"{value:.3f}"


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(fmt(c) for c in row) + " |")
    return "\n".join(lines)


def limit_rows(
    dr: dict[str, Any], lm: dict[str, Any], *, scope: str, target: str
) -> list[list[Any]]:
    """The rows both rate-limit benchmarks open their table with (served rate, % of limit).

    ``scope`` prefixes the labels ("" or "combined "); ``target`` is the pass mark shown.
    """
    return [
        [
            f"{scope}steady-state served rate (req/s)",
            dr["steady_rps"],
            lm["steady_rps"],
            ratio(dr["steady_rps"], lm["steady_rps"]),
        ],
        [
            f"{scope}steady-state, % of limit (target {target})",
            dr["steady_pct_of_limit"],
            lm["steady_pct_of_limit"],
            "",
        ],
        [
            "whole batch incl. ramp-up, % of limit",
            dr["whole_batch_pct_of_limit"],
            lm["whole_batch_pct_of_limit"],
            "",
        ],
    ]


def side_notes(dr: dict[str, Any], lm: dict[str, Any]) -> list[str]:
    """A "Note (client): ..." line for each side that recorded one."""
    return [
        f"\nNote ({name}): {side['note']}."
        for name, side in (("deluge_ray", dr), ("lm-deluge", lm))
        if side.get("note")
    ]
