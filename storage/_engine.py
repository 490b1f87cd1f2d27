"""What ``Database`` needs from an engine: a reader, write transactions, a leader lease."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from ._outbox import QueueMark
from ._sql import Sql

__all__ = ["WRITE_WAIT_MS", "Engine", "Lease"]

# How long a writer may wait for the others, in this process and then in the engine, before it
# fails: short enough that a callback is refused (and Pivot retries) before Pivot gives up on it.
# Read at each use (``_engine.WRITE_WAIT_MS``), so tests may shorten it.
WRITE_WAIT_MS = 5000


class Lease(ABC):
    """The right to be the one process that talks to Telegram (``Database.lease``).

    ``acquire`` waits until this process holds it; ``lost`` returns when a held lease is gone
    (its holder can no longer prove it holds it, so it must stop acting as the leader at once).
    """

    @property
    @abstractmethod
    def held(self) -> bool:
        """Whether this process holds the lease now."""

    @abstractmethod
    async def acquire(self) -> None:
        """Wait until this process holds the lease."""

    @abstractmethod
    async def lost(self) -> None:
        """Return once the held lease is lost (never, on an engine where it cannot be)."""

    @abstractmethod
    async def release(self) -> None:
        """Give the lease up, so that another process may take it at once."""

    @abstractmethod
    async def held_in(self, sql: Sql) -> bool:
        """Whether the database, as ``sql`` sees it, says this process holds the lease
        (``Transaction.holds``)."""


class Engine(ABC):
    """One database engine under ``Database``: SQLite (``_sqlite``) or PostgreSQL
    (``_postgres``)."""

    name: str
    reader: Sql

    @abstractmethod
    def transaction(self, budget_ms: int, mark: QueueMark) -> AbstractAsyncContextManager[Sql]:
        """A write transaction, waiting at most ``budget_ms`` for the engine's write lock:
        committed on normal exit, rolled back on any exception. ``mark`` says whether it
        queued outbox messages (PostgreSQL tells the other processes in the same commit)."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise unless the database answers a query."""

    @abstractmethod
    async def schema_version(self) -> int:
        """The migration version the database is at."""

    @abstractmethod
    def lease(self, name: str) -> Lease:
        """The lease called ``name`` (not yet acquired)."""

    def listen(self, on_queued: Callable[[], None]) -> None:  # noqa: B027 - optional hook
        """Call ``on_queued()`` when another process commits outbox messages, where the engine
        can tell; SQLite cannot."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection."""
