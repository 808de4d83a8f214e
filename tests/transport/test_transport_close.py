"""ProviderTransport.close: what a request starting while it closes gets."""

from __future__ import annotations

import asyncio

from deluge_ray.transport._session import ProviderTransport


class _SlowSession:
    """An HTTP session whose close takes until ``release`` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def close(self) -> None:
        await self.release.wait()


class _Holder:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def test_a_request_starting_while_the_transport_closes_never_gets_the_old_holders():
    # A Ray Data stage closes its transport when its last batch ends, and the next batch
    # may start during that close. It once found the old lease holders still attached
    # (they were detached after the HTTP session's close), waited in a LeaseClient that
    # the same close then shut, and re-leased forever.
    transport = ProviderTransport("t")
    session, holder = _SlowSession(), _Holder()
    transport._http = session  # type: ignore[assignment]
    transport._leases_by_limiter[("limiter:openai:x", "")] = holder  # type: ignore[assignment]

    closing = asyncio.ensure_future(transport.close())
    await asyncio.sleep(0)  # close() is now waiting for the HTTP session
    assert not closing.done()
    assert transport._leases_by_limiter == {}  # a new request takes a new holder
    assert transport._http is None  # and opens a new session
    session.release.set()
    await closing
    assert holder.closed  # the old holder still gives its capacity back
