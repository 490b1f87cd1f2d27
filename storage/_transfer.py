"""Moving every record of a SQLite database into a new PostgreSQL one (``kodebayar
copy-to-postgres``), so that an operator outgrowing one process loses nothing: the codes sellers
handed out keep being known when their payments arrive."""

from __future__ import annotations

from ._database import Database
from ._errors import DatabaseError, DatabaseNotEmptyError
from ._outbox import QueueMark
from ._postgres import PostgresSql
from ._sql import Sql

__all__ = ["TABLES", "copy_sqlite_to_postgres"]

# Every table, parents before the tables whose foreign keys name them.
TABLES = (
    "sellers",
    "invites",
    "codes",
    "charges",
    "callback_inbox",
    "outbox",
    "reconcile_cursor",
    "buyer_links",
    "buyers",
    "bot_state",
)
# Rows read and sent by COPY at a time: a database of a million payments is never all in memory.
_BATCH = 10_000


async def copy_sqlite_to_postgres(source: Database, target: Database) -> dict[str, int]:
    """Copy every record of the SQLite ``source`` into the PostgreSQL ``target``; the rows
    copied per table, in the order copied.

    Both come from ``Database.open``, so both are at the newest schema. The source is read
    inside its write transaction (one consistent state, no other writer meanwhile); the target
    is written in one transaction under the write lock every Kodebayar process takes, so it
    holds either all of it or none. Each identity sequence is then set past the copied ids.
    Raises DatabaseNotEmptyError, changing nothing, when the target holds any row already.
    """
    if source.engine != "sqlite" or target.engine != "postgresql":
        raise ValueError("copies a SQLite database into a PostgreSQL one only")
    async with source._writer(QueueMark()) as reading, target._writer(QueueMark()) as writing:
        if not isinstance(writing, PostgresSql):
            raise TypeError("the target's transaction is not PostgreSQL's")
        await _check_tables(reading)
        await _refuse_records(writing)
        return {table: await _copy_table(reading, writing, table) for table in TABLES}


async def _check_tables(reading: Sql) -> None:
    """Refuse a source holding a table ``TABLES`` leaves out: its rows would be lost."""
    rows = await reading.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    unknown = sorted({row["name"] for row in rows} - set(TABLES))
    if unknown:
        raise DatabaseError(f"the SQLite database has tables this copy leaves out: {unknown}")


async def _refuse_records(writing: Sql) -> None:
    """DatabaseNotEmptyError naming the tables of the target that hold rows, if any."""
    # Table names are this module's constants.
    exists = ", ".join(f"EXISTS (SELECT 1 FROM {table}) AS {table}" for table in TABLES)  # noqa: S608
    found = await writing.one(f"SELECT {exists}")
    holding = [table for table in TABLES if found[table]]
    if holding:
        raise DatabaseNotEmptyError(
            f"the PostgreSQL database already holds records (in {', '.join(holding)}); "
            "copy only into a new, empty database"
        )


async def _copy_table(reading: Sql, writing: PostgresSql, table: str) -> int:
    """Copy one table, batch by batch in rowid order; how many rows."""
    # Named, not by position: SQLite's columns are in the order migrations added them.
    columns = [row["name"] for row in await reading.rows(f"PRAGMA table_info({table})")]
    select = (
        f"SELECT rowid, {', '.join(columns)} FROM {table}"  # noqa: S608 - constants
        f" WHERE rowid > ? ORDER BY rowid LIMIT {_BATCH}"
    )
    width = len(columns) + 1  # the rowid first
    copied, after = 0, -(2**63)
    while rows := await reading.rows(select, (after,)):
        await writing.copy_in(
            table, columns, [[row[index] for index in range(1, width)] for row in rows]
        )
        copied += len(rows)
        after = rows[-1][0]
    if "id" in columns:
        # New rows must not collide: an identity column's sequence goes past the copied ids
        # (setval leaves it alone for an empty table or a column that is no identity).
        await writing.rows(
            "SELECT setval(pg_get_serial_sequence(?, 'id'), max(id))"  # noqa: S608
            f" FROM {table}",
            (table,),
        )
    return copied
