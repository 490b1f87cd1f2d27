"""Statements on one aiosqlite connection, with SQLite's errors wrapped as storage errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import aiosqlite

from ._errors import wrap_sqlite_error

__all__ = ["Sql"]


@contextmanager
def _wrapped_errors() -> Iterator[None]:
    """Re-raise ``sqlite3`` errors as storage errors, with the original as the cause."""
    try:
        yield
    except sqlite3.Error as error:
        raise wrap_sqlite_error(error) from error


class Sql:
    """Runs statements on one connection; every call is one hop to its worker thread."""

    __slots__ = ("_conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """All rows ``sql`` yields (also for INSERT/UPDATE ... RETURNING, or none at all)."""
        with _wrapped_errors():
            return list(await self._conn.execute_fetchall(sql, params))

    async def row(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Row | None:
        """The first row ``sql`` yields, or None."""
        rows = await self.rows(sql, params)
        return rows[0] if rows else None

    async def one(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Row:
        """The row a statement always yields (a count, an upsert's RETURNING)."""
        row = await self.row(sql, params)
        if row is None:
            raise LookupError(f"no row from {sql!r}")
        return row

    async def integer(self, sql: str, params: Sequence[object] = ()) -> int:
        """The first column of the row ``sql`` always yields, such as a ``count(*)``."""
        return int((await self.one(sql, params))[0])

    async def optional_integer(self, sql: str, params: Sequence[object] = ()) -> int | None:
        """The first column of the first row, or None when there is no row or it is NULL."""
        row = await self.row(sql, params)
        return None if row is None or row[0] is None else int(row[0])

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
