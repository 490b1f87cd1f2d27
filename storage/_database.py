"""The database file: one writer and one read-only reader connection, and write transactions."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType

import aiosqlite

from ._bot_state import BotStateRepository
from ._buyer_links import BuyerLinkRepository
from ._buyers import BuyerRepository
from ._charges import ChargeRepository
from ._codes import CodeRepository
from ._errors import DatabaseError, DatabasePathError, wrap_sqlite_error
from ._inbox import InboxRepository
from ._invites import InviteRepository
from ._migrations import apply_migrations
from ._outbox import OutboxRepository, QueueMark
from ._sellers import SellerRepository
from ._sql import Sql

__all__ = ["Database", "Repositories", "Transaction"]

logger = logging.getLogger(__name__)

_BUSY_TIMEOUT_MS = 5000
# A writer that waited for the others less than this keeps the full timeout for SQLite's lock.
_SHORTEN_AFTER_MS = 250


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

    __slots__ = ()


async def _connect(target: str, *, uri: bool = False) -> aiosqlite.Connection:
    """An autocommit connection: we issue BEGIN ourselves, sqlite3 never does."""
    # Multi-row INSERTs make one statement text per row count (``Sql.insert_rows``); a cache
    # larger than sqlite3's 128 keeps them from pushing the everyday statements out.
    try:
        conn = await aiosqlite.connect(
            target, uri=uri, isolation_level=None, cached_statements=512
        )
    except sqlite3.Error as exc:
        raise wrap_sqlite_error(exc) from exc
    conn.row_factory = aiosqlite.Row
    return conn


def _prepare_folder(path: Path) -> None:
    """Create the folder of ``path``, or raise DatabasePathError saying why it cannot be used.

    SQLite alone would only say "unable to open database file".
    """
    if path.is_dir():
        raise DatabasePathError(
            f"it is a folder; name a file in it, such as {path / 'kodebayar.db'}"
        )
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        for ancestor in (folder, *folder.parents):
            if ancestor.exists() and not ancestor.is_dir():
                raise DatabasePathError(f"{ancestor} is a file, not a folder") from None
        raise DatabasePathError(f"cannot create the folder {folder}: {exc.strerror}") from None
    # SQLite writes its -wal and -shm files next to the database: the folder must be writable.
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DatabasePathError(
            f"the folder {folder} is not writable by this user (uid {os.getuid()})"
        )


async def _open_writer(path: Path) -> aiosqlite.Connection:
    """The one connection that writes, configured and migrated."""
    writer = await _connect(str(path))
    try:
        sql = Sql(writer)
        await sql.rows(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        # FULL, not WAL's usual NORMAL: answering Pivot 200 promises the charge is on disk,
        # and NORMAL can lose the last commits on a power cut.
        await sql.rows("PRAGMA synchronous = FULL")
        # Migrations first: a file from a newer Kodebayar is refused before anything changes.
        await apply_migrations(sql)
        mode = await sql.one("PRAGMA journal_mode = WAL")
        if mode[0] != "wal":
            raise DatabaseError(f"cannot use WAL on {path} (journal mode stays {mode[0]})")
        await sql.rows("PRAGMA foreign_keys = ON")
    except BaseException:
        await writer.close()
        raise
    return writer


def _read_only_uri(path: Path) -> str:
    """The ``file:`` URI that opens ``path`` read-only."""
    return f"{path.resolve().as_uri()}?mode=ro"


async def _open_reader(path: Path) -> aiosqlite.Connection:
    """A read-only connection, so that a write through ``db.<repository>`` fails."""
    reader = await _connect(_read_only_uri(path), uri=True)
    try:
        sql = Sql(reader)
        await sql.rows(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        await sql.rows("PRAGMA foreign_keys = ON")
    except BaseException:
        await reader.close()
        raise
    return reader


class Database(Repositories):
    """Kodebayar's SQLite database.

    ``db.sellers``, ``db.codes``... read through the read-only connection, outside any write
    transaction: they see the last committed state. Every write goes through
    ``async with db.write() as tx:`` and the same repositories on ``tx``.
    """

    __slots__ = (
        "_closed",
        "_listeners",
        "_lock",
        "_reader",
        "_reader_sql",
        "_writer",
        "_writer_sql",
        "_writing_task",
    )

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._reader_sql = Sql(reader)
        super().__init__(self._reader_sql)
        self._writer = writer
        self._reader = reader
        self._writer_sql = Sql(writer)
        # SQLite has one writer at a time; the lock queues our writers without busy waits.
        self._lock = asyncio.Lock()
        self._writing_task: asyncio.Task[object] | None = None
        self._listeners: list[Callable[[], None]] = []
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating it and its folder if needed) and migrate the database at ``path``.

        Raises DatabaseTooNewError, with nothing left open, for a file from a newer Kodebayar,
        and DatabasePathError for a path that cannot hold a database file.
        """
        path = Path(path)
        _prepare_folder(path)
        writer = await _open_writer(path)
        try:
            # Opened after the migrations: a read-only connection cannot create the file.
            reader = await _open_reader(path)
        except BaseException:
            await writer.close()
            raise
        return cls(writer, reader)

    async def close(self) -> None:
        """Let a running write transaction finish, then close both connections; once only."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            pass
        try:
            await self._reader.close()
        finally:
            await self._writer.close()

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
        rollback; not for another process's writes to the same file."""
        self._listeners.append(listener)

    def remove_outbox_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener`` (added by ``add_outbox_listener``)."""
        self._listeners.remove(listener)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Transaction]:
        """A write transaction: committed on normal exit, rolled back on any exception.

        Writers wait for each other in turn. Not re-entrant: opening a second write inside
        the first, in the same task, raises RuntimeError instead of waiting for ever. A
        commit that made outbox messages PENDING then tells the outbox listeners, so that
        no caller has to remember to wake whoever delivers them.
        """
        task = asyncio.current_task()
        if task is not None and task is self._writing_task:
            raise RuntimeError("db.write() inside db.write(): use the open transaction")
        if self._closed:
            raise DatabaseError("the database is closed")
        # One busy timeout bounds the whole wait, for this process's other writers and then
        # for SQLite's lock: while another process holds the lock, writers queued here would
        # otherwise wait a timeout each, one after the other, and a callback behind three of
        # them would be answered after 20 s instead of failing fast so that Pivot retries.
        waited_from = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(_BUSY_TIMEOUT_MS / 1000):
                await self._lock.acquire()
        except TimeoutError:
            raise DatabaseError("database is locked: other writers held it too long") from None
        try:
            if self._closed:  # closed while this writer waited its turn
                raise DatabaseError("the database is closed")
            self._writing_task = task
            mark = QueueMark()
            try:
                # BEGIN is inside the try: a cancellation while it is queued must still be
                # followed by a ROLLBACK, or the next writer would find the transaction open.
                try:
                    waited = asyncio.get_running_loop().time() - waited_from
                    await self._begin(_BUSY_TIMEOUT_MS - int(waited * 1000))
                    yield Transaction(self._writer_sql, mark)
                except BaseException:
                    await self._writer_sql.rollback()
                    raise
                try:
                    await self._writer_sql.commit()
                except BaseException:
                    # A failed or cancelled COMMIT must not leave the transaction open.
                    await self._writer_sql.rollback()
                    raise
            finally:
                self._writing_task = None
        finally:
            self._lock.release()
        if mark.queued:
            self._tell_listeners()

    async def _begin(self, budget_ms: int) -> None:
        """BEGIN IMMEDIATE, waiting at most ``budget_ms`` for SQLite's write lock.

        IMMEDIATE takes the lock now; a DEFERRED read that later writes can fail with
        SQLITE_BUSY without honouring busy_timeout. The timeout is changed only for a writer
        that already waited its turn here, so the usual write costs no extra statement.
        """
        if budget_ms >= _BUSY_TIMEOUT_MS - _SHORTEN_AFTER_MS:
            await self._writer_sql.rows("BEGIN IMMEDIATE")
            return
        await self._writer_sql.rows(f"PRAGMA busy_timeout = {max(budget_ms, 1)}")
        try:
            await self._writer_sql.rows("BEGIN IMMEDIATE")
        finally:
            await self._writer_sql.rows(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")

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
        await self._reader_sql.integer("SELECT 1")

    async def schema_version(self) -> int:
        """The migration version the file is at (``PRAGMA user_version``)."""
        return await self._reader_sql.integer("PRAGMA user_version")
