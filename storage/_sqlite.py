"""SQLite: one writer and one read-only reader connection on a file, through aiosqlite."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiosqlite

from . import _engine
from ._engine import Engine, Lease
from ._errors import DatabaseError, DatabasePathError, wrap_sqlite_error
from ._migrations import apply_migrations
from ._outbox import QueueMark
from ._sql import Row, Sql
from ._values import Ids

__all__ = ["SqliteEngine", "SqliteSql"]

# A writer that waited for the others less than this keeps the full timeout for SQLite's lock.
_SHORTEN_AFTER_MS = 250


@contextmanager
def _wrapped_errors() -> Iterator[None]:
    """Re-raise ``sqlite3`` errors as storage errors, with the original as the cause."""
    try:
        yield
    except sqlite3.Error as error:
        raise wrap_sqlite_error(error) from error


def _bound(params: Sequence[object]) -> Sequence[object]:
    """``params`` as sqlite3 takes them: an ``Ids`` becomes the JSON ``json_each`` reads."""
    return [value.as_json() if type(value) is Ids else value for value in params]


class SqliteSql(Sql):
    """Runs statements on one aiosqlite connection; every call is one hop to its thread."""

    __slots__ = ("_conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        with _wrapped_errors():
            return list(await self._conn.execute_fetchall(sql, _bound(params)))

    async def many(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        with _wrapped_errors():
            cursor = await self._conn.executemany(sql, (_bound(each) for each in params))
            await cursor.close()

    async def script(self, script: str) -> None:
        """Run several statements; any open transaction is committed first (sqlite3's rule)."""
        with _wrapped_errors():
            await self._conn.executescript(script)

    async def commit(self) -> None:
        """Commit the open transaction, if any."""
        with _wrapped_errors():
            await self._conn.commit()

    async def rollback(self) -> None:
        """Roll back the open transaction; a no-op when SQLite already ended it."""
        with _wrapped_errors():
            await self._conn.rollback()


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
        sql = SqliteSql(writer)
        await sql.rows(f"PRAGMA busy_timeout = {_engine.WRITE_WAIT_MS}")
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
        sql = SqliteSql(reader)
        await sql.rows(f"PRAGMA busy_timeout = {_engine.WRITE_WAIT_MS}")
        await sql.rows("PRAGMA foreign_keys = ON")
    except BaseException:
        await reader.close()
        raise
    return reader


class _ProcessLease(Lease):
    """On SQLite the one process using the file is the leader: held at once, never lost."""

    def __init__(self) -> None:
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    async def acquire(self) -> None:
        self._held = True

    async def lost(self) -> None:
        await asyncio.Event().wait()  # never set: nobody else can take it

    async def release(self) -> None:
        self._held = False

    async def held_in(self, sql: Sql) -> bool:
        return self._held


class SqliteEngine(Engine):
    """A database file: a writer connection for transactions, a read-only one for reads."""

    name = "sqlite"

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._writer_sql = SqliteSql(writer)
        self.reader = SqliteSql(reader)

    @classmethod
    async def open(cls, path: Path) -> SqliteEngine:
        """Open (creating it and its folder if needed) and migrate the file at ``path``."""
        _prepare_folder(path)
        writer = await _open_writer(path)
        try:
            # Opened after the migrations: a read-only connection cannot create the file.
            reader = await _open_reader(path)
        except BaseException:
            await writer.close()
            raise
        return cls(writer, reader)

    @asynccontextmanager
    async def transaction(self, budget_ms: int, mark: QueueMark) -> AsyncIterator[Sql]:
        # BEGIN is inside the try: a cancellation while it is queued must still be followed
        # by a ROLLBACK, or the next writer would find the transaction open.
        try:
            await self._begin(budget_ms)
            yield self._writer_sql
        except BaseException:
            await self._writer_sql.rollback()
            raise
        try:
            await self._writer_sql.commit()
        except BaseException:
            # A failed or cancelled COMMIT must not leave the transaction open.
            await self._writer_sql.rollback()
            raise

    async def _begin(self, budget_ms: int) -> None:
        """BEGIN IMMEDIATE, waiting at most ``budget_ms`` for SQLite's write lock.

        IMMEDIATE takes the lock now; a DEFERRED read that later writes can fail with
        SQLITE_BUSY without honouring busy_timeout. The timeout is changed only for a writer
        that already waited its turn here, so the usual write costs no extra statement.
        """
        if budget_ms >= _engine.WRITE_WAIT_MS - _SHORTEN_AFTER_MS:
            await self._writer_sql.rows("BEGIN IMMEDIATE")
            return
        await self._writer_sql.rows(f"PRAGMA busy_timeout = {max(budget_ms, 1)}")
        try:
            await self._writer_sql.rows("BEGIN IMMEDIATE")
        finally:
            await self._writer_sql.rows(f"PRAGMA busy_timeout = {_engine.WRITE_WAIT_MS}")

    async def ping(self) -> None:
        await self.reader.integer("SELECT 1")

    async def schema_version(self) -> int:
        return await self.reader.integer("PRAGMA user_version")

    def lease(self, name: str) -> Lease:
        return _ProcessLease()

    async def close(self) -> None:
        try:
            await self._reader.close()
        finally:
            await self._writer.close()
