"""When an idle local Ray head stops itself: the rule, and the loop that applies it.

The head is *busy* while at least one driver is connected, and at the moment a process
announces that it is about to join (the join marker: a driver is registered with Ray only
once its ``ray.init`` is done). It stops once it has been idle for ``timeout_s`` seconds
without a break; ``timeout_s=None`` never stops it. The rule reads time only through the
injected ``clock`` (wall-clock seconds, the unit of the join marker's file time), so it is
tested in virtual time.

    >>> now = [0.0]
    >>> rule = IdleRule(60, clock=lambda: now[0])
    >>> rule.observe(drivers=1); now[0] = 59; rule.observe(drivers=0); rule.should_stop()
    False
    >>> now[0] = 119.9; rule.should_stop(), round(rule.idle_seconds(), 1)
    (False, 60.9)
    >>> now[0] = 120; rule.should_stop()
    True
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["IdleRule", "poll_interval", "watch_until_idle"]


class IdleRule:
    """Stop after ``timeout_s`` seconds with no driver connected and no process joining."""

    def __init__(self, timeout_s: float | None, *, clock: Callable[[], float]) -> None:
        self.timeout_s = timeout_s
        self._clock = clock
        self._busy_at = clock()  # a new head counts as just used

    def observe(self, drivers: int, last_join: float | None = None) -> None:
        """Take in one look at the head: ``drivers`` connected, the last join time."""
        if drivers > 0:
            self._busy_at = self._clock()
        if last_join is not None and last_join > self._busy_at:
            self._busy_at = last_join

    def idle_seconds(self) -> float:
        """Seconds since the head was last busy."""
        return max(0.0, self._clock() - self._busy_at)

    def should_stop(self) -> bool:
        """Whether the head has been idle for its whole timeout."""
        return self.timeout_s is not None and self.idle_seconds() >= self.timeout_s


def poll_interval(timeout_s: float | None) -> float:
    """How often the watcher looks: a tenth of the timeout, within 0.25 s .. 2 s."""
    if timeout_s is None:
        return 2.0
    return min(2.0, max(0.25, timeout_s / 10))


def watch_until_idle(
    rule: IdleRule,
    *,
    count_drivers: Callable[[], int],
    last_join: Callable[[], float | None],
    timeout_now: Callable[[], float | None],
    head_alive: Callable[[], bool],
    sleep: Callable[[float], None],
    stop_requested: Callable[[], bool] = lambda: False,
) -> str:
    """Poll the head until it should stop; return why: ``"idle"``, ``"gone"`` or ``"asked"``.

    ``timeout_now`` re-reads the timeout each round (``deluge-ray up --idle-timeout``
    changes it on a running head); ``head_alive`` is false once the head exited by itself;
    ``count_drivers`` may raise, which counts as busy (a head is never stopped on a
    failed look).
    """
    while True:
        if stop_requested():
            return "asked"
        if not head_alive():
            return "gone"
        rule.timeout_s = timeout_now()
        try:
            drivers = count_drivers()
        except Exception:
            drivers = 1
        rule.observe(drivers, last_join())
        if rule.should_stop():
            return "idle"
        sleep(poll_interval(rule.timeout_s))
