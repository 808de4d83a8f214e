"""Progress displays fed by a :class:`StatusTracker`: rich, tqdm, manual, or none.

The engine calls :meth:`ProgressDisplay.refresh` whenever a batch of results arrives; each
display renders the tracker's current snapshot. In a Jupyter kernel, rich and tqdm draw
their live bars with ipywidgets (the ``notebook`` extra); without it they would print
"install ipywidgets" instead of a bar, so there a text bar is drawn in one output of the
cell that opened it (an IPython display handle, updated in place) instead. Updates go to
that output by its id, and a closed display never updates again, so nothing of a closed
client's display ever appears in a later cell. ``"manual"`` prints one line every 30 s
from a daemon thread (for logs and CI, where live bars turn into noise), skipping the
line when the client is idle and nothing changed since the last one.

    >>> from deluge_ray.client._tracker import StatusTracker
    >>> t = StatusTracker(1000, 100_000, 10)
    >>> d = make_display("manual", t, enabled=False)   # show_progress=False: shows nothing
    >>> d.start(); d.refresh(); d.close()
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from ._tracker import StatusTracker, TrackerSnapshot

__all__ = ["MANUAL_INTERVAL_S", "ProgressDisplay", "in_notebook", "make_display", "status_line"]

ProgressStyle = Literal["rich", "tqdm", "manual"]
MANUAL_INTERVAL_S = 30.0
# Live displays redraw at most this often, however fast results arrive.
_MIN_REDRAW_S = 0.1


def status_line(s: TrackerSnapshot) -> str:
    """One line: done/total, in flight, capacity and which limit binds, tokens and cost."""
    binding = s.binding_limit()
    return (
        f"{s.completed}/{s.total} done ({s.failed} failed), {s.in_flight} in flight "
        f"[limits {s.max_requests_per_minute:,} rpm, {s.max_tokens_per_minute:,} tpm, "
        f"{s.max_concurrent_requests} concurrent{'; ' + binding if binding else ''}], "
        f"tokens {s.input_tokens:,} in / {s.output_tokens:,} out, "
        f"429s {s.rate_limit_errors}, ${s.cost:.4f}"
    )


def _rate_field(s: TrackerSnapshot) -> str:
    """The limits part of a live bar; when tokens bind it says so and shows the real pace."""
    pace = s.pace
    if pace is not None and pace.binding == "tokens":
        return (
            f"tokens bind: ~{pace.requests_per_minute:,.0f} of "
            f"{s.max_requests_per_minute:,} rpm ({s.max_tokens_per_minute:,} tpm)"
        )
    return f"{s.max_requests_per_minute:,} rpm {s.max_tokens_per_minute:,} tpm"


class ProgressDisplay:
    """No display at all; the base of the real ones (``show_progress=False``)."""

    def __init__(self, tracker: StatusTracker) -> None:
        self._tracker = tracker

    def start(self) -> None:
        """Begin showing progress."""

    def refresh(self) -> None:
        """Redraw from the tracker's current counters."""

    def close(self) -> None:
        """Stop the display (totals are printed by the client, not here)."""


