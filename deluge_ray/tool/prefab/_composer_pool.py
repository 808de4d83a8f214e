"""Pooled worker processes that run ToolComposer snippets outside the host process.

A snippet runs in a child interpreter (:mod:`._composer_worker`) with an address-space
limit and a CPU-time limit; the host kills it when the wall-clock timeout passes. So a
memory or CPU bomb costs the child, never the host's memory or event loop. The snippet's
tool calls come back over the pipe and run here, as tasks on the caller's loop, so tools
keep running where they live and independent calls still overlap.

Workers are started with ``subprocess`` (fork+exec in C, no Python runs in the child before
exec), so it is safe from a process that has Ray's threads running. Idle workers are kept
for reuse: a warm snippet costs a few milliseconds, not an interpreter start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._composer_worker import HEADER, MAX_FRAME, encode_frame
from ._sandbox import ToolFunction
from ._sandbox_lib import SnippetError

__all__ = ["Limits", "run_snippet", "shutdown_pool"]

# The worker imports only the sandbox modules: stub packages stand in for deluge_ray's
# __init__ files, which would import Ray and the client (half a second, hundreds of MiB).
_BOOT = """
import os, sys, types
root = sys.argv[1]
for name in ("deluge_ray", "deluge_ray.tool", "deluge_ray.tool.prefab"):
    module = types.ModuleType(name)
    module.__path__ = [os.path.join(root, *name.split("."))]
    sys.modules[name] = module
from deluge_ray.tool.prefab._composer_worker import main
main()
"""
_PACKAGE_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
)
_MAX_IDLE = 4
_BOOT_TIMEOUT = 60.0  # a worker boots in ~0.1 s; minutes only on a badly overloaded host


@dataclass(frozen=True)
class Limits:
    """What one snippet may use: steps, tool calls, CPU seconds, MiB, wall-clock seconds."""

    max_steps: int
    max_tool_calls: int
    cpu_seconds: float
    memory_mb: int
    timeout: float | None


class _Worker:
    """One child process and the host's end of its pipes."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, _PACKAGE_ROOT, str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},  # no API keys or other secrets in the child's environment
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.fd = self.proc.stdout.fileno()
        self.in_fd = self.proc.stdin.fileno()
        os.set_blocking(self.fd, False)
        os.set_blocking(self.in_fd, False)
        self.buffer = bytearray()  # bytes read, not yet a whole frame
        self.pending = bytearray()  # bytes to write, not yet taken by the pipe
        self.writing = False  # whether the loop watches in_fd for room
        self.ready = False  # set once its "ready" frame has been read

    def send(self, message: dict[str, Any]) -> None:
        """Queue a frame and write what the pipe takes now; the loop writes the rest.

        Never blocks: a worker busy in one long C call (holding its GIL) reads nothing for
        a while, and a blocking write of a large tool result would freeze the host's loop.
        """
        self.pending += encode_frame(message)
        self.flush()

    def flush(self) -> None:
        """Write queued bytes until the pipe is full; ask the loop to call again if so."""
        while self.pending:
            try:
                written = os.write(self.in_fd, self.pending)
            except BlockingIOError:
                break
            except OSError:
                self.pending.clear()  # the worker is gone; its death is reported elsewhere
                break
            del self.pending[:written]
        loop = asyncio.get_running_loop()
        if self.pending and not self.writing:
            loop.add_writer(self.in_fd, self.flush)
            self.writing = True
        elif not self.pending and self.writing:
            loop.remove_writer(self.in_fd)
            self.writing = False

    def on_readable(self, inbox: asyncio.Queue[Any]) -> None:
        """Loop reader callback: decode whole frames; ``None`` when the worker is gone."""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            asyncio.get_running_loop().remove_reader(self.fd)
            inbox.put_nowait(None)
            return
        self.buffer += chunk
        while len(self.buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.buffer)
            if size > MAX_FRAME:
                self.kill()
                return
            if len(self.buffer) < HEADER.size + size:
                break
            body = bytes(self.buffer[HEADER.size : HEADER.size + size])
            del self.buffer[: HEADER.size + size]
            try:
                inbox.put_nowait(json.loads(body))
            except ValueError:
                self.kill()
                return

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    def close(self) -> None:
        """Kill and reap without blocking the loop for long (the child dies at once)."""
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=1.0)


