"""The SSE decoder: chunk boundaries anywhere, comments, multi-line data, [DONE]."""

from __future__ import annotations

import pytest

from deluge_ray.api_requests._sse import SSEDecoder, SSEEvent, aiter_sse

STREAM = (
    b": keep-alive comment\r\n"
    b"event: content_block_delta\r\n"
    b'data: {"a":\r\n'
    b"data:  1}\r\n"
    b"id: 7\r\n"
    b"\r\n"
) + ("data: caf\u00e9 \u2603\n\n".encode() + b"event: only-event-no-data\n\ndata: [DONE]\n\n")

EXPECTED = [
    SSEEvent("content_block_delta", '{"a":\n 1}', id="7"),
    SSEEvent("message", "caf\u00e9 \u2603", id="7"),
    SSEEvent("message", "[DONE]", id="7"),
]


def test_whole_stream_decodes_fields_comments_and_multiline_data():
    dec = SSEDecoder()
    events = dec.feed(STREAM) + dec.flush()
    assert events == EXPECTED
    assert events[0].json() == {"a": 1}
    assert [e.done for e in events] == [False, False, True]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_any_chunking_gives_the_same_events(size):
    # Byte-sized chunks split "\r\n" pairs and the UTF-8 bytes of é and ☃.
    dec = SSEDecoder()
    events = []
    for start in range(0, len(STREAM), size):
        events += dec.feed(STREAM[start : start + size])
    assert events + dec.flush() == EXPECTED


def test_flush_dispatches_an_event_missing_its_blank_line():
    dec = SSEDecoder()
    assert dec.feed(b"data: last") == []
    assert dec.flush() == [SSEEvent("message", "last")]


def test_retry_field_and_unknown_fields():
    dec = SSEDecoder()
    (event,) = dec.feed(b"retry: 1500\nfoo: bar\ndata:x\n\n")
    assert (event.retry, event.data) == (1500, "x")


async def test_aiter_sse_over_async_chunks():
    async def chunks():
        for piece in (b"data: 1\n", b"\ndata: 2\n\n"):
            yield piece

    assert [e.data async for e in aiter_sse(chunks())] == ["1", "2"]