class _RichDisplay(ProgressDisplay):
    def __init__(self, tracker: StatusTracker) -> None:
        super().__init__(tracker)
        self._progress = None
        self._task_id = None
        self._last_redraw = 0.0

    def start(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn(f"[bold]{self._tracker.client_name}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            transient=False,
        )
        self._task_id = self._progress.add_task("", total=None, stats="")
        self._progress.start()
        self._last_redraw = 0.0
        self.refresh()

    def refresh(self) -> None:
        if self._progress is None:
            return
        now = time.monotonic()
        if now - self._last_redraw < _MIN_REDRAW_S:
            return
        self._last_redraw = now
        s = self._tracker.snapshot()
        stats = (
            f"{s.in_flight} in flight | {_rate_field(s)} | "
            f"{s.input_tokens:,}→{s.output_tokens:,} tok"
            f" | 429s {s.rate_limit_errors} | ${s.cost:.4f}"
        )
        self._progress.update(self._task_id, total=s.total, completed=s.completed, stats=stats)

    def close(self) -> None:
        if self._progress is not None:
            self._last_redraw = 0.0
            self.refresh()
            self._progress.stop()
            self._progress = None


class _TqdmDisplay(ProgressDisplay):
    def __init__(self, tracker: StatusTracker) -> None:
        super().__init__(tracker)
        self._bar = None

    def start(self) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=self._tracker.snapshot().total, desc=self._tracker.client_name)

    def refresh(self) -> None:
        if self._bar is None:
            return
        s = self._tracker.snapshot()
        self._bar.total = s.total
        self._bar.n = s.completed
        postfix = f"{s.in_flight} in flight, ${s.cost:.4f}"
        if s.pace is not None and s.pace.binding == "tokens":
            postfix += f", {_rate_field(s)}"
        self._bar.set_postfix_str(postfix, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self.refresh()
            self._bar.close()
            self._bar = None


class _ManualDisplay(ProgressDisplay):
    def __init__(self, tracker: StatusTracker, interval_s: float = MANUAL_INTERVAL_S) -> None:
        super().__init__(tracker)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_printed: tuple[int, ...] | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._print_periodically, name="deluge-ray-progress", daemon=True
        )
        self._thread.start()

    def _print_periodically(self) -> None:
        # Event.wait doubles as the interval timer and wakes at once on close().
        while not self._stop.wait(self._interval_s):
            self._tick()

    def _tick(self) -> None:
        """Print the status line, unless the client is idle and nothing changed.

        A display opened by ``start_nowait`` lives until ``close()``; between batches the
        same numbers every 30 s would only bury the log. While requests are in flight a
        line is printed even when unchanged: it shows the job is alive.
        """
        s = self._tracker.snapshot()
        state = (s.total, s.completed, s.failed, s.in_flight)
        if s.in_flight == 0 and state == self._last_printed:
            return
        self._last_printed = state
        print(f"[{self._tracker.client_name}] {status_line(s)}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class _NotebookDisplay(ProgressDisplay):
    """A text bar in one output of the cell that opened it, updated in place.

    ``show`` is IPython's ``display`` (injectable for tests): called once with
    ``display_id=True``, it returns the handle every later update goes through.
    """

    WIDTH = 30

    def __init__(self, tracker: StatusTracker, show: Callable[..., Any] | None = None) -> None:
        super().__init__(tracker)
        self._show = show
        self._handle: Any = None
        self._last_redraw = 0.0

    def start(self) -> None:
        show = self._show
        if show is None:
            from IPython.display import display as show
        self._handle = show({"text/plain": self._line()}, raw=True, display_id=True)
        self._last_redraw = time.monotonic()

    def _line(self) -> str:
        s = self._tracker.snapshot()
        done = min(1.0, s.completed / s.total) if s.total else 0.0
        filled = round(done * self.WIDTH)
        return (
            f"{self._tracker.client_name} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{s.completed}/{s.total} | {s.in_flight} in flight | {_rate_field(s)} | "
            f"429s {s.rate_limit_errors} | ${s.cost:.4f}"
        )

    def refresh(self, force: bool = False) -> None:
        if self._handle is None:  # closed (or never started): never draws again
            return
        now = time.monotonic()
        if not force and now - self._last_redraw < _MIN_REDRAW_S:
            return
        self._last_redraw = now
        self._handle.update({"text/plain": self._line()}, raw=True)

    def close(self) -> None:
        if self._handle is not None:
            self.refresh(force=True)
            self._handle = None


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (where output goes to a cell)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _widgets_available() -> bool:
    return importlib.util.find_spec("ipywidgets") is not None


def make_display(
    style: ProgressStyle,
    tracker: StatusTracker,
    *,
    enabled: bool,
    notebook: bool | None = None,
    widgets: bool | None = None,
) -> ProgressDisplay:
    """The display for ``progress=style``; a silent one when ``enabled`` is false.

    ``notebook`` (are we in a Jupyter kernel?) and ``widgets`` (is ipywidgets installed?)
    are found out when not given: rich and tqdm without ipywidgets in a notebook become
    the in-place text bar (see the module docstring).
    """
    if not enabled:
        return ProgressDisplay(tracker)
    if style in ("rich", "tqdm"):
        notebook = in_notebook() if notebook is None else notebook
        if notebook and not (_widgets_available() if widgets is None else widgets):
            return _NotebookDisplay(tracker)
    if style == "rich":
        return _RichDisplay(tracker)
    if style == "tqdm":
        return _TqdmDisplay(tracker)
    if style == "manual":
        return _ManualDisplay(tracker)
    raise ValueError(f"progress must be 'rich', 'tqdm' or 'manual', got {style!r}")
