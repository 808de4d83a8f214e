"""The machine-wide head's idle rule in virtual time, its settings and its state files
(issue 15, items 1 and 7). No Ray and no process is started here."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from deluge_ray.client._head_idle import IdleRule, poll_interval, watch_until_idle
from deluge_ray.client._head_settings import (
    head_state_dir,
    local_mode,
    parse_idle_timeout,
    ray_temp_dir_for,
)
from deluge_ray.client._head_state import (
    HeadRecord,
    join_marker_time,
    pid_alive,
    process_start_ticks,
    read_record,
    record_alive,
    remove_record,
    state_lock,
    touch_join_marker,
    write_record,
)
from deluge_ray.errors import ConfigurationError


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_head_stops_only_after_a_whole_timeout_with_no_driver():
    clock = Clock()
    rule = IdleRule(600, clock=clock)
    clock.now += 599
    rule.observe(drivers=0)
    assert not rule.should_stop()  # a new head counts as just used
    clock.now += 1
    assert rule.should_stop()


def test_a_connected_driver_or_a_join_restarts_the_idle_time():
    clock = Clock()
    rule = IdleRule(60, clock=clock)
    clock.now += 50
    rule.observe(drivers=2)  # busy: idle time starts again from here
    clock.now += 59
    rule.observe(drivers=0)
    assert not rule.should_stop() and rule.idle_seconds() == 59
    rule.observe(drivers=0, last_join=clock.now - 5)  # a process announced a join
    clock.now += 10
    assert not rule.should_stop() and rule.idle_seconds() == 15
    rule.observe(drivers=0, last_join=clock.now - 100)  # an old join changes nothing
    clock.now += 45
    assert rule.should_stop()


def test_no_timeout_means_never():
    clock = Clock()
    rule = IdleRule(None, clock=clock)
    clock.now += 10**9
    assert not rule.should_stop()
    assert poll_interval(None) == 2.0
    assert poll_interval(1) == 0.25 and poll_interval(10) == 1.0 and poll_interval(600) == 2.0


def test_the_watch_loop_stops_an_idle_head_in_virtual_time():
    clock = Clock()
    drivers = iter([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        clock.now += seconds

    why = watch_until_idle(
        IdleRule(10, clock=clock),
        count_drivers=lambda: next(drivers),
        last_join=lambda: None,
        timeout_now=lambda: 10,
        head_alive=lambda: True,
        sleep=sleep,
    )
    assert why == "idle"
    # busy for two looks, then 10 s of idleness at one look per second
    assert naps == [1.0] * 11 and clock.now == 1_011.0


def test_the_watch_loop_never_stops_a_head_it_cannot_look_at():
    clock = Clock()
    looks = {"n": 0}

    def unreachable() -> int:
        looks["n"] += 1
        if looks["n"] > 50:
            raise KeyboardInterrupt  # end the test: 50 failed looks did not stop the head
        raise ConnectionError("GCS did not answer")

    with pytest.raises(KeyboardInterrupt):
        watch_until_idle(
            IdleRule(1, clock=clock),
            count_drivers=unreachable,
            last_join=lambda: None,
            timeout_now=lambda: 1,
            head_alive=lambda: True,
            sleep=lambda s: setattr(clock, "now", clock.now + s),
        )
    assert clock.now > 1_010  # well past the timeout, and still watching


def test_the_watch_loop_reads_a_changed_timeout_and_notices_a_gone_head():
    clock = Clock()
    timeouts = iter([None, None, 0.5])
    why = watch_until_idle(
        IdleRule(None, clock=clock),
        count_drivers=lambda: 0,
        last_join=lambda: None,
        timeout_now=lambda: next(timeouts),
        head_alive=lambda: True,
        sleep=lambda s: setattr(clock, "now", clock.now + s),
    )
    assert why == "idle"  # `deluge-ray up --idle-timeout 0.5` on a head that never stopped
    alive = iter([True, False])
    gone = watch_until_idle(
        IdleRule(600, clock=clock),
        count_drivers=lambda: 0,
        last_join=lambda: None,
        timeout_now=lambda: 600,
        head_alive=lambda: next(alive),
        sleep=lambda s: None,
    )
    assert gone == "gone"
    asked = watch_until_idle(
        IdleRule(600, clock=clock),
        count_drivers=lambda: 0,
        last_join=lambda: None,
        timeout_now=lambda: 600,
        head_alive=lambda: True,
        sleep=lambda s: None,
        stop_requested=lambda: True,
    )
    assert asked == "asked"


def test_settings_say_what_was_wrong(monkeypatch, tmp_path):
    monkeypatch.setenv("DELUGE_RAY_LOCAL", "cluster")
    with pytest.raises(ConfigurationError, match=r"DELUGE_RAY_LOCAL='cluster'.*'process'"):
        local_mode()
    monkeypatch.setenv("DELUGE_RAY_LOCAL", " Machine ")
    assert local_mode() == "machine"
    monkeypatch.delenv("DELUGE_RAY_LOCAL")
    assert local_mode() == "machine"  # the default
    with pytest.raises(ConfigurationError, match="DELUGE_RAY_HEAD_IDLE_TIMEOUT='ten'"):
        parse_idle_timeout("ten")
    with pytest.raises(ConfigurationError, match="--idle-timeout='-5'"):
        parse_idle_timeout("-5", source="--idle-timeout")
    assert parse_idle_timeout("0") is None and parse_idle_timeout("never") is None
    assert parse_idle_timeout("") == 600.0 and parse_idle_timeout("2.5") == 2.5
    monkeypatch.setenv("DELUGE_RAY_STATE_DIR", str(tmp_path / "state"))
    assert head_state_dir() == str(tmp_path / "state")
    monkeypatch.delenv("DELUGE_RAY_STATE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert head_state_dir() == str(tmp_path / "xdg" / "deluge_ray" / "head")
    # Ray's temp dir: short (unix socket paths are length-limited), one per state dir.
    monkeypatch.setenv("RAY_TMPDIR", "/tmp")
    a, b = ray_temp_dir_for("/a/state"), ray_temp_dir_for("/b/state")
    assert a != b and a.startswith("/tmp/deluge_ray-") and len(a) < 40


def _record(pid: int, address: str = "127.0.0.1:1") -> HeadRecord:
    return HeadRecord(
        address=address,
        head_pid=pid,
        head_start_ticks=process_start_ticks(pid),
        started_at=1.0,
        idle_timeout_s=600.0,
        ray_temp_dir="/tmp/x",
        python=sys.executable,
    )


def test_a_record_of_a_dead_head_is_not_alive(tmp_path):
    state = str(tmp_path)
    assert read_record(state) is None
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead = _record(int(done.stdout))
    write_record(state, dead)
    assert read_record(state) == dead
    assert not pid_alive(dead.head_pid, dead.head_start_ticks) and not record_alive(dead)
    mine = _record(os.getpid())
    assert pid_alive(mine.head_pid, mine.head_start_ticks)
    assert not pid_alive(mine.head_pid, (mine.head_start_ticks or 0) + 1)  # a recycled pid
    assert not record_alive(mine)  # nothing listens on port 1
    remove_record(state, head_pid=mine.head_pid)  # names another head: left alone
    assert read_record(state) == dead
    remove_record(state)
    assert read_record(state) is None
    (tmp_path / "head.json").write_text("{not json")
    assert read_record(state) is None  # a torn or foreign file reads as "no head"


def test_the_state_lock_excludes_and_the_join_marker_moves(tmp_path):
    state = str(tmp_path)
    assert join_marker_time(state) is None
    inside: list[str] = []
    entered = threading.Event()

    def second() -> None:
        entered.set()
        with state_lock(state):
            inside.append("second")

    with state_lock(state):
        worker = threading.Thread(target=second)
        worker.start()
        entered.wait(10)
        worker.join(0.2)  # it cannot get in while the lock is held
        inside.append("first")
        touch_join_marker(state)
    worker.join(10)
    assert inside == ["first", "second"]
    assert join_marker_time(state) is not None


def test_a_head_that_cannot_start_is_one_clear_error_and_leaves_no_record(tmp_path, monkeypatch):
    from deluge_ray.client import _local_head
    from deluge_ray.errors import RuntimeUnavailableError

    monkeypatch.setenv("DELUGE_RAY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    # The interpreter that would run `ray start` exits at once, as a broken install would.
    monkeypatch.setattr(_local_head.sys, "executable", "/bin/false")
    with pytest.raises(RuntimeUnavailableError) as raised:
        _local_head.ensure_local_head()
    message = str(raised.value)
    assert "Could not start the machine-wide local Ray head" in message
    assert str(tmp_path / "state" / "head.log") in message
    assert "DELUGE_RAY_LOCAL=process" in message and "\n" not in message
    assert read_record(str(tmp_path / "state")) is None
    with state_lock(str(tmp_path / "state")):  # the lock was let go
        pass
