"""The ToolComposer worker process: runs snippets under resource limits, tools proxied out.

Started by :mod:`._composer_pool` as ``python -I -c BOOT``; it talks to the host over its
stdin/stdout with length-prefixed JSON frames (never pickle: the host must not execute
anything a worker sends). Messages:

- worker → host ``{"t": "ready"}`` once, when it has booted and limited itself
- host → worker ``{"t": "run", "code", "max_steps", "max_tool_calls", "cpu_seconds",
  "tools": {name: [positional params]}}``
- worker → host ``{"t": "call", "id", "name", "kwargs"}``; host → worker
  ``{"t": "reply", "id", "ok", "value" | "error"}``
- worker → host ``{"t": "done", "ok", "printed", "result" | "kind", "message", "retire"}``

The worker limits itself before it reads any job: address space (``RLIMIT_AS``), no core
files, no file writes, and per job a CPU-time limit (``RLIMIT_CPU``, whose ``SIGXCPU``
ends the process). The host enforces the wall clock by killing the process.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import struct
import sys
import threading
from typing import Any, BinaryIO

from ._sandbox import Interpreter, SandboxError, SnippetError, ToolFunction

__all__ = ["encode_frame", "main"]

HEADER = struct.Struct(">I")
MAX_FRAME = 32 * 1024 * 1024  # a frame larger than this is a protocol violation
_RETIRE_RSS_KB = 200 * 1024  # a worker that grew past this is replaced, not reused


def encode_frame(message: dict[str, Any]) -> bytes:
    """``message`` as one frame: 4-byte big-endian length, then compact JSON."""
    body = json.dumps(message, default=_jsonable, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def _jsonable(value: Any) -> Any:
    # Snippet values cross as JSON: sets and tuples become lists, anything else its str().
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _read_frames(stream: BinaryIO, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue) -> None:
    """Reader thread: blocking reads of stdin, each decoded frame handed to the loop."""
    while True:
        header = stream.read(HEADER.size)
        if len(header) < HEADER.size:
            break
        (size,) = HEADER.unpack(header)
        body = stream.read(size) if size <= MAX_FRAME else b""
        if len(body) != size:
            break
        loop.call_soon_threadsafe(inbox.put_nowait, json.loads(body))
    loop.call_soon_threadsafe(inbox.put_nowait, None)  # the host went away


class _Host:
    """The worker's side of the pipe: sends frames, matches replies to tool calls."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 0
        self.flush_scheduled = False

    def send(self, message: dict[str, Any]) -> None:
        """Queue a frame; frames queued in one loop iteration leave in one write.

        So the tool calls a snippet starts together reach the host together, and the host
        starts them together: independent calls overlap even when each is quick.
        """
        self.out.write(encode_frame(message))
        if not self.flush_scheduled:
            self.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write everything queued."""
        self.flush_scheduled = False
        self.out.flush()

    def tool(self, name: str, params: list[str]) -> ToolFunction:
        async def run(**kwargs: Any) -> Any:
            self.next_id += 1
            call_id = self.next_id
            future = asyncio.get_running_loop().create_future()
            self.waiting[call_id] = future
            self.send({"t": "call", "id": call_id, "name": name, "kwargs": kwargs})
            return await future

        return ToolFunction(name, run, tuple(params))

    def reply(self, message: dict[str, Any]) -> None:
        future = self.waiting.pop(message.get("id"), None)
        if future is None or future.done():
            return
        if message.get("ok"):
            future.set_result(message.get("value"))
        else:
            # A SnippetError passes through the interpreter unchanged: the model sees this.
            future.set_exception(SnippetError(str(message.get("error"))))


def _limit_cpu(seconds: float) -> None:
    """Let this job use ``seconds`` more CPU time; past it the kernel sends SIGXCPU."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


async def _run_job(host: _Host, job: dict[str, Any]) -> dict[str, Any]:
    _limit_cpu(float(job["cpu_seconds"]))
    functions = {name: host.tool(name, params) for name, params in job["tools"].items()}
    interpreter = Interpreter(
        functions, max_steps=int(job["max_steps"]), max_tool_calls=int(job["max_tool_calls"])
    )
    retire = False
    try:
        printed, result, has_result = await interpreter.run(job["code"])
        text = None
        if has_result:
            text = result if isinstance(result, str) else json.dumps(result, default=str)
        reply: dict[str, Any] = {"t": "done", "ok": True, "printed": printed, "result": text}
    except SandboxError as exc:
        reply = {"t": "done", "ok": False, "kind": "sandbox", "message": str(exc)}
    except (SnippetError, RecursionError, MemoryError) as exc:
        retire = "MemoryError" in str(exc) or isinstance(exc, MemoryError)
        message = str(exc) if isinstance(exc, SnippetError) else f"{type(exc).__name__}"
        reply = {"t": "done", "ok": False, "kind": "snippet", "message": message}
    del interpreter, functions
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reply["retire"] = retire or rss_kb > _RETIRE_RSS_KB
    return reply


async def _serve(memory_mb: int) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    # The protocol owns the real stdout; anything else that writes goes to stderr.
    out = os.fdopen(os.dup(1), "wb", buffering=1 << 16)  # flushed by _Host.flush
    os.dup2(2, 1)
    threading.Thread(target=_read_frames, args=(sys.stdin.buffer, loop, inbox), daemon=True).start()
    _set_limits(memory_mb)
    host = _Host(out)
    host.send({"t": "ready"})  # the host starts a snippet's clock only after this
    job_task: asyncio.Task[dict[str, Any]] | None = None

    def finished(task: asyncio.Task[dict[str, Any]]) -> None:
        try:
            reply = task.result()
        except BaseException as exc:  # anything unforeseen ends the worker
            reply = {
                "t": "done",
                "ok": False,
                "kind": "snippet",
                "retire": True,
                "message": f"the worker failed: {type(exc).__name__}",
            }
        host.send(reply)
        if reply.get("retire"):
            host.flush()
            os._exit(0)

    while True:
        message = await inbox.get()
        if message is None:
            return
        if message.get("t") == "run" and (job_task is None or job_task.done()):
            job_task = asyncio.ensure_future(_run_job(host, message))
            job_task.add_done_callback(finished)
        elif message.get("t") == "reply":
            host.reply(message)


def _set_limits(memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    """Entry point of a worker process: ``argv[2]`` is the address-space limit in MiB."""
    sys.setrecursionlimit(2000)
    asyncio.run(_serve(int(sys.argv[2])))
