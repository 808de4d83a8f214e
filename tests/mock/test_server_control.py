"""Starting the mock (async, background thread, CLI), its environment helper and controls."""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from contextlib import redirect_stdout

import openai
import pytest

from deluge_ray._process_gc import SERVER_GC_ENV, YOUNG_THRESHOLD
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import Limits, MockConfig, MockProvider, Reply, cli, use_mock


def _post(url: str, payload: dict, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_background_thread_serves_sync_clients_and_use_mock_restores_env(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-looking-key")
    with MockProvider() as mock:
        with use_mock(mock) as env:
            assert os.environ["OPENAI_BASE_URL"] == mock.openai_base_url
            assert os.environ["ANTHROPIC_BASE_URL"] == mock.url  # the anthropic SDK's form
            assert os.environ["GEMINI_BASE_URL"].endswith("/v1beta")
            assert "OPENAI_API_KEY" not in env  # a set key is left alone
            client = openai.OpenAI()  # reads OPENAI_BASE_URL from the environment
            result = client.chat.completions.create(
                model="gpt-4.1-mini", messages=[{"role": "user", "content": "sync"}]
            )
            assert result.choices[0].message.content == "Mock reply to: sync"
        assert "OPENAI_BASE_URL" not in os.environ
        assert os.environ["OPENAI_API_KEY"] == "sk-real-looking-key"
        assert mock.stats()["requests"] == 1
        mock.reset_stats()
        assert mock.stats()["requests"] == 0


def test_keys_never_appear_in_stats():
    with MockProvider() as mock:
        _post(
            f"{mock.openai_base_url}/chat/completions",
            {"model": "m", "messages": [{"role": "user", "content": "x"}]},
            {"Authorization": "Bearer sk-secret-123"},
        )
        assert "sk-secret-123" not in json.dumps(mock.stats())
        assert next(iter(mock.stats()["by_key"])).startswith("key-")


def test_set_limits_per_model_while_running():
    with MockProvider() as mock:
        mock.set_limits(rpm=60, model="slow")
        headers = {"Authorization": "Bearer k"}
        body = {"messages": [{"role": "user", "content": "x"}]}
        url = f"{mock.openai_base_url}/chat/completions"
        assert [_post(url, {**body, "model": "slow"}, headers)[0] for _ in range(2)] == [200, 429]
        assert [_post(url, {**body, "model": "fast"}, headers)[0] for _ in range(3)] == [200] * 3
        assert mock.config.limits_for("slow") == Limits(rpm=60)


def test_only_loopback_binding_is_allowed():
    with pytest.raises(ConfigurationError, match="loopback"):
        MockProvider(host="0.0.0.0")
    with pytest.raises(ConfigurationError, match="not running"):
        _ = MockProvider().url


def test_structured_output_reply_matches_the_request_schema():
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 2},
            "age": {"type": "integer", "minimum": 18},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "kind": {"enum": ["a", "b"]},
            "child": {"$ref": "#/$defs/child"},
        },
        "required": ["name", "age", "tags", "kind", "child"],
        "$defs": {
            "child": {
                "anyOf": [
                    {"type": "null"},
                    {"type": "object", "properties": {"ok": {"type": "boolean"}}},
                ]
            }
        },
    }
    import jsonschema

    with MockProvider() as mock:
        mock.script("m", [Reply.json()])
        status, body = _post(
            f"{mock.openai_base_url}/chat/completions",
            {
                "model": "m",
                "messages": [{"role": "user", "content": "person"}],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "p", "schema": schema},
                },
            },
            {"Authorization": "Bearer k"},
        )
        assert status == 200
        value = json.loads(body["choices"][0]["message"]["content"])
        jsonschema.validate(value, schema)
        # Without a script, a schema in the request still gets a valid JSON reply.
        status, body = _post(
            f"{mock.url}/v1/messages",
            {
                "model": "c",
                "max_tokens": 200,
                "messages": [{"role": "user", "content": "p"}],
                "output_format": {"type": "json_schema", "schema": schema},
            },
            {"x-api-key": "k"},
        )
        jsonschema.validate(json.loads(body["content"][0]["text"]), schema)


def test_gemini_rerank_and_uploads():
    with MockProvider() as mock:
        status, body = _post(
            f"{mock.gemini_base_url}/models/gemini-2.0-flash:generateContent",
            {
                "systemInstruction": {"parts": [{"text": "sys"}]},
                "contents": [{"role": "user", "parts": [{"text": "ping"}]}],
                "generationConfig": {"maxOutputTokens": 3},
            },
            {"x-goog-api-key": "g"},
        )
        assert status == 200
        candidate = body["candidates"][0]
        assert candidate["finishReason"] == "MAX_TOKENS"
        assert body["usageMetadata"]["candidatesTokenCount"] <= 3
        status, body = _post(
            f"{mock.cohere_base_url}/rerank",
            {
                "model": "rerank-v3.5",
                "query": "red apple",
                "documents": ["blue sky", "a red apple", "apple pie"],
                "top_n": 2,
            },
            {"Authorization": "Bearer c"},
        )
        assert [r["index"] for r in body["results"]] == [1, 2]
        upload = urllib.request.Request(
            f"{mock.url}/upload/v1beta/files",
            data=b"%PDF-1.4 tiny",
            headers={
                "x-goog-api-key": "g",
                "X-Goog-Upload-File-Name": "doc.pdf",
                "X-Goog-Upload-Header-Content-Type": "application/pdf",
            },
        )
        with urllib.request.urlopen(upload) as response:
            info = json.loads(response.read())["file"]
        assert info["mimeType"] == "application/pdf" and info["uri"].startswith(mock.url)


