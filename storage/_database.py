"""The database: repositories over an engine (SQLite or PostgreSQL), and write transactions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType

from . import _engine
from ._bot_state import BotStateRepository
from ._buyer_links import BuyerLinkRepository
from ._buyers import BuyerRepository
from ._charges import ChargeRepository
from ._codes import CodeRepository
from ._engine import Engine, Lease
from ._errors import DatabaseError
from ._inbox import InboxRepository
from ._invites import InviteRepository
from ._outbox import OutboxRepository, QueueMark
from ._postgres import PostgresEngine, describe_url, is_postgres_url
from ._sellers import SellerRepository
from ._sql import Sql
from ._sqlite import SqliteEngine

__all__ = ["Database", "Repositories", "Transaction", "describe_database"]


def _is_url(target: str | Path) -> bool:
    return isinstance(target, str) and is_postgres_url(target)


def describe_database(target: str | Path) -> str:
    """What ``Database.open(target)`` opens, for logs and messages, never with a password."""
    return f"PostgreSQL {describe_url(str(target))}" if _is_url(target) else str(target)


logger = logging.getLogger(__name__)


class Repositories:
    """One repository per table, all bound to the same connection."""

    __slots__ = (
        "bot_state",
        "buyer_links",
        "buyers",
        "charges",
        "codes",
        "inbox",
        "invites",
        "outbox",
        "sellers",
    )

    def __init__(self, sql: Sql, mark: QueueMark | None = None) -> None:
        self.sellers = SellerRepository(sql)
        self.invites = InviteRepository(sql)
        self.codes = CodeRepository(sql)
        self.charges = ChargeRepository(sql)
        self.inbox = InboxRepository(sql)
        self.outbox = OutboxRepository(sql, mark)
        self.buyer_links = BuyerLinkRepository(sql)
        self.buyers = BuyerRepository(sql)
        self.bot_state = BotStateRepository(sql)


class Transaction(Repositories):
    """The repositories inside one ``Database.write()`` transaction, on the writer."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql, mark: QueueMark) -> None:
        super().__init__(sql, mark)
        self._sql = sql

    async def holds(self, lease: Lease) -> bool:
        """Whether ``lease`` is held by this process as of this transaction.

        Writers run one at a time and a new leader takes the lease before it writes, so a
        leader that checks this in the transaction that claims work never claims it after
        another process took over (the fence a stepping-down leader needs).
        """
        return await lease.held_in(self._sql)


class Database(Repositories):
    """Kodebayar's database, on SQLite (a file, one process) or PostgreSQL (shared).

    ``db.sellers``, ``db.codes``... read outside any write transaction: they see the last
    committed state. Every write goes through ``async with db.write() as tx:`` and the same
    repositories on ``tx``. Writers run one at a time, on both engines (``docs/storage.md``).
    """

    __slots__ = ("_closed", "_engine", "_listeners", "_lock", "_writing_task")

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine.reader)
        self._engine = engine
        # Writers run one at a time; the lock queues this process's writers without busy waits.
        self._lock = asyncio.Lock()
        self._writing_task: asyncio.Task[object] | None = None
        self._listeners: list[Callable[[], None]] = []
        self._closed = False
        engine.listen(self._tell_listeners)

    @classmethod
    async def open(cls, target: str | Path) -> Database:
        """Open and migrate the database ``target`` names: a ``postgresql://`` URL, or the path
        of a SQLite file (created with its folder if needed).

        Raises DatabaseTooNewError, with nothing left open, for a database from a newer
        Kodebayar; DatabasePathError for a path that cannot hold a database file;
        DatabaseUrlError, DatabaseRefusedError or DatabaseUnreachableError for a URL that names
        no database, credentials refused, or a server that does not answer.
        """
        if _is_url(target):
            return cls(await PostgresEngine.open(str(target)))
        return cls(await SqliteEngine.open(Path(target)))

    @property
    def engine(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.name

    async def close(self) -> None:
        """Let a running write transaction finish, then close every connection; once only."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            pass
        await self._engine.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def add_outbox_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every commit that made outbox messages PENDING: queued
        (due now or later), released or rescheduled. Once per transaction, never after a
        rollback. On PostgreSQL also after such commits by other processes (NOTIFY); on
        SQLite not for another process's writes to the same file."""
        self._listeners.append(listener)

    def remove_outbox_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener`` (added by ``add_outbox_listener``)."""
        self._listeners.remove(listener)

    def lease(self, name: str = "leader") -> Lease:
        """The lease that makes one process of those sharing the database the leader.

        On SQLite the only process is the leader; on PostgreSQL the lease is a session
        advisory lock that the server frees when its holder's connection ends.
        """
        return self._engine.lease(name)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Transaction]:
        """A write transaction: committed on normal exit, rolled back on any exception.

        Writers wait for each other in turn. Not re-entrant: opening a second write inside
        the first, in the same task, raises RuntimeError instead of waiting for ever. A
        commit that made outbox messages PENDING then tells the outbox listeners, so that
        no caller has to remember to wake whoever delivers them.
        """
        mark = QueueMark()
        committing = False
        try:
            async with self._writer(mark) as sql:
                yield Transaction(sql, mark)
                committing = True
        except BaseException:
            # A COMMIT that failed (a lost connection) may have committed all the same: a
            # wake too many costs one look at the outbox, a missing one a message's delay.
            if committing and mark.queued:
                self._tell_listeners()
            raise
        if mark.queued:
            self._tell_listeners()

    @asynccontextmanager
    async def _writer(self, mark: QueueMark) -> AsyncIterator[Sql]:
        """The engine's write transaction under ``write()``'s rules (one writer at a time, one
        wait budget), as statements: for storage's own bulk work (``_transfer``)."""
        task = asyncio.current_task()
        if task is not None and task is self._writing_task:
            raise RuntimeError("db.write() inside db.write(): use the open transaction")
        if self._closed:
            raise DatabaseError("the database is closed")
        # One busy timeout bounds the whole wait, for this process's other writers and then
        # for the engine's lock: while another process holds it, writers queued here would
        # otherwise wait a timeout each, one after the other, and a callback behind three of
        # them would be answered after 20 s instead of failing fast so that Pivot retries.
        waited_from = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(_engine.WRITE_WAIT_MS / 1000):
                await self._lock.acquire()
        except TimeoutError:
            raise DatabaseError("database is locked: other writers held it too long") from None
        try:
            if self._closed:  # closed while this writer waited its turn
                raise DatabaseError("the database is closed")
            self._writing_task = task
            try:
                waited = asyncio.get_running_loop().time() - waited_from
                async with self._engine.transaction(
                    _engine.WRITE_WAIT_MS - int(waited * 1000), mark
                ) as sql:
                    yield sql
            finally:
                self._writing_task = None
        finally:
            self._lock.release()

    def _tell_listeners(self) -> None:
        """Call each outbox listener; one that fails is logged, since the commit stands."""
        for listener in tuple(self._listeners):
            try:
                listener()
            except Exception:
                logger.exception("an outbox listener failed after a commit")

    async def ping(self) -> None:
        """Raise unless the database answers a query."""
        if self._closed:
            raise DatabaseError("the database is closed")
        await self._engine.ping()

    async def schema_version(self) -> int:
        """The migration version the database is at."""
        return await self._engine.schema_version()
