"""uvicorn inside an event loop that someone else owns.

The bot runs uvicorn next to python-telegram-bot in one loop, and the tests run it inside
pytest's loop: in both, the owner handles signals, so uvicorn must not install its own.
The socket is bound before uvicorn starts, so port 0 works and a busy port raises
``OSError`` here instead of uvicorn calling ``sys.exit``. Connections are guarded against
clients that stall (``bot.connections``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from bot.connections import LISTEN_QUEUE, ConnectionLimits, GuardedConfig

__all__ = ["EmbeddedServer"]


class _NoSignalServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class EmbeddedServer:
    """A uvicorn server on ``host:port`` running as a task in the current loop.

    ``limits`` defaults to the production ones; tests shorten the timeouts.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: ConnectionLimits | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # The explicit protocol matters: asyncio only turns Nagle off (TCP_NODELAY) on accepted
        # connections of a socket made with IPPROTO_TCP, and with Nagle every small answer
        # waits ~40 ms for the peer's delayed ACK.
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.port}"  # noqa: S104
        # Our own logging says what matters; uvicorn's access log would print every callback.
        config = GuardedConfig(
            app,
            limits or ConnectionLimits(),
            lifespan="on",
            access_log=False,
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self._server = _NoSignalServer(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        """Whether uvicorn is accepting connections."""
        return self._server.started

    async def start(self) -> None:
        """Start serving; returns once uvicorn accepts connections."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # uvicorn gave up: raise why
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        # asyncio has just listened with the accept batch as the queue; widen the queue alone.
        self._sock.listen(LISTEN_QUEUE)

    async def stop(self) -> None:
        """Stop accepting connections, let requests in flight finish, then close."""
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._sock.close()

    async def __aenter__(self) -> EmbeddedServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
