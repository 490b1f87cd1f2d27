"""Copying a SQLite database into PostgreSQL (``storage.copy_sqlite_to_postgres``): every
record arrives as it was, new rows get fresh ids, and a database already in use is refused."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from storage import (
    ChargeConfirmation,
    CodeKind,
    Database,
    DatabaseError,
    DatabaseNotEmptyError,
    InboxOutcome,
    NewMessage,
    Role,
    SellerStatus,
    copy_sqlite_to_postgres,
)
from tests.standins import buyer_opens
from tests.standins.records import NOW, add_code, add_seller, record_charge

LATER = NOW + timedelta(hours=1)
TOKENS = ("invite-used", "invite-open")
LINKS = ("link-revoked", "link-live")
CHARGES = ("ch-1", "ch-2", "ch-pending", "ch-stray")
BODIES = (b'{"event": "CHARGE.SUCCESS"}', b"\x00\xff not UTF-8")
MESSAGES = ("pay:1", "pay:2", "held:1", "receipt:ch-pending")


@pytest.fixture
async def source(db_path: Path) -> AsyncIterator[Database]:
    async with await Database.open(db_path) as database:
        yield database


@pytest.fixture
async def target(postgres_url: str) -> AsyncIterator[Database]:
    async with await Database.open(postgres_url) as database:
        yield database


async def fill(db: Database) -> list[int]:
    """A row in every table, through the repositories, in every state worth keeping; the
    codes' ids."""
    await add_seller(db, 1, role=Role.OPERATOR)
    await add_seller(db, 100, invited_by=1, language="en")
    await add_seller(db, 200, invited_by=1)
    code = await add_code(db, 100, customer="Budi")
    va = await add_code(db, 100, kind=CodeKind.VA, bank="BCA", va_suffix=7, amount=50_000)
    pending = await add_code(db, 200, activate=False)
    gone = await add_code(db, 200, customer="Ani")
    await record_charge(db, "ch-1", code)
    await record_charge(db, "ch-2", va, amount=50_000, channel="BCA", issuer=None)
    await record_charge(db, "ch-pending", code, confirmation=ChargeConfirmation.PENDING)
    await record_charge(db, "ch-stray", None, amount=1)
    async with db.write() as tx:
        await tx.sellers.set_shop_name(100, "Warung Sari")
        await tx.sellers.set_status(200, SellerStatus.SUSPENDED)
        for token in TOKENS:
            await tx.invites.create(token=token, created_by=1, now=NOW, expires_at=LATER)
        await tx.invites.redeem(TOKENS[0], used_by=200, now=NOW)
        await tx.codes.keep_photo(code.id, "photo-file-id")
        await tx.codes.set_receipts(code.id, True)
        await tx.codes.deactivate(gone.id, now=LATER)
        await tx.codes.move_sweep_cursor(va.id)
        entries = await tx.inbox.add_all(BODIES, now=NOW)
        await tx.inbox.set_outcomes([(entries[0], InboxOutcome.RECORDED, "ch-1")])
        await tx.outbox.enqueue_all(
            [
                NewMessage(MESSAGES[0], 100, "payment", '{"n": 1}'),
                NewMessage(MESSAGES[1], 100, "payment", '{"n": 2}', due_at=LATER),
                NewMessage(MESSAGES[3], 555, "receipt", "{}", awaiting_charge="ch-pending"),
            ],
            now=NOW,
        )
        await tx.outbox.enqueue(
            dedupe_key=MESSAGES[2], chat_id=200, kind="x", payload="{}", now=NOW, held=True
        )
        sent = await tx.outbox.by_dedupe_key(MESSAGES[0])
        assert sent is not None
        await tx.outbox.mark_sent([sent.id], telegram_message_id=9001, now=LATER)
        revoked = await tx.buyer_links.create(code_id=code.id, token=LINKS[0], now=NOW)
        await buyer_opens(tx, 555, code.id, revoked.id, language="id", now=NOW)
        await tx.buyer_links.revoke_for_code(code.id, now=NOW)
        live = await tx.buyer_links.create(code_id=code.id, token=LINKS[1], now=LATER)
        await buyer_opens(tx, 556, code.id, live.id, language="en", now=LATER)
        await tx.bot_state.put("user_data", {"100": '{"draft": "qris"}'}, now=NOW)
        await tx.bot_state.put("conversations", {"new:100": '"amount"'}, now=LATER)
    return [code.id, va.id, pending.id, gone.id]


