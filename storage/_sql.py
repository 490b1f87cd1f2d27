"""Statements on one aiosqlite connection, with SQLite's errors wrapped as storage errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import aiosqlite

from ._errors import wrap_sqlite_error

__all__ = ["Sql"]

# Rows per multi-row INSERT: far below SQLite's 32,766 bound variables at 13 columns a row.
_ROWS_PER_INSERT = 256


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

    async def many(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        """Run one statement once per parameter tuple, all in one hop."""
        with _wrapped_errors():
            cursor = await self._conn.executemany(sql, params)
            await cursor.close()

    async def insert_rows(
        self, head: str, rows: Sequence[Sequence[object]], tail: str = ""
    ) -> list[sqlite3.Row]:
        """``head VALUES (...), (...) tail`` for all ``rows``, a few hundred a statement.

        One hop per statement instead of one per row. What a ``RETURNING`` in ``tail`` yields
        comes back for each row written (not for those an ON CONFLICT skipped), in no defined
        order (SQLite's rule).
        """
        returned: list[sqlite3.Row] = []
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            values = ", ".join("(" + ", ".join("?" * len(row)) + ")" for row in chunk)
            params = [value for row in chunk for value in row]
            returned += await self.rows(f"{head} VALUES {values} {tail}", params)
        return returned

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
