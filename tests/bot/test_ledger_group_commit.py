"""Group commit: concurrent callbacks share a transaction and each still gets its own answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import pytest

from bot.ledger import MAX_BATCH, Ledger, payment_dedupe_key
from bot.notifications import PaymentNotice
from storage import Code, Database, InboxOutcome, NewMessage, OutboxRepository, Transaction
from tests.bot import SELLER
from tests.standins import add_code, charge_success_body

ADMIN = 1000


class CountedWrites:
    """Counts the write transactions databases open."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        write = Database.write

        @contextlib.asynccontextmanager
        async def counted(db: Database) -> AsyncIterator[Transaction]:
            self.count += 1
            async with write(db) as tx:
                yield tx

        monkeypatch.setattr(Database, "write", counted)


def body_for(code: Code, charge_id: str, amount: int) -> bytes:
    assert code.pivot_session_id is not None
    return charge_success_body(
        code.pivot_session_id, code.client_reference_id, [(charge_id, amount)]
    )


async def test_concurrent_callbacks_share_transactions_and_keep_their_running_counts(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = await add_code(db, SELLER)
    writes = CountedWrites(monkeypatch)
    wakes: list[None] = []
    db.add_outbox_listener(lambda: wakes.append(None))
    ledger = Ledger(db, [ADMIN])

    await asyncio.gather(
        *(ledger.record_callback(body_for(code, f"c{n}", 1_000 * n)) for n in range(1, 11))
    )

    assert writes.count < 10
    assert len(wakes) == writes.count
    assert (await db.charges.count(), await db.outbox.count()) == (10, 10)
    notices = [
        PaymentNotice.model_validate_json(row.payload)
        for n in range(1, 11)
        if (row := await db.outbox.by_dedupe_key(payment_dedupe_key(f"c{n}"))) is not None
    ]
    # Recorded one after the other, as alone: running counts 1..10, totals adding up.
    assert sorted((notice.count, notice.total) for notice in notices) == [
        (n, 1_000 * n * (n + 1) // 2) for n in range(1, 11)
    ]


async def test_one_batch_sorts_out_repeats_strangers_and_unreadable_bodies(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = await add_code(db, SELLER), await add_code(db, SELLER)
    writes = CountedWrites(monkeypatch)
    ledger = Ledger(db, [ADMIN])
    bodies = [
        body_for(first, "c1", 1_000),
        body_for(second, "c2", 2_000),
        body_for(first, "c1", 1_000),  # Pivot's retry, in the same batch
        b"not json",
        charge_success_body("no-such-session", "no-such-ref", [("c3", 3_000)]),
        body_for(first, "c4", 4_000),
    ]

    await asyncio.gather(*(ledger.record_callback(body) for body in bodies))

    assert writes.count == 1
    assert await db.charges.count() == 4  # the stranger's charge is kept too, without a code
    outcomes = [(await db.inbox.get(n)) for n in range(1, 7)]
    assert [entry.outcome if entry else None for entry in outcomes] == [
        InboxOutcome.RECORDED,
        InboxOutcome.RECORDED,
        InboxOutcome.DUPLICATE,
        InboxOutcome.DEAD_LETTER,
        InboxOutcome.UNKNOWN_SESSION,
        InboxOutcome.RECORDED,
    ]
    notices = {}
    for charge in ("c1", "c2", "c4"):
        row = await db.outbox.by_dedupe_key(payment_dedupe_key(charge))
        assert row is not None
        notices[charge] = PaymentNotice.model_validate_json(row.payload)
    assert [(n.count, n.total) for n in notices.values()] == [(1, 1_000), (1, 2_000), (2, 5_000)]
    # Three payment messages and the operator's two alerts.
    assert await db.outbox.count() == 5


async def test_a_failing_callback_fails_alone_and_the_rest_of_its_batch_is_recorded(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = await add_code(db, SELLER)
    enqueue_all = OutboxRepository.enqueue_all

    async def enqueue_unless_bad(
        self: OutboxRepository, messages: Sequence[NewMessage], *, now: datetime
    ) -> int:
        if any(message.dedupe_key == payment_dedupe_key("bad") for message in messages):
            raise RuntimeError("disk full")
        return await enqueue_all(self, messages, now=now)

    monkeypatch.setattr(OutboxRepository, "enqueue_all", enqueue_unless_bad)
    writes = CountedWrites(monkeypatch)
    ledger = Ledger(db, [ADMIN])
    charges = ["c1", "c2", "bad", "c3", "c4"]

    results = await asyncio.gather(
        *(ledger.record_callback(body_for(code, charge, 10_000)) for charge in charges),
        return_exceptions=True,
    )

    assert [type(result).__name__ for result in results] == [
        "NoneType",
        "NoneType",
        "RuntimeError",
        "NoneType",
        "NoneType",
    ]
    assert writes.count > len(charges)  # a batch failed, then each was tried alone
    assert not await db.charges.exists("bad")
    for charge in ("c1", "c2", "c3", "c4"):
        assert await db.charges.exists(charge)
        assert await db.outbox.by_dedupe_key(payment_dedupe_key(charge)) is not None
    assert await db.inbox.count() == 4
    assert await db.inbox.count(InboxOutcome.RECORDED) == 4


async def test_a_batch_holds_at_most_max_batch_callbacks(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = await add_code(db, SELLER)
    writes = CountedWrites(monkeypatch)
    ledger = Ledger(db, [ADMIN])
    total = 2 * MAX_BATCH + 2

    await asyncio.gather(
        *(ledger.record_callback(body_for(code, f"c{n}", 10_000)) for n in range(total))
    )

    # All are waiting before the first commit starts: MAX_BATCH, MAX_BATCH, then 2.
    assert writes.count == 3
    assert await db.charges.count() == total
