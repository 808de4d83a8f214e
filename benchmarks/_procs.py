"""Process instrumentation for the benchmarks: peak memory, process trees, CPU by process.

Memory: a driver's peak is the kernel's high-water mark (``VmHWM`` in
``/proc/self/status``, else ``resource.getrusage``), exact rather than sampled; the peak
of a whole process tree (a driver plus the Ray processes an embedded ``ray.init()``
starts) is sampled with psutil when it is installed, else from ``/proc``. CPU: per process
from ``/proc/<pid>/stat``, sampled (see :class:`CpuTracker`).
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from pathlib import Path

__all__ = ["CpuTracker", "TreeMemorySampler", "peak_rss_mb_self", "tree_rss_kb"]


def _status_kb(pid: int | str, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def peak_rss_mb_self() -> float:
    """This process's peak resident memory in MiB (the kernel's high-water mark)."""
    kb = _status_kb("self", "VmHWM")
    if kb is None:
        # ru_maxrss is KiB on Linux and bytes on macOS.
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if sys.platform == "darwin":
            kb //= 1024
    return round(kb / 1024, 1)


def _tree_pids(root: int) -> set[int]:
    """``root`` and every live descendant of it (from ``/proc``)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                # The command name may contain spaces or parentheses: split after the last ')'.
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return tree


def tree_rss_kb(root: int) -> tuple[int, int]:
    """(RSS of ``root``, RSS of ``root`` and all its descendants), in KiB."""
    try:
        import psutil  # optional: only used when installed

        proc = psutil.Process(root)
        own = proc.memory_info().rss // 1024
        total = own
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss // 1024
            except psutil.Error:
                pass
        return own, total
    except ImportError:
        pass
    except Exception:
        return 0, 0
    own = _status_kb(root, "VmRSS") or 0
    total = sum(_status_kb(pid, "VmRSS") or 0 for pid in _tree_pids(root))
    return own, total


def _process_label(pid: int) -> str:
    """A short name: Ray sets worker titles such as ``ray::ProviderCaller.run_batch``."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        argv = [b""]
    first = argv[0].decode(errors="replace").strip()
    if not first:
        # An exiting process has no command line left; its 15-character name remains.
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
                first = fh.read().strip()
        except OSError:
            return "?"
    if first.startswith("ray::"):
        return first.split(".")[0].split()[0]
    # By the executable's own name: raylet and gcs_server live under .../python3.11/...
    if Path(first).name.startswith("python"):
        script = next((a.decode(errors="replace") for a in argv[1:] if a.endswith(b".py")), "")
        return Path(script).name or "python"
    return Path(first).name or "?"


def _cpu_seconds(pid: int, ticks: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, IndexError, ValueError):
        return None


class CpuTracker(threading.Thread):
    """CPU seconds (user + system) spent during a stretch of work, process by process.

    ``roots`` names processes (``{"driver": pid, "mock": pid}``); each root and all its
    descendants are sampled every ``interval`` seconds, so a process that starts and ends
    within the stretch (an actor killed at the end) is counted up to its last sample.
    :meth:`stop` returns ``{label: seconds}``: ``<root>`` for a root itself and
    ``<root>/<process label>`` for descendants with the same label, summed. Linux only
    (empty elsewhere).

    >>> tracker = CpuTracker({"driver": os.getpid()}); tracker.start()   # doctest: +SKIP
    >>> spent = tracker.stop()                                            # doctest: +SKIP
    """

    def __init__(self, roots: dict[str, int], interval: float = 0.5) -> None:
        super().__init__(name="bench-cpu", daemon=True)
        self.roots = roots
        self.interval = interval
        self.enabled = os.path.isdir("/proc")
        self._ticks = os.sysconf("SC_CLK_TCK") if self.enabled else 100
        self._baseline: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._labels: dict[int, str] = {}
        self._halt = threading.Event()
        self._lock = threading.Lock()
        if self.enabled:
            self._baseline = dict(self._sample())

    def _sample(self) -> list[tuple[int, float]]:
        seen = []
        for name, root in self.roots.items():
            for pid in _tree_pids(root):
                used = _cpu_seconds(pid, self._ticks)
                if used is None:
                    continue
                if pid == root:
                    self._labels[pid] = name
                else:
                    # Refreshed every sample: a pre-started Ray worker is "ray::IDLE" until
                    # it becomes an actor, and an exiting one has no name left ("?").
                    label = _process_label(pid)
                    if label != "?" or pid not in self._labels:
                        self._labels[pid] = f"{name}/{label}"
                seen.append((pid, used))
        with self._lock:
            self._last.update(seen)
        return seen

    def run(self) -> None:
        while self.enabled and not self._halt.wait(self.interval):
            self._sample()

    def stop(self) -> dict[str, float]:
        if not self.enabled:
            return {}
        self._sample()
        self._halt.set()
        if self.is_alive():
            self.join(timeout=5)
        out: dict[str, float] = {}
        with self._lock:
            for pid, used in self._last.items():
                spent = used - self._baseline.get(pid, 0.0)
                if spent > 0:
                    label = self._labels[pid]
                    out[label] = out.get(label, 0.0) + spent
        return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


class TreeMemorySampler(threading.Thread):
    """Samples a process and its descendants every ``interval`` s; keeps the peaks (MiB)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(name=f"bench-mem-{pid}", daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_own_mb = 0.0
        self.peak_tree_mb = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            own, total = tree_rss_kb(self.pid)
            self.peak_own_mb = max(self.peak_own_mb, own / 1024)
            self.peak_tree_mb = max(self.peak_tree_mb, total / 1024)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
