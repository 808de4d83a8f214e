"""StatusTracker counters and the progress displays, without Ray."""

from __future__ import annotations

import threading

from deluge_ray.client._progress import ProgressDisplay, make_display, status_line
from deluge_ray.client._tracker import StatusTracker


def make_tracker() -> StatusTracker:
    return StatusTracker(600, 60_000, 8, client_name="unit")


def test_counts_successes_failures_tokens_and_cost():
    t = make_tracker()
    t.add_to_total(4)
    t.record_attempts(requests_sent=3, rate_limited=1, retries=2)
    t.record_result(succeeded=True, input_tokens=10, output_tokens=4, cache_read_tokens=2, cost=0.5)
    t.record_result(succeeded=False)
    t.record_result(succeeded=True, local_cache_hit=True, input_tokens=99, cost=9.0)
    s = t.snapshot()
    assert (s.total, s.succeeded, s.failed, s.completed) == (4, 2, 1, 3)
    assert (s.requests_sent, s.rate_limit_errors, s.retries) == (3, 1, 2)
    # A local cache hit is counted as done but costs no tokens and no money.
    assert (s.input_tokens, s.output_tokens, s.cache_read_tokens, s.cost) == (10, 4, 2, 0.5)
    assert s.local_cache_hits == 1


def test_final_summary_names_every_total():
    t = make_tracker()
    t.add_to_total(2)
    t.record_attempts(2, 1, 1)
    t.record_result(succeeded=True, input_tokens=1234, output_tokens=56, cost=0.25)
    t.record_result(succeeded=False)
    text = t.final_summary()
    for expected in ("1 succeeded", "1 failed", "of 2", "429", "1,234 in", "56 out", "$0.2500"):
        assert expected in text


def test_counters_are_consistent_under_concurrent_updates():
    t = make_tracker()

    def work():
        for _ in range(2000):
            t.record_result(succeeded=True, input_tokens=1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    s = t.snapshot()
    assert s.succeeded == 8000 and s.input_tokens == 8000


def test_set_limits_shows_in_status_line():
    t = make_tracker()
    t.set_in_flight(5)
    t.set_limits(1200, 90_000, 3)
    line = status_line(t.snapshot())
    assert "5 in flight" in line and "1,200 rpm" in line and "90,000 tpm" in line


def test_disabled_display_prints_nothing(capsys):
    d = make_display("rich", make_tracker(), enabled=False)
    assert type(d) is ProgressDisplay
    d.start()
    d.refresh()
    d.close()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_tqdm_display_tracks_completed_and_total(capsys):
    t = make_tracker()
    d = make_display("tqdm", t, enabled=True)
    d.start()
    t.add_to_total(3)
    t.record_result(succeeded=True)
    d.refresh()
    assert d._bar.total == 3 and d._bar.n == 1
    d.close()
    assert "1/3" in capsys.readouterr().err


def test_rich_display_starts_refreshes_and_stops():
    t = make_tracker()
    d = make_display("rich", t, enabled=True)
    d.start()
    t.add_to_total(2)
    t.record_result(succeeded=True)
    d._last_redraw = 0.0  # redraws are throttled; make this one count
    d.refresh()
    task = d._progress.tasks[0]
    assert (task.total, task.completed) == (2, 1)
    assert "0 in flight" in task.fields["stats"]
    d.close()
    assert d._progress is None


def test_manual_display_prints_a_status_line_each_interval(capsys):
    from deluge_ray.client._progress import _ManualDisplay

    t = make_tracker()
    t.add_to_total(1)
    d = _ManualDisplay(t, interval_s=0.01)
    d.start()
    # Wait on the output itself rather than on time.
    while "0/1 done" not in capsys.readouterr().err:
        pass
    d.close()
    assert d._thread is None


def test_manual_display_stays_quiet_while_idle_and_unchanged(capsys):
    from deluge_ray.client._progress import _ManualDisplay

    t = make_tracker()
    t.add_to_total(2)
    d = _ManualDisplay(t)

    def printed() -> list[str]:
        d._tick()  # what the display's thread does every interval
        return capsys.readouterr().err.splitlines()

    assert len(printed()) == 1  # the first line always
    assert printed() == []  # idle, nothing new: no repeat
    t.set_in_flight(1)
    assert "1 in flight" in printed()[0]
    assert len(printed()) == 1  # in flight: a heartbeat even when unchanged
    t.set_in_flight(0)
    t.record_result(succeeded=True)
    assert "1/2 done" in printed()[0]
    assert printed() == []


def test_display_names_the_token_limit_when_it_binds(capsys):
    # The defaults: 1,000 rpm but 100,000 tpm, and requests of ~15 prompt + 512 new tokens.
    t = StatusTracker(1_000, 100_000, 225, client_name="unit")
    t.add_to_total(2)
    t.record_estimates([527, 527])
    s = t.snapshot()
    assert s.pace is not None and s.pace.binding == "tokens"
    assert round(s.pace.requests_per_minute) == 190
    line = status_line(s)
    assert "tokens bind: ~190 of 1,000 rpm" in line and "~527 tok per request" in line
    assert "pace: tokens bind" in t.final_summary()
    d = make_display("rich", t, enabled=True)
    d.start()
    d.close()
    assert "tokens bind: ~190 of 1,000 rpm" in capsys.readouterr().out


def test_display_names_the_request_limit_when_it_binds():
    t = StatusTracker(100, 100_000, 8, client_name="unit")
    assert t.snapshot().pace is None and "bind" not in status_line(t.snapshot())
    t.record_estimates([527])
    s = t.snapshot()
    assert s.pace.binding == "requests" and "requests bind: 100 rpm" in status_line(s)
    assert "pace:" not in t.final_summary()
    # Raising the token limit (with_limits) changes which limit binds.
    t.set_limits(1_000, 100_000, 8)
    assert t.snapshot().pace.binding == "tokens"
    t.set_limits(1_000, 1_000_000, 8)
    assert t.snapshot().pace.binding == "requests"
