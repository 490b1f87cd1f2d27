"""The embedded server against clients that stall, over raw loopback sockets.

The timeouts are shortened through ``ConnectionLimits``; the production values are checked at
the end, and under a real 1,024 open-file limit in ``tests/e2e/test_stalled_clients.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.connections import (
    ACCEPT_BATCH,
    BODY_TIMEOUT,
    HEAD_TIMEOUT,
    MAX_CONNECTIONS,
    ConnectionLimits,
    connection_cap,
)
from bot.server import EmbeddedServer
from bot.web import create_web_app
from tests.standins import wait_for

KEY = "callback-key-123"
HEAD = 0.4
BODY = 0.8
CAP = 8
SLACK = 3.0  # how much later than its deadline a drop may be seen on a busy machine
CALLBACK = b'{"event": "CHARGE.SUCCESS", "data": {}}'


class Ledger:
    """Records callbacks; ``hold`` keeps each one in the app until released."""

    def __init__(self) -> None:
        self.recorded: list[bytes] = []
        self.hold = False
        self.held = 0
        self.release = asyncio.Event()

    async def record(self, body: bytes, *, truncated: bool = False) -> None:
        if self.hold:
            self.held += 1
            await self.release.wait()
        self.recorded.append(body)


async def _healthy() -> tuple[bool, dict[str, Any]]:
    return True, {}


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture
async def server(ledger: Ledger) -> AsyncIterator[EmbeddedServer]:
    app = create_web_app(callback_key=KEY, record_callback=ledger.record, health=_healthy)
    limits = ConnectionLimits(head_timeout=HEAD, body_timeout=BODY, max_connections=CAP)
    async with EmbeddedServer(app, limits=limits) as embedded:
        yield embedded


class Raw:
    """A loopback connection that sends exactly what the test says, when it says."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.received = b""

    async def until_closed(self, within: float) -> float:
        """Read until the server closes; how long that took (fails after ``within`` s)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with asyncio.timeout(within):
            with contextlib.suppress(ConnectionError):
                while chunk := await self.reader.read(65536):
                    self.received += chunk
        return loop.time() - start


@pytest.fixture
async def connect(server: EmbeddedServer) -> AsyncIterator[Any]:
    opened: list[Raw] = []

    async def open_raw(sent: bytes = b"") -> Raw:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(sent)
        opened.append(Raw(reader, writer))
        return opened[-1]

    yield open_raw
    for raw in opened:
        raw.writer.close()


def _head(*, key: str = KEY, length: int = len(CALLBACK)) -> bytes:
    return (
        f"POST /pivot/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def test_a_client_that_sends_nothing_is_disconnected_at_the_head_timeout(
    connect: Any,
) -> None:
    silent = await connect()

    waited = await silent.until_closed(within=HEAD + SLACK)

    assert waited >= HEAD * 0.9
    assert silent.received == b""


async def test_half_a_head_is_dropped_though_its_bytes_keep_trickling_in(connect: Any) -> None:
    head = _head()
    trickler = await connect(head[:10])

    async def trickle() -> None:
        for byte in head[10:-4]:
            trickler.writer.write(bytes([byte]))
            await asyncio.sleep(0.05)

    feeding = asyncio.create_task(trickle())
    try:
        waited = await trickler.until_closed(within=HEAD + SLACK)
    finally:
        feeding.cancel()

    assert waited >= HEAD * 0.9
    assert trickler.received == b""


async def test_a_callback_whose_body_stalls_is_dropped_and_not_recorded(
    connect: Any, ledger: Ledger
) -> None:
    stalled = await connect(_head() + CALLBACK[:10])

    waited = await stalled.until_closed(within=BODY + SLACK)

    assert waited >= BODY * 0.9
    assert ledger.recorded == []


async def test_a_refused_callback_that_keeps_its_body_back_is_answered_then_dropped(
    connect: Any, ledger: Ledger
) -> None:
    stalled = await connect(_head(key="wrong", length=4096) + b"{")

    waited = await stalled.until_closed(within=BODY + SLACK)

    assert waited >= BODY * 0.9
    assert stalled.received.startswith(b"HTTP/1.1 401 ")
    assert ledger.recorded == []


async def test_a_kept_alive_connection_serves_the_next_request_and_then_idles_out(
    connect: Any, ledger: Ledger
) -> None:
    client = await connect(_head() + CALLBACK)
    first = await client.reader.readuntil(b'{"status":"ok"}')
    client.writer.write(_head() + CALLBACK)
    second = await client.reader.readuntil(b'{"status":"ok"}')

    await client.until_closed(within=HEAD + SLACK)

    assert first.startswith(b"HTTP/1.1 200 ") and second.startswith(b"HTTP/1.1 200 ")
    assert ledger.recorded == [CALLBACK, CALLBACK]


async def test_over_the_cap_the_longest_idle_connection_makes_room_for_a_callback(
    server: EmbeddedServer, connect: Any, ledger: Ledger
) -> None:
    stallers = [await connect() for _ in range(CAP)]

    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post("/pivot/callback", content=CALLBACK, headers={"X-API-Key": KEY})

    assert response.status_code == 200
    assert ledger.recorded == [CALLBACK]
    waited = await stallers[0].until_closed(within=SLACK)
    assert waited < HEAD  # closed for the cap, not for its deadline


async def test_connections_whose_callbacks_are_being_recorded_are_never_closed_for_the_cap(
    connect: Any, ledger: Ledger
) -> None:
    ledger.hold = True
    callers = [await connect(_head() + CALLBACK) for _ in range(CAP)]
    await wait_for(lambda: ledger.held == CAP, timeout=10, what="every callback in the app")

    newcomer = await connect()
    await newcomer.until_closed(within=SLACK)
    ledger.release.set()
    answers = [await caller.reader.readuntil(b'{"status":"ok"}') for caller in callers]

    assert all(answer.startswith(b"HTTP/1.1 200 ") for answer in answers)
    assert ledger.recorded == [CALLBACK] * CAP


def test_the_production_limits_are_seconds_and_leave_most_descriptors_free() -> None:
    limits = ConnectionLimits()

    assert (limits.head_timeout, limits.body_timeout) == (HEAD_TIMEOUT, BODY_TIMEOUT)
    assert 1 <= HEAD_TIMEOUT <= 10
    assert HEAD_TIMEOUT <= BODY_TIMEOUT <= 30
    # Under the usual 1,024 open files: the cap, plus a full batch asyncio accepts before the
    # cap acts, leaves more than half the descriptors to the rest of the bot.
    assert connection_cap(MAX_CONNECTIONS, 1024) + ACCEPT_BATCH < 512
    assert connection_cap(MAX_CONNECTIONS, None) == MAX_CONNECTIONS
    assert connection_cap(MAX_CONNECTIONS, 400) == 100
