"""Migrations: applied in order at open, one transaction each; a newer file is refused.

Most are about SQLite's own history (its versions, PRAGMA user_version, raw files); the
upgrade in place and the failed migration are also proven on PostgreSQL's history, which
starts at SQLite's version 8 (a newer PostgreSQL database: tests/storage/test_postgres.py).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from storage import (
    ChargeConfirmation,
    Database,
    DatabaseError,
    DatabaseTooNewError,
    OutboxStatus,
    _migrations,
    _postgres,
)
from tests.standins import add_seller, wait_for

_V1 = _migrations.MIGRATIONS[0]
_V2_NICKNAMES = """
ALTER TABLE sellers ADD COLUMN nickname TEXT;
UPDATE sellers SET nickname = 'nick ' || name;
"""


async def _nicknames(db: Database) -> list[str]:
    rows = await db._engine._reader.execute_fetchall("SELECT nickname FROM sellers")
    return [row[0] for row in rows]


async def _add_old_seller(db: Database, telegram_id: int) -> None:
    """A seller as version 1 stores one: the repository reads columns added since."""
    await db._engine._writer.execute(
        "INSERT INTO sellers (telegram_id, chat_id, name, language, timezone, role, status,"
        " created_at) VALUES (?, ?, ?, 'id', 'Asia/Jakarta', 'seller', 'active', 0)",
        (telegram_id, telegram_id, f"Seller {telegram_id}"),
    )


@pytest.mark.sqlite_only
async def test_a_version_1_database_upgrades_in_place_keeping_its_rows(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_migrations, "MIGRATIONS", [_V1])
    async with await Database.open(db_path) as db:
        await _add_old_seller(db, 100)
        assert await db.schema_version() == 1

    monkeypatch.setattr(_migrations, "MIGRATIONS", [_V1, _V2_NICKNAMES])
    async with await Database.open(db_path) as db:
        assert await db.schema_version() == 2
        names = await db._engine._reader.execute_fetchall("SELECT name FROM sellers")
        assert [row[0] for row in names] == ["Seller 100"]
        assert await _nicknames(db) == ["nick Seller 100"]

    # Opening again applies nothing twice.
    async with await Database.open(db_path) as db:
        assert await db.schema_version() == 2
        assert await _nicknames(db) == ["nick Seller 100"]


@pytest.mark.sqlite_only
async def test_a_failing_migration_leaves_the_previous_version_intact(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_migrations, "MIGRATIONS", [_V1])
    async with await Database.open(db_path) as db:
        await _add_old_seller(db, 100)

    broken = "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);"
    monkeypatch.setattr(_migrations, "MIGRATIONS", [_V1, broken])
    with pytest.raises(DatabaseError, match="no_such_table"):
        await Database.open(db_path)

    monkeypatch.setattr(_migrations, "MIGRATIONS", [_V1])
    async with await Database.open(db_path) as db:
        assert await db.schema_version() == 1
        assert await db.sellers.count() == 1
        tables = await db._engine._reader.execute_fetchall(
            "SELECT name FROM sqlite_schema WHERE name = 'half_done'"
        )
        assert list(tables) == []


@pytest.mark.sqlite_only
async def test_a_migration_that_leaves_a_dangling_foreign_key_is_rolled_back(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_migrations, "MIGRATIONS", [_V1])
    async with await Database.open(db_path):
        pass
    # Migrations run with foreign keys off, so only the check before COMMIT can catch this.
    orphan = (
        "INSERT INTO codes (seller_id, kind, customer, request_key, client_reference_id,"
        " status, created_at) VALUES (999, 'QRIS', 'x', 'k', 'r', 'pending', 0)"
    )
    monkeypatch.setattr(_migrations, "MIGRATIONS", [_V1, orphan])
    with pytest.raises(DatabaseError, match=r"migration 2 would leave 1 dangling"):
        await Database.open(db_path)

    monkeypatch.setattr(_migrations, "MIGRATIONS", [_V1])
    async with await Database.open(db_path) as db:
        assert await db.schema_version() == 1
        assert await db.codes.count_for_seller(999) == 0


@pytest.mark.sqlite_only
async def test_a_newer_database_is_refused_and_nothing_is_left_open(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = len(_migrations.MIGRATIONS)
    async with await Database.open(db_path):
        pass
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {known + 6}")
    raw.close()

    opened: list[aiosqlite.Connection] = []
    real_connect = aiosqlite.connect

    def spying_connect(*args: object, **kwargs: object) -> aiosqlite.Connection:
        conn = real_connect(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(conn)
        return conn

    monkeypatch.setattr(aiosqlite, "connect", spying_connect)
    expected = (
        rf"database schema version {known + 6} is newer than this Kodebayar "
        rf"\(knows up to {known}\); upgrade Kodebayar or restore a backup"
    )
    with pytest.raises(DatabaseTooNewError, match=expected) as caught:
        await Database.open(db_path)
    assert (caught.value.found, caught.value.known) == (known + 6, known)

    assert opened, "Database.open did not connect at all"
    assert all(conn._connection is None for conn in opened)
    await wait_for(
        lambda: not any(conn._thread.is_alive() for conn in opened),
        timeout=5,
        what="the aiosqlite worker threads to stop",
    )
    # The file was not touched.
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (known + 6,)
    raw.close()


@pytest.mark.sqlite_only
async def test_closed_vas_made_before_expiry_was_kept_get_pivots_thirty_days(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_migrations, "MIGRATIONS", _migrations.MIGRATIONS[:2])
    now = datetime.now(UTC)
    async with await Database.open(db_path) as db:
        await _add_old_seller(db, 100)
    # Rows as version 2 wrote them: (kind, amount, made days ago, with a Pivot session).
    rows = [("VA", 50_000, 40, True), ("VA", 50_000, 28, True), ("VA", None, 40, True)]
    rows += [("QRIS", 10_000, 40, True), ("VA", 50_000, 28, False)]
    with sqlite3.connect(db_path) as raw:
        for number, (kind, amount, age, made) in enumerate(rows, start=1):
            created = now - timedelta(days=age)
            raw.execute(
                "INSERT INTO codes (id, seller_id, kind, amount, customer, request_key,"
                " client_reference_id, pivot_session_id, status, created_at)"
                " VALUES (?, 100, ?, ?, 'Budi', ?, ?, ?, ?, ?)",
                (
                    number,
                    kind,
                    amount,
                    f"k{number}",
                    f"r{number}",
                    f"s{number}" if made else None,
                    "active" if made else "pending",
                    (created - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1),
                ),
            )
    raw.close()

    monkeypatch.undo()
    async with await Database.open(db_path) as db:
        codes = [await db.codes.get(number) for number in range(1, len(rows) + 1)]
        expiries = [
            code.expires_at - code.created_at if code and code.expires_at else None
            for code in codes
        ]
        # Closed VAs Pivot made: 30 days; open VAs, QRIS and codes never made: no expiry.
        thirty = timedelta(days=30)
        assert expiries == [thirty, thirty, None, None, None]
        # Long expired before the upgrade: not warned about now; about to expire: warned.
        due = await db.codes.due_expiry_warnings(before=now + timedelta(days=3), limit=10)
        assert [code.id for code in due] == [2]


@pytest.mark.sqlite_only
async def test_charges_recorded_before_confirmation_existed_count_as_confirmed(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_migrations, "MIGRATIONS", _migrations.MIGRATIONS[:2])
    async with await Database.open(db_path) as db:
        await _add_old_seller(db, 100)
    with sqlite3.connect(db_path) as raw:
        raw.execute(
            "INSERT INTO charges (pivot_charge_id, session_id, amount, paid_at, source,"
            " recorded_at) VALUES ('old', 's', 25000, 0, 'callback', 0)"
        )
    raw.close()
    monkeypatch.undo()

    async with await Database.open(db_path) as db:
        charge = await db.charges.get("old")
        assert charge is not None
        assert (charge.confirmation, charge.confirmed_at) == (ChargeConfirmation.CONFIRMED, None)
        assert await db.charges.awaiting_confirmation() == []


@pytest.mark.sqlite_only
async def test_messages_queued_before_messages_could_await_a_charge_keep_their_state(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = _migrations.MIGRATIONS.index(_migrations._V8_AWAITING_MESSAGES)
    monkeypatch.setattr(_migrations, "MIGRATIONS", _migrations.MIGRATIONS[:version])
    async with await Database.open(db_path):
        pass
    with sqlite3.connect(db_path) as raw:
        raw.executemany(
            "INSERT INTO outbox (id, dedupe_key, chat_id, kind, payload, status, attempts,"
            " next_attempt_at, last_error, created_at) VALUES (?, ?, 7, 'text', '{}', ?, 2, 5,"
            " ?, 1)",
            [(1, "payment:a", "held", "blocked"), (2, "payment:b", "sent", None)],
        )
    raw.close()
    monkeypatch.undo()

    async with await Database.open(db_path) as db:
        held = await db.outbox.by_dedupe_key("payment:a")
        sent = await db.outbox.by_dedupe_key("payment:b")
        assert held is not None and sent is not None
        assert (held.id, held.status, held.attempts, held.last_error, held.awaiting_charge) == (
            1,
            OutboxStatus.HELD,
            2,
            "blocked",
            None,
        )
        assert (sent.id, sent.status) == (2, OutboxStatus.SENT)
        async with db.write() as tx:  # the held message is released as before
            assert await tx.outbox.release_chat(7, now=datetime.now(UTC)) == 1


_PG_V1 = _postgres.MIGRATIONS[0]


async def test_on_postgresql_a_database_upgrades_in_place_keeping_its_rows(
    empty_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_postgres, "MIGRATIONS", [_PG_V1])
    async with await Database.open(empty_postgres_url) as db:
        await add_seller(db, 100)
        assert await db.schema_version() == 1

    monkeypatch.setattr(_postgres, "MIGRATIONS", [_PG_V1, _V2_NICKNAMES])
    for _ in range(2):  # the second open applies nothing twice
        async with await Database.open(empty_postgres_url) as db:
            assert await db.schema_version() == 2
            rows = await db._engine.reader.rows("SELECT name, nickname FROM sellers")
            assert [tuple(row) for row in rows] == [("Seller 100", "nick Seller 100")]


async def test_on_postgresql_a_failing_migration_leaves_the_previous_version_intact(
    empty_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_postgres, "MIGRATIONS", [_PG_V1])
    async with await Database.open(empty_postgres_url) as db:
        await add_seller(db, 100)

    broken = "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);"
    monkeypatch.setattr(_postgres, "MIGRATIONS", [_PG_V1, broken])
    with pytest.raises(DatabaseError, match="no_such_table"):
        await Database.open(empty_postgres_url)

    monkeypatch.setattr(_postgres, "MIGRATIONS", [_PG_V1])
    async with await Database.open(empty_postgres_url) as db:
        assert await db.schema_version() == 1
        assert await db.sellers.count() == 1
        tables = await db._engine.reader.rows("SELECT to_regclass('half_done') IS NULL")
        assert tables[0][0] is True
