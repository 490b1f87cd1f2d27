"""Statements on one engine's connection: the few calls the repositories make.

Repositories write SQL once, in SQLite's dialect kept to what PostgreSQL also understands
(``docs/storage.md`` lists the rules); each engine's ``Sql`` runs it, wrapping the driver's
errors as storage errors. An id list is one ``Ids`` parameter, read as
``column IN (SELECT value FROM json_each(?))``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

__all__ = ["Row", "Sql"]

# Rows per multi-row INSERT: far below either engine's bound on parameters at 15 columns a row.
_ROWS_PER_INSERT = 256


class Row(Protocol):
    """A result row: columns by name or by position (``sqlite3.Row``, ``asyncpg.Record``)."""

    def __getitem__(self, key: int | str, /) -> Any: ...


class Sql(ABC):
    """Runs statements; subclasses bind one engine's connection (or pool)."""

    __slots__ = ()

    @abstractmethod
    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """All rows ``sql`` yields (also for INSERT/UPDATE ... RETURNING, or none at all)."""

    @abstractmethod
    async def many(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        """Run one statement once per parameter tuple, all in one hop."""

    async def row(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row ``sql`` yields, or None."""
        rows = await self.rows(sql, params)
        return rows[0] if rows else None

    async def one(self, sql: str, params: Sequence[object] = ()) -> Row:
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

    async def insert_rows(
        self, head: str, rows: Sequence[Sequence[object]], tail: str = ""
    ) -> list[Row]:
        """``head VALUES (...), (...) tail`` for all ``rows``, a few hundred a statement.

        One hop per statement instead of one per row. What a ``RETURNING`` in ``tail`` yields
        comes back for each row written (not for those an ON CONFLICT skipped), in no defined
        order.
        """
        returned: list[Row] = []
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            values = ", ".join("(" + ", ".join("?" * len(row)) + ")" for row in chunk)
            params = [value for row in chunk for value in row]
            returned += await self.rows(f"{head} VALUES {values} {tail}", params)
        return returned
