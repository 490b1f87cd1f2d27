"""Serve an ASGI app on real loopback HTTP inside the test's event loop.

Tests talk to the bot, the Pivot simulator and the fake Bot API over 127.0.0.1 exactly as
production traffic would. It is the server the bot embeds
(``bot.server``): bound to port 0 before uvicorn starts, and without uvicorn's signal capture,
which would replay SIGINT into pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bot.server import EmbeddedServer

LoopbackServer = EmbeddedServer  # binds 127.0.0.1 and a free port unless told otherwise


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[LoopbackServer]:
    """Serve ``app`` on loopback for the duration of the block."""
    server = LoopbackServer(app)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# Below Linux's ephemeral range (32768-60999): a port the kernel hands to outgoing connections
# (a database pool's, a client's) could be taken by one while a bot restarts on it, and the
# restarted bot would find it in use.
_PORTS = range(20_000, 32_000)


def free_port() -> int:
    """A port nobody uses right now (for a server that binds it a moment later), outside
    the range the kernel picks outgoing connections' ports from."""
    for port in random.sample(_PORTS, 50):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_PORTS}")


async def wait_for(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    timeout: float = 5.0,
    interval: float = 0.01,
    what: str = "condition",
) -> None:
    """Poll ``condition`` until it is true; fail after ``timeout`` seconds (never a bare sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
