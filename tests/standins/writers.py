"""Another process writing: the write lock held elsewhere, on either engine."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

from storage import Database


@contextlib.asynccontextmanager
async def another_process_writing(target: Path | str) -> AsyncIterator[None]:
    """The write lock of the database ``target`` names held for the block: by a raw SQLite
    transaction on the file, or on PostgreSQL by a second ``Database`` (to the server, another
    process) inside ``db.write()``."""
    if isinstance(target, Path):
        blocker = sqlite3.connect(
            target, timeout=30, isolation_level=None, check_same_thread=False
        )
        try:
            # In a thread: the bot may be writing, and the test's loop serves its stand-ins.
            await asyncio.to_thread(blocker.execute, "BEGIN EXCLUSIVE")
            yield
            blocker.execute("ROLLBACK")
        finally:
            blocker.close()
        return
    async with await Database.open(target) as other:
        inside, leave = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with other.write():
                inside.set()
                await leave.wait()

        holding = asyncio.create_task(hold())
        await inside.wait()
        try:
            yield
        finally:
            leave.set()
            await holding