class _Pool:
    """Idle workers per memory limit; a spare is started whenever the last one is taken."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # snippets may run on several loops in several threads
        self.idle: dict[int, list[_Worker]] = {}

    def take(self, memory_mb: int) -> _Worker | None:
        """An idle worker, or ``None``; the last one taken gets a spare booting behind it."""
        with self.lock:
            idle = self.idle.setdefault(memory_mb, [])
            worker = idle.pop() if idle else None
            spare = not idle
        if spare:
            self.replace(memory_mb)
        return worker

    def replace(self, memory_mb: int) -> None:
        """Boot a worker into the idle list off the caller's thread (fork+exec of a large
        host takes milliseconds the event loop should not spend)."""
        threading.Thread(target=self._add, args=(memory_mb,), daemon=True).start()

    def _add(self, memory_mb: int) -> None:
        worker = _Worker(memory_mb)
        with self.lock:
            idle = self.idle.setdefault(memory_mb, [])
            if len(idle) < _MAX_IDLE:
                idle.append(worker)
                return
        worker.close()

    def give_back(self, worker: _Worker) -> None:
        with self.lock:
            idle = self.idle.setdefault(worker.memory_mb, [])
            if len(idle) < _MAX_IDLE and worker.proc.poll() is None:
                idle.append(worker)
                return
        worker.close()

    def shutdown(self) -> None:
        with self.lock:
            workers = [w for idle in self.idle.values() for w in idle]
            self.idle.clear()
        for worker in workers:
            worker.close()


_POOL = _Pool()


def shutdown_pool() -> None:
    """Stop every idle worker (they also end with the host: their stdin closes)."""
    _POOL.shutdown()


async def run_snippet(
    code: str, functions: Mapping[str, ToolFunction], limits: Limits
) -> dict[str, Any]:
    """Run ``code`` in a pooled worker; return its ``done`` message.

    Raises :class:`SnippetError` when the worker is killed (timeout) or dies (memory or
    CPU limit); the worker is then discarded, never reused.
    """
    worker = _POOL.take(limits.memory_mb) or await asyncio.to_thread(_Worker, limits.memory_mb)
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()
    clean = False
    loop.add_reader(worker.fd, worker.on_readable, inbox)
    try:
        if not worker.ready:
            # Boot time is not the snippet's: its timeout starts once the worker is up.
            try:
                hello = await asyncio.wait_for(inbox.get(), timeout=_BOOT_TIMEOUT)
            except asyncio.TimeoutError:
                hello = None
            if not isinstance(hello, dict) or hello.get("t") != "ready":
                raise SnippetError("the snippet's worker process did not start; try again.")
            worker.ready = True
        worker.send(
            {
                "t": "run",
                "code": code,
                "max_steps": limits.max_steps,
                "max_tool_calls": limits.max_tool_calls,
                "cpu_seconds": limits.cpu_seconds,
                "tools": {name: list(f.params) for name, f in functions.items()},
            }
        )
        serve = _serve(worker, inbox, functions, limits.max_tool_calls, tasks)
        try:
            done = await asyncio.wait_for(serve, timeout=limits.timeout)
        except asyncio.TimeoutError:
            raise SnippetError(
                f"the snippet did not finish within {limits.timeout} seconds and was stopped."
            ) from None
        if done is None:
            raise SnippetError(await _death_message(worker, limits))
        clean = not done.get("retire")
        return done
    except (BrokenPipeError, ConnectionResetError):
        raise SnippetError(await _death_message(worker, limits)) from None
    finally:
        with contextlib.suppress(ValueError, OSError):
            loop.remove_reader(worker.fd)
            loop.remove_writer(worker.in_fd)
        worker.writing = False
        for task in tasks:
            task.cancel()
        if clean and not worker.pending:
            _POOL.give_back(worker)
        else:
            # Killed at once; reaped off the loop (tearing down a large process takes a
            # while, and the model's answer need not wait for it).
            worker.kill()
            threading.Thread(target=worker.close, daemon=True).start()
            _POOL.replace(worker.memory_mb)  # so the next snippet finds a warm worker


async def _death_message(worker: _Worker, limits: Limits) -> str:
    worker.kill()
    try:
        code = await asyncio.to_thread(worker.proc.wait, 1.0)
    except subprocess.TimeoutExpired:
        code = None
    if code == -signal.SIGXCPU:
        return f"the snippet used more than {limits.cpu_seconds} seconds of CPU and was stopped."
    return (
        "the snippet's worker process ended (it used more than the "
        f"{limits.memory_mb} MiB memory limit, or crashed); simplify the snippet."
    )


async def _serve(
    worker: _Worker,
    inbox: asyncio.Queue[Any],
    functions: Mapping[str, ToolFunction],
    max_tool_calls: int,
    tasks: set[asyncio.Task[None]],
) -> dict[str, Any] | None:
    """Answer the worker's tool calls until its ``done`` message (``None``: it died)."""
    calls = 0
    while True:
        message = await inbox.get()
        if message is None or not isinstance(message, dict):
            return None
        if message.get("t") == "done":
            return message
        if message.get("t") != "call":
            continue
        calls += 1
        # The worker enforces these too; the host re-checks because the worker is untrusted.
        function = functions.get(str(message.get("name")))
        kwargs = message.get("kwargs")
        if function is None or not isinstance(kwargs, dict) or calls > max_tool_calls:
            worker.send(
                {
                    "t": "reply",
                    "id": message.get("id"),
                    "ok": False,
                    "error": f"tool call refused: {str(message.get('name'))[:80]!r}",
                }
            )
            continue
        task = asyncio.ensure_future(_call(worker, function, message.get("id"), kwargs))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


async def _call(worker: _Worker, function: ToolFunction, call_id: Any, kwargs: dict) -> None:
    try:
        value = await function.run(**kwargs)
        reply = {"t": "reply", "id": call_id, "ok": True, "value": value}
    except Exception as exc:
        reply = {
            "t": "reply",
            "id": call_id,
            "ok": False,
            "error": f"tool {function.name!r} failed: {type(exc).__name__}: {exc}",
        }
    with contextlib.suppress(BrokenPipeError, ConnectionResetError, ValueError, OSError):
        worker.send(reply)
