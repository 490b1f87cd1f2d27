"""``kodebayar copy-to-postgres``: every record of the SQLite database (``DATABASE_PATH``) into
a new PostgreSQL database (``DATABASE_URL``), for an operator outgrowing one process."""

from __future__ import annotations

import asyncio
import sys
from contextlib import AsyncExitStack
from pathlib import Path

from bot.settings import Settings
from storage import (
    Database,
    DatabaseNotEmptyError,
    StorageError,
    copy_sqlite_to_postgres,
    describe_database,
)

__all__ = ["copy_to_postgres"]


class _Refused(Exception):
    """The copy cannot go ahead; the message is one line for the operator, the exit code
    how the process ends."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def copy_to_postgres(settings: Settings) -> int:
    """Copy, print the rows per table and what to do next; the process's exit code."""
    try:
        asyncio.run(_copy(settings))
    except _Refused as exc:
        print(f"kodebayar: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


async def _copy(settings: Settings) -> None:
    if settings.database_url is None:
        raise _Refused(
            "DATABASE_URL is not set: set it to the new PostgreSQL database to copy into "
            "(postgresql://user:password@host:5432/db)",
            exit_code=2,
        )
    source = settings.database_path
    if not source.is_file():
        raise _Refused(f"DATABASE_PATH: there is no SQLite database at {source}", exit_code=2)
    url = settings.database_url.get_secret_value()
    target = describe_database(url)
    async with AsyncExitStack() as opened:
        source_db = await _open("DATABASE_PATH", source, str(source))
        opened.push_async_callback(source_db.close)
        target_db = await _open("DATABASE_URL", url, target)
        opened.push_async_callback(target_db.close)
        print(f"Copying {source} into {target}.", flush=True)
        try:
            copied = await copy_sqlite_to_postgres(source_db, target_db)
        except DatabaseNotEmptyError as exc:
            raise _Refused(f"DATABASE_URL: {exc}; nothing was copied", exit_code=1) from None
        except StorageError as exc:
            raise _Refused(f"the copy failed, nothing was copied: {exc}", exit_code=1) from None
    for table, rows in copied.items():
        print(f"  {table:<16} {rows:>10,} rows")
    print(
        f"Done: every record is in {target}. Keep DATABASE_URL set (in .env) so that "
        f"`kodebayar run` uses PostgreSQL, and start the bot. {source} stays as it was: keep "
        "it as a backup, the bot no longer writes to it."
    )


async def _open(variable: str, where: str | Path, name: str) -> Database:
    """``Database.open(where)``, or the one line saying why it cannot be used."""
    try:
        return await Database.open(where)
    except (StorageError, OSError) as exc:
        raise _Refused(f"{variable}: cannot open {name}: {exc}", exit_code=2) from None