async def everything(db: Database, code_ids: list[int]) -> dict[str, Any]:
    """Every record ``fill`` made, read back through the repositories."""
    return {
        "sellers": await db.sellers.list(offset=0, limit=100),
        "invites": [await db.invites.get(token) for token in TOKENS],
        "codes": [await db.codes.get(code_id) for code_id in code_ids],
        "cursor": await db.codes.sweep_cursor(),
        "charges": [await db.charges.get(charge) for charge in CHARGES],
        "inbox": [await db.inbox.get(entry) for entry in (1, 2)],
        "outbox": await db.outbox.by_dedupe_keys(MESSAGES),
        "links": [await db.buyer_links.by_token(token) for token in LINKS],
        "buyers": await db.buyers.holding_live_links(code_ids),
        "user_data": await db.bot_state.of_kind("user_data"),
        "conversations": await db.bot_state.of_kind("conversations"),
    }


async def test_every_record_arrives_as_it_was(source: Database, target: Database) -> None:
    code_ids = await fill(source)
    before = await everything(source, code_ids)

    copied = await copy_sqlite_to_postgres(source, target)

    assert copied == {
        "sellers": 3,
        "invites": 2,
        "codes": 4,
        "charges": 4,
        "callback_inbox": 2,
        "outbox": 4,
        "reconcile_cursor": 1,
        "buyer_links": 2,
        "buyers": 2,
        "bot_state": 2,
    }
    assert await everything(target, code_ids) == before
    assert all(before["invites"]) and all(before["codes"]) and all(before["charges"])
    assert before["inbox"][1].body == BODIES[1]
    assert len(before["outbox"]) == len(MESSAGES)
    assert await everything(source, code_ids) == before  # the source is left as it was


async def test_rows_written_after_the_copy_get_fresh_ids(
    source: Database, target: Database
) -> None:
    code_ids = await fill(source)
    await copy_sqlite_to_postgres(source, target)

    code = await add_code(target, 100, customer="Baru")
    charge = await record_charge(target, "ch-new", code)
    async with target.write() as tx:
        [entry] = await tx.inbox.add_all([b"{}"], now=LATER)
        await tx.outbox.enqueue(dedupe_key="new", chat_id=100, kind="x", payload="{}", now=LATER)
        await tx.buyer_links.revoke_for_code(code_ids[0], now=LATER)
        link = await tx.buyer_links.create(code_id=code_ids[0], token="link-new", now=LATER)
    message = await target.outbox.by_dedupe_key("new")

    assert code.id == max(code_ids) + 1
    assert charge.id == len(CHARGES) + 1
    assert entry == len(BODIES) + 1
    assert message is not None and message.id == len(MESSAGES) + 1
    assert link.id == len(LINKS) + 1


async def test_a_database_holding_records_is_refused_and_left_as_it_was(
    source: Database, target: Database
) -> None:
    await fill(source)
    await add_seller(target, 900)

    with pytest.raises(DatabaseNotEmptyError, match="already holds records \\(in sellers\\)"):
        await copy_sqlite_to_postgres(source, target)

    assert [seller.telegram_id for seller in await target.sellers.list(offset=0, limit=10)] == [
        900
    ]
    assert await target.codes.count_for_seller(100) == 0
    assert await target.charges.count() == 0
    assert await target.invites.get(TOKENS[0]) is None


async def test_a_table_the_copy_does_not_know_is_refused_before_anything_is_written(
    db_path: Path, target: Database
) -> None:
    async with await Database.open(db_path) as source:
        await add_seller(source, 100)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE later_table (id INTEGER PRIMARY KEY)")
    conn.close()

    async with await Database.open(db_path) as source:
        with pytest.raises(DatabaseError, match="leaves out: \\['later_table'\\]"):
            await copy_sqlite_to_postgres(source, target)

    assert await target.sellers.count() == 0
