"""HTTP connections that cannot be held open for nothing.

uvicorn's only read timeout is its keep-alive timer: it runs between two requests, stops at the
first byte, and never starts on a connection that has sent nothing yet. So a client that opens
a connection and stays silent, sends half a request head, or sends a head and then stalls the
body, holds a socket (and a file descriptor) forever; enough of them and the process can accept
nothing, Pivot's callbacks included. ASGI middleware cannot help: it runs once the head is in.

The protocol below is uvicorn's own h11 protocol plus two things, following h11's view of what
the client still owes us:

* a deadline: the request head must arrive whole within ``head_timeout`` of the connection
  being ready for it (opened, or its previous response sent), and the body within
  ``body_timeout`` of the head. A late client is disconnected; an app waiting for that body
  sees a disconnect.
* a cap on open connections, at most a quarter of the open-file limit so that the database,
  the outgoing connections to Telegram and Pivot, and the connections asyncio accepts in one go
  before any of this runs always find a descriptor. A connection over the cap closes the one
  that has been idle longest (waiting for a request, or answered but still sending a body
  nobody reads), never one whose request the app is working on. A stalled client cannot push
  out a callback being recorded, and a new callback, whose head follows its connection within
  a round trip, takes the place of the oldest staller.
"""

from __future__ import annotations

import asyncio
import logging
import math
import resource
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

__all__ = [
    "ACCEPT_BATCH",
    "BODY_TIMEOUT",
    "HEAD_TIMEOUT",
    "LISTEN_QUEUE",
    "MAX_CONNECTIONS",
    "ConnectionLimits",
    "GuardedConfig",
    "connection_cap",
]

logger = logging.getLogger(__name__)

# Pivot, Telegram and a health probe send a request head in one packet and a body of a few kB:
# milliseconds. The head may take as long as uvicorn already lets a connection idle between
# requests; the body, up to the 1 MiB cap, at least 100 kB/s.
HEAD_TIMEOUT = 5.0
BODY_TIMEOUT = 10.0
# Far more than the bot ever needs at once (Pivot's callbacks, Telegram's webhook, probes).
MAX_CONNECTIONS = 256
# asyncio takes its `backlog` both as the listen queue and as how many connections it accepts
# per wake-up, each holding a descriptor before any protocol (so the cap) sees it. The two are
# set apart: this many per wake-up, and the kernel queue at uvicorn's default, so that a burst
# of connections waits in the kernel (no descriptor) instead of having its SYNs dropped.
ACCEPT_BATCH = 128
LISTEN_QUEUE = 2048
# A full server says so at most this often, not once per connection it turns away.
_WARN_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How long a request may take to arrive, and how many connections may be open."""

    head_timeout: float = HEAD_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    max_connections: int = MAX_CONNECTIONS


def connection_cap(max_connections: int, open_files: int | None) -> int:
    """The cap: ``max_connections``, or a quarter of the open-file limit if that is lower."""
    if open_files is None:
        return max_connections
    return max(1, min(max_connections, open_files // 4))


def _open_file_limit() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


class _Connections:
    """One server's open connections, the one idle longest first."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.cap = connection_cap(limits.max_connections, _open_file_limit())
        self._open: dict[_GuardedProtocol, None] = {}
        self._warned_at = -math.inf

    def admit(self, newcomer: _GuardedProtocol) -> None:
        """Count ``newcomer`` in; over the cap, close the longest-idle one (or the newcomer)."""
        self._open[newcomer] = None
        if len(self._open) <= self.cap:
            return
        # The newcomer has sent no request yet, so it is idle: at worst it is the one closed.
        victim = next(conn for conn in self._open if conn.idle)
        now = asyncio.get_running_loop().time()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            logger.warning(
                "%d HTTP connections open, the most allowed: closing the longest idle ones",
                self.cap,
            )
        victim.drop("over the connection cap")

    def idle_from_now(self, conn: _GuardedProtocol) -> None:
        """``conn`` just finished a response: it becomes the most recently idle."""
        if conn in self._open:
            del self._open[conn]
            self._open[conn] = None

    def forget(self, conn: _GuardedProtocol) -> None:
        """``conn`` is closing: it no longer counts."""
        self._open.pop(conn, None)


class GuardedConfig(uvicorn.Config):
    """uvicorn's configuration with the guarded protocol and ``limits`` for its connections."""

    def __init__(self, app: Any, limits: ConnectionLimits, **options: Any) -> None:
        super().__init__(app, http=_GuardedProtocol, ws="none", backlog=ACCEPT_BATCH, **options)
        self.connections = _Connections(limits)


class _GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on what the client owes, under a cap."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if not isinstance(config, GuardedConfig):
            raise TypeError("the guarded protocol needs a GuardedConfig")
        self._connections = config.connections
        self._awaiting: object = None
        self._deadline: asyncio.TimerHandle | None = None

    @property
    def idle(self) -> bool:
        """Whether the app is not working on a request from this connection."""
        return self.cycle is None or self.cycle.response_complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._follow()
        self._connections.admit(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.forget(self)
        self._set_deadline(None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._connections.idle_from_now(self)
        self._follow()

    def drop(self, why: str) -> None:
        """Close the connection, whatever it is doing."""
        logger.debug("closing the HTTP connection from %s: %s", self.client, why)
        self._connections.forget(self)
        self._set_deadline(None)
        self.transport.close()

    def _follow(self) -> None:
        """Keep the deadline on what the client owes now: a head, a body, or nothing."""
        state = self.conn.their_state
        owed = state if state in (h11.IDLE, h11.SEND_BODY) else None
        if owed is not self._awaiting:
            self._set_deadline(owed)

    def _set_deadline(self, owed: object) -> None:
        self._awaiting = owed
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if owed is h11.IDLE:
            timeout, why = self._connections.limits.head_timeout, "no request head in time"
        elif owed is h11.SEND_BODY:
            timeout, why = self._connections.limits.body_timeout, "no request body in time"
        else:
            return
        self._deadline = self.loop.call_later(timeout, self.drop, why)
