"""Serve an ASGI app on real loopback HTTP inside the test's event loop.

Tests talk to the bot, the Pivot simulator and the fake Bot API over 127.0.0.1 exactly as
production traffic would. The socket is bound before uvicorn starts (port 0, so parallel
runs never collide and uvicorn never calls ``sys.exit`` on a busy port) and uvicorn's signal
capture is disabled so that it cannot replay SIGINT into pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import uvicorn


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class LoopbackServer:
    """A uvicorn server on ``127.0.0.1:<free port>`` running as a task in the current loop."""

    def __init__(self, app: Any, *, port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        await wait_for(lambda: self._server.started, timeout=10, what="uvicorn to start")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._task, timeout=10)
        self._task = None
        self._sock.close()

    async def __aenter__(self) -> LoopbackServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[LoopbackServer]:
    """Serve ``app`` on loopback for the duration of the block."""
    server = LoopbackServer(app)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


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
