"""The default progress display in a notebook without ipywidgets (issue 15, item 0).

rich and tqdm would print "install ipywidgets" there instead of a bar; deluge_ray draws a
text bar in one output of the opening cell instead, updated in place by its display id,
and a closed display never draws again (so nothing appears in a later cell). The real
kernel's side is checked in ``test_notebook_cold_start.py``.
"""

from __future__ import annotations

import pytest

from deluge_ray.client._progress import _NotebookDisplay, _RichDisplay, make_display
from deluge_ray.client._tracker import StatusTracker


class Handle:
    """What IPython's ``display(..., display_id=True)`` returns: updates go through it."""

    def __init__(self, shown: list[str]) -> None:
        self.shown = shown

    def update(self, data, raw=False):
        assert raw
        self.shown.append(data["text/plain"])


def tracker(total: int) -> StatusTracker:
    t = StatusTracker(1000, 100_000, 10, client_name="tour")
    t.add_to_total(total)
    return t


@pytest.mark.parametrize("style", ["rich", "tqdm"])
def test_a_notebook_without_ipywidgets_gets_the_text_bar(style):
    display = make_display(style, tracker(4), enabled=True, notebook=True, widgets=False)
    assert isinstance(display, _NotebookDisplay)
    with_widgets = make_display("rich", tracker(4), enabled=True, notebook=True, widgets=True)
    outside = make_display("rich", tracker(4), enabled=True, notebook=False)
    assert isinstance(with_widgets, _RichDisplay) and isinstance(outside, _RichDisplay)


def test_the_bar_updates_its_own_output_and_never_draws_after_close(capsys):
    shown: list[str] = []

    def show(data, raw=False, display_id=False):
        assert raw and display_id is True  # one output, addressed by its id from now on
        shown.append(data["text/plain"])
        return Handle(shown)

    t = tracker(4)
    display = _NotebookDisplay(t, show=show)
    display.start()
    for _ in range(4):
        t.record_result(succeeded=True, local_cache_hit=False)
    display.close()
    assert shown[0].startswith("tour [") and "0/4" in shown[0]
    assert "4/4" in shown[-1] and "#" * _NotebookDisplay.WIDTH in shown[-1]
    drawn = len(shown)
    display.refresh(force=True)  # a late refresh, e.g. from the engine loop
    display.close()
    assert len(shown) == drawn
    assert capsys.readouterr() == ("", "")  # nothing printed: no warning, no stray line