async def test_anthropic_file_upload_through_the_sdk(mock):
    import anthropic

    client = anthropic.AsyncAnthropic(base_url=mock.url, api_key="k")
    uploaded = await client.beta.files.upload(file=("notes.txt", b"hello", "text/plain"))
    assert uploaded.id.startswith("file_") and uploaded.size_bytes == 5
    assert uploaded.filename == "notes.txt"


def test_cli_serves_until_stopped_and_prints_exports():
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(
        ["--port", "0", "--rpm", "120", "--latency-ms", "1", "--fault-rate", "0", "--seed", "3"]
    )
    config = cli.build_config(args)
    assert config.limits.rpm == 120 and config.latency.median_ms == 1 and config.seed == 3
    stop = threading.Event()
    out = io.StringIO()
    with redirect_stdout(out):
        thread = threading.Thread(target=lambda: cli.run(args, stop=stop))
        thread.start()
        for _ in range(200):
            if "export" in out.getvalue() and "Stats" in out.getvalue():
                break
            threading.Event().wait(0.02)
        text = out.getvalue()
        url = text.split("listening on ")[1].split()[0]
        with urllib.request.urlopen(f"{url}/_mock/stats") as response:
            assert json.loads(response.read())["requests"] == 0
        stop.set()
        thread.join(timeout=10)
    assert "export OPENAI_BASE_URL=" in text and url.startswith("http://127.0.0.1:")
    assert not thread.is_alive()
    # Served from a thread of this process: the process's collector is left alone.
    assert gc.get_threshold()[0] != YOUNG_THRESHOLD


_SERVE_UNTIL_INTERRUPTED = """
import argparse, gc, json, os, signal, socket, sys, threading
from deluge_ray.mock import cli
port = int(sys.argv[1])
parser = argparse.ArgumentParser()
cli.add_arguments(parser)
before = gc.get_threshold()[0]
def interrupt_once_serving():
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            threading.Event().wait(0.02)
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
threading.Thread(target=interrupt_once_serving, daemon=True).start()
cli.run(parser.parse_args(["--port", str(port)]))
# On a line of its own, whatever the interrupted server managed to print before it.
print("\\n" + json.dumps([before, gc.get_threshold()[0], gc.get_freeze_count() > 0]))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_command_line_mock_runs_with_the_server_collector_settings():
    """``deluge-ray mock-server`` is its process's whole job: tuned like an actor's process."""
    env = {k: v for k, v in os.environ.items() if k != SERVER_GC_ENV}
    out = subprocess.run(
        [sys.executable, "-c", _SERVE_UNTIL_INTERRUPTED, str(_free_port())],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    before, after, frozen = json.loads(out.stdout.strip().splitlines()[-1])
    assert before != YOUNG_THRESHOLD
    assert (after, frozen) == (YOUNG_THRESHOLD, True)


def test_mock_config_validation():
    with pytest.raises(ConfigurationError, match="rpm"):
        Limits(rpm=0)
    with pytest.raises(ConfigurationError, match="p99"):
        from deluge_ray.mock import Latency

        Latency(median_ms=50, p99_ms=10)
    assert MockConfig(known_models={"a"}).known_models == frozenset({"a"})


def _listen_overflows() -> int:
    """The kernel's count of connections refused because an accept queue was full."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=True):
        if names.startswith("TcpExt:"):
            return int(
                dict(zip(names.split()[1:], values.split()[1:], strict=True))["ListenOverflows"]
            )
    raise AssertionError("no TcpExt counters in /proc/net/netstat")


def test_a_burst_of_new_connections_is_queued_not_dropped():
    # A swarm opens hundreds of connections at once. With aiohttp's default backlog (128)
    # the kernel dropped the excess while the server was busy, and each dropped connect
    # was retried a second later; the mock now queues the burst as a provider would.
    import select
    import socket

    with open("/proc/sys/net/core/somaxconn") as f:
        burst = min(600, int(f.read()) - 8)  # the kernel caps every backlog at somaxconn
    with MockProvider() as mock:
        busy = threading.Event()
        assert mock._loop is not None
        mock._loop.call_soon_threadsafe(busy.wait)  # the server accepts nothing meanwhile
        before = _listen_overflows()
        socks = []
        try:
            for _ in range(burst):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", mock.port))
                socks.append(s)
            # Until every handshake has completed into the queue, or the kernel says it
            # refused one (either answer ends the wait, so no wall-clock bound).
            # poll, not select: the session may already hold enough descriptors that these
            # sockets' numbers pass select's limit of 1,024.
            poller = select.poll()
            pending = {s.fileno(): s for s in socks}
            for fd in pending:
                poller.register(fd, select.POLLOUT)
            while pending and _listen_overflows() == before:
                for fd, _ in poller.poll(100):
                    poller.unregister(fd)
                    pending.pop(fd, None)
            overflows = _listen_overflows() - before
            errors = [s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) for s in socks]
        finally:
            busy.set()
            for s in socks:
                s.close()
    assert overflows == 0
    assert not pending
    assert errors == [0] * burst
