"""InboxRepository: raw callback bodies and their outcomes."""

from __future__ import annotations

from datetime import timedelta

from storage import Database, InboxOutcome
from tests.standins import NOW


async def test_add_all_keeps_the_exact_bytes_as_received(db: Database) -> None:
    body = b'{"event": "CHARGE.SUCCESS", "data": "\xff not utf-8"}'
    async with db.write() as tx:
        [entry_id] = await tx.inbox.add_all([body], now=NOW)
    entry = await db.inbox.get(entry_id)
    assert entry is not None
    assert (entry.body, entry.received_at, entry.outcome, entry.detail) == (
        body,
        NOW,
        InboxOutcome.RECEIVED,
        None,
    )
    assert await db.inbox.get(entry_id + 1) is None


async def test_add_all_returns_each_body_its_own_id_in_order(db: Database) -> None:
    bodies = [f"body {n}".encode() for n in range(700)]
    async with db.write() as tx:
        await tx.inbox.add_all([b"first"], now=NOW)
        entry_ids = await tx.inbox.add_all(bodies, now=NOW)
    assert len(set(entry_ids)) == len(bodies)
    for entry_id, body in zip(entry_ids, bodies, strict=True):
        entry = await db.inbox.get(entry_id)
        assert entry is not None and entry.body == body


async def test_nothing_to_add_or_update_is_fine(db: Database) -> None:
    async with db.write() as tx:
        assert await tx.inbox.add_all([], now=NOW) == []
        await tx.inbox.set_outcomes([])
    assert await db.inbox.count() == 0


async def test_outcomes_are_counted(db: Database) -> None:
    async with db.write() as tx:
        recorded, dead, _ = await tx.inbox.add_all([b"{}", b"not json", b"{}"], now=NOW)
        await tx.inbox.set_outcomes(
            [
                (recorded, InboxOutcome.RECORDED, None),
                (dead, InboxOutcome.DEAD_LETTER, "invalid JSON"),
            ]
        )
    entry = await db.inbox.get(dead)
    assert entry is not None
    assert (entry.outcome, entry.detail) == (InboxOutcome.DEAD_LETTER, "invalid JSON")
    assert await db.inbox.count() == 3
    assert await db.inbox.count(InboxOutcome.RECEIVED) == 1
    assert await db.inbox.count(InboxOutcome.DEAD_LETTER) == 1
    assert await db.inbox.count(InboxOutcome.DUPLICATE) == 0


async def test_last_received_at_is_the_latest_arrival(db: Database) -> None:
    assert await db.inbox.last_received_at() is None
    async with db.write() as tx:
        await tx.inbox.add_all([b"{}"], now=NOW + timedelta(minutes=5))
        await tx.inbox.add_all([b"{}"], now=NOW)
    assert await db.inbox.last_received_at() == NOW + timedelta(minutes=5)
