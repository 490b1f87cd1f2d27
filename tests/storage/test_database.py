"""Database: connection settings, the read-only reader, write transactions, lifecycle."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import asyncpg
import pytest

from storage import (
    CodeKind,
    ConstraintError,
    Database,
    DatabaseError,
    DatabasePathError,
    InviteResult,
    OutboxStatus,
    Role,
    StorageError,
    _engine,
    _migrations,
)
from tests.standins import NOW, add_code, add_seller, another_process_writing, new_charge, wait_for


async def _pragma(conn: aiosqlite.Connection, name: str) -> object:
    rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
    return rows[0][0]


@pytest.mark.sqlite_only
async def test_open_creates_the_folder_and_sets_the_pragmas(db: Database, db_path: Path) -> None:
    assert await asyncio.to_thread(db_path.is_file)
    writer, reader = db._engine._writer, db._engine._reader
    assert await _pragma(writer, "journal_mode") == "wal"
    assert await _pragma(writer, "foreign_keys") == 1
    assert await _pragma(writer, "synchronous") == 2  # FULL
    assert await _pragma(writer, "busy_timeout") == 5000
    assert await _pragma(reader, "journal_mode") == "wal"
    assert await _pragma(reader, "busy_timeout") == 5000
    assert await db.schema_version() == len(_migrations.MIGRATIONS)
    await db.ping()


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("folder", r"it is a folder; name a file in it, such as .*folder/kodebayar\.db$"),
        ("file/kodebayar.db", r"file is a file, not a folder$"),
        ("file/deeper/kodebayar.db", r"file is a file, not a folder$"),
    ],
)
async def test_a_path_that_cannot_hold_a_database_says_why(
    tmp_path: Path, where: str, reason: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("")

    with pytest.raises(DatabasePathError, match=reason):
        await Database.open(tmp_path / where)


@pytest.mark.sqlite_only
async def test_a_folder_this_user_cannot_write_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, who may write anywhere: the check itself is made to say no.
    monkeypatch.setattr("storage._sqlite.os.access", lambda path, mode: False)

    with pytest.raises(DatabasePathError, match=r"the folder .*/data is not writable by this"):
        await Database.open(tmp_path / "data" / "kodebayar.db")


@pytest.mark.sqlite_only
async def test_a_file_that_is_not_a_database_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, only text " * 40)

    with pytest.raises(DatabaseError, match="file is not a database"):
        await Database.open(path)


async def test_the_reader_refuses_writes(db: Database) -> None:
    with pytest.raises(DatabaseError, match=r"read-?only"):
        await add_seller_through_reader(db)
    assert await db.sellers.count() == 0


async def add_seller_through_reader(db: Database) -> None:
    """A write method called on a db.<repository>, outside db.write()."""
    await db.sellers.add(
        telegram_id=1,
        chat_id=1,
        name="Ani",
        username=None,
        language="id",
        timezone="Asia/Jakarta",
        role=Role.SELLER,
        invited_by=None,
        now=NOW,
    )


async def test_an_exception_rolls_the_whole_transaction_back(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.write() as tx:
            await tx.invites.create(token="t1", created_by=1, now=NOW, expires_at=NOW)
            await tx.outbox.enqueue(dedupe_key="k", chat_id=1, kind="text", payload="{}", now=NOW)
            raise Boom
    assert await db.invites.get("t1") is None
    assert await db.outbox.count() == 0
    # The writer is usable again, and commits.
    async with db.write() as tx:
        await tx.invites.create(token="t1", created_by=1, now=NOW, expires_at=NOW)
    assert await db.invites.get("t1") is not None


async def test_a_cancelled_writer_rolls_back_and_frees_the_lock(db: Database) -> None:
    entered = asyncio.Event()

    async def write_then_hang() -> None:
        async with db.write() as tx:
            await tx.invites.create(token="t1", created_by=1, now=NOW, expires_at=NOW)
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(write_then_hang())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.write() as tx:
        assert await tx.invites.get("t1") is None


async def test_writers_queued_behind_another_process_wait_one_busy_timeout_in_all(
    database_target: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each waiting a whole timeout after the one before it, the third would fail after 3 s: a
    # callback queued behind other writers would be answered long after Pivot stopped waiting.
    monkeypatch.setattr(_engine, "WRITE_WAIT_MS", 1000)
    async with await Database.open(database_target) as db:
        loop = asyncio.get_running_loop()
        async with another_process_writing(database_target):
            started = loop.time()

            async def refused_after() -> float:
                with pytest.raises(DatabaseError, match="locked"):
                    async with db.write():
                        pass
                return loop.time() - started

            waits = await asyncio.gather(*(refused_after() for _ in range(3)))
        assert max(waits) < 2.0, waits
        if db.engine == "sqlite":
            # The writer that had its wait shortened left the full timeout for the next one.
            assert await _pragma(db._engine._writer, "busy_timeout") == 1000
        async with db.write() as tx:
            await tx.invites.create(token="t1", created_by=1, now=NOW, expires_at=NOW)


async def test_a_constraint_violation_is_a_storage_and_a_sqlite_error(db: Database) -> None:
    await add_seller(db)
    await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=7)
    with pytest.raises(ConstraintError, match="UNIQUE") as caught:
        await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=7)
    assert isinstance(caught.value, StorageError)
    assert isinstance(caught.value, sqlite3.IntegrityError)  # on either engine
    assert isinstance(caught.value.__cause__, DRIVER_INTEGRITY_ERROR[db.engine])


DRIVER_INTEGRITY_ERROR = {
    "sqlite": sqlite3.IntegrityError,
    "postgresql": asyncpg.IntegrityConstraintViolationError,
}


@pytest.mark.sqlite_only
async def test_a_constraint_violation_carries_sqlites_error_name(db: Database) -> None:
    await add_seller(db)
    await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=7)
    with pytest.raises(ConstraintError) as caught:
        await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=7)
    assert caught.value.sqlite_errorname == "SQLITE_CONSTRAINT_UNIQUE"


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(ConstraintError, match="FOREIGN KEY"):
        await add_code(db, seller_id=404)


async def test_twenty_concurrent_deliveries_of_one_charge_record_it_once(db: Database) -> None:
    await add_seller(db)
    code = await add_code(db)
    charge = new_charge("charge-1", code)

    async def deliver() -> tuple[bool, bool]:
        async with db.write() as tx:
            recorded = await tx.charges.insert_new([charge], now=NOW)
            queued = await tx.outbox.enqueue(
                dedupe_key=f"paid:{charge.pivot_charge_id}",
                chat_id=100,
                kind="payment",
                payload="{}",
                now=NOW,
            )
        return bool(recorded), queued

    results = await asyncio.gather(*(deliver() for _ in range(20)))
    assert sorted(results) == [(False, False)] * 19 + [(True, True)]
    assert await db.charges.count() == 1
    assert await db.outbox.count(OutboxStatus.PENDING) == 1


async def test_write_is_not_reentrant(db: Database) -> None:
    async with db.write():
        with pytest.raises(RuntimeError, match=r"inside db\.write"):
            async with db.write():
                pass


async def test_naive_datetimes_are_refused(db: Database) -> None:
    naive = datetime(2026, 11, 24, 7, 0)
    with pytest.raises(ValueError, match="naive datetime"):
        async with db.write() as tx:
            await tx.invites.create(token="t", created_by=1, now=naive, expires_at=naive)
    assert await db.invites.get("t") is None


async def test_other_timezones_come_back_as_the_same_instant_in_utc(db: Database) -> None:
    jakarta = NOW.astimezone(ZoneInfo("Asia/Jakarta"))
    async with db.write() as tx:
        invite = await tx.invites.create(token="t", created_by=1, now=jakarta, expires_at=NOW)
    assert invite.created_at == NOW
    assert invite.created_at.utcoffset() is not None
    assert invite.created_at.tzinfo == NOW.tzinfo


async def test_close_twice_then_ping_and_write_fail(database_target: Path | str) -> None:
    db = await Database.open(database_target)
    await db.close()
    await db.close()
    with pytest.raises(StorageError, match="closed"):
        await db.ping()
    with pytest.raises(StorageError, match="closed"):
        async with db.write():
            pass


async def test_close_lets_the_running_transaction_commit_first(
    database_target: Path | str,
) -> None:
    db = await Database.open(database_target)
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow_write() -> None:
        async with db.write() as tx:
            inside.set()
            await release.wait()
            await tx.invites.create(token="t", created_by=1, now=NOW, expires_at=NOW)

    writer = asyncio.create_task(slow_write())
    await inside.wait()
    closing = asyncio.create_task(db.close())
    await wait_for(lambda: db._closed, timeout=5, what="close() to start")
    with pytest.raises(StorageError, match="closed"):
        async with db.write():
            pass
    assert not closing.done()
    release.set()
    await writer
    await closing
    async with await Database.open(database_target) as reopened:
        assert await reopened.invites.get("t") is not None


async def test_data_survives_reopening(database_target: Path | str) -> None:
    async with await Database.open(database_target) as db, db.write() as tx:
        await tx.invites.create(token="t", created_by=1, now=NOW, expires_at=NOW)
    async with await Database.open(database_target) as db, db.write() as tx:
        assert await tx.invites.redeem("t", used_by=2, now=NOW) is InviteResult.EXPIRED
