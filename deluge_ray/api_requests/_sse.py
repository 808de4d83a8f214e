"""An incremental server-sent-events decoder: bytes in, :class:`SSEEvent` objects out.

Pure and transport-agnostic: feed it whatever chunks the network delivers (a frame may be
split anywhere, even inside a UTF-8 character or between ``\\r`` and ``\\n``) and it returns
the events completed so far. It follows the WHATWG rules every provider relies on:
``event:``/``data:``/``id:``/``retry:`` fields, ``:`` comment lines (keep-alives), several
``data:`` lines joined with ``\\n``, one optional space after the colon, and a blank line
ending the event. OpenAI's ``data: [DONE]`` is an ordinary event whose :attr:`SSEEvent.done`
is true.

    >>> dec = SSEDecoder()
    >>> dec.feed(b"event: ping\\ndata: {}\\n")
    []
    >>> dec.feed(b"\\n: keep-alive\\n\\ndata: [DONE]\\n\\n")
    [SSEEvent(event='ping', data='{}', id=None, retry=None), SSEEvent(event='message', data='[DONE]', id=None, retry=None)]
"""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Any

__all__ = ["SSEDecoder", "SSEEvent", "aiter_sse"]


@dataclass(frozen=True)
class SSEEvent:
    """One decoded event: its type (``"message"`` when unnamed), data, id and retry hint."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None

    @property
    def done(self) -> bool:
        """True for OpenAI's end-of-stream sentinel ``data: [DONE]``."""
        return self.data.strip() == "[DONE]"

    def json(self) -> Any:
        """The data parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.data)


class SSEDecoder:
    """Turns a byte stream into events; keeps partial lines between :meth:`feed` calls."""

    def __init__(self) -> None:
        # An incremental decoder keeps a multi-byte character split across chunks intact.
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes | str) -> list[SSEEvent]:
        """Add ``chunk`` and return the events it completed, in order."""
        text = chunk if isinstance(chunk, str) else self._utf8.decode(chunk)
        self._buffer += text
        events: list[SSEEvent] = []
        while True:
            line, found = self._next_line()
            if not found:
                break
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[SSEEvent]:
        """End of stream: process a last unterminated line and dispatch a pending event.

        The spec drops an event without its closing blank line; providers sometimes close
        the connection right after the last ``data:`` line, so a pending event with data is
        dispatched rather than lost.
        """
        self._buffer += self._utf8.decode(b"", final=True)
        events = self.feed("")
        if self._buffer:
            line, self._buffer = self._buffer, ""
            event = self._line(line)
            if event is not None:
                events.append(event)
        if self._data:
            events.append(self._dispatch())
        return events

    def _next_line(self) -> tuple[str, bool]:
        buf = self._buffer
        for index, char in enumerate(buf):
            if char == "\n":
                self._buffer = buf[index + 1 :]
                return buf[:index], True
            if char == "\r":
                if index + 1 == len(buf):
                    return "", False  # wait: a "\n" may follow in the next chunk
                skip = 2 if buf[index + 1] == "\n" else 1
                self._buffer = buf[index + skip :]
                return buf[:index], True
        return "", False

    def _line(self, line: str) -> SSEEvent | None:
        if line == "":
            if self._data:
                return self._dispatch()
            self._event = None  # the spec drops an event that carried no data
            return None
        if line.startswith(":"):
            return None  # a comment: servers send these as keep-alives
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None  # unknown fields are ignored, as the spec says

    def _dispatch(self) -> SSEEvent:
        if self._id is not None:
            self._last_id = self._id
        event = SSEEvent(
            event=self._event or "message",
            data="\n".join(self._data),
            id=self._last_id,
            retry=self._retry,
        )
        self._event, self._data, self._id, self._retry = None, [], None, None
        return event


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """Decode an async stream of byte chunks (e.g. ``response.content.iter_any()``)."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.flush():
        yield event
