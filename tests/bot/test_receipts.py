"""Receipts through the ledger, on a real database: queued in the charge's own transaction, once
per charge and buyer, only for codes whose receipts are on and buyers holding a live link, and
AWAITING Pivot's confirmation when a callback reported the charge."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import pivot_client
from bot.clock import format_datetime
from bot.ledger import Ledger
from bot.notifications import TextNotice
from bot.receipts import receipt_dedupe_key
from bot.texts import text
from storage import (
    ChargeSource,
    Code,
    CodeKind,
    Database,
    OutboxMessage,
    OutboxStatus,
)
from tests.bot import SELLER
from tests.standins import add_code, buyer_opens, charge_success_body

ADMIN = 1000
DEWI, RINA, OLD = 3001, 3002, 3003  # buyers; OLD opened a link since revoked
PAID_AT = datetime(2026, 11, 24, 7, 5, tzinfo=UTC)  # charge_success_body's paidAt


async def with_buyers(db: Database, *, receipts: bool) -> Code:
    """A code with receipts on or off: OLD opened its first link, since revoked; DEWI (in
    English) and RINA its live one."""
    code = await add_code(db, SELLER, kind=CodeKind.VA, bank="BCA", amount=25_000)
    async with db.write() as tx:
        await tx.sellers.set_shop_name(SELLER, "Warung Sari")
        await tx.codes.set_receipts(code.id, receipts)
        old = await tx.buyer_links.create(code_id=code.id, token="b_old", now=PAID_AT)
        await buyer_opens(tx, OLD, code.id, old.id, language="id", now=PAID_AT)
        await tx.buyer_links.revoke_for_code(code.id, now=PAID_AT)
        live = await tx.buyer_links.create(code_id=code.id, token="b_live", now=PAID_AT)
        await buyer_opens(tx, DEWI, code.id, live.id, language="en", now=PAID_AT)
        await buyer_opens(tx, RINA, code.id, live.id, language="id", now=PAID_AT)
    stored = await db.codes.get(code.id)
    assert stored is not None
    return stored


async def receipts(db: Database, charge_id: str) -> dict[int, OutboxMessage]:
    keys = [receipt_dedupe_key(charge_id, buyer) for buyer in (DEWI, RINA, OLD)]
    rows = await db.outbox.by_dedupe_keys(keys)
    return {row.chat_id: row for row in rows.values()}


def callback(code: Code, *charges: tuple[str, int]) -> bytes:
    assert code.pivot_session_id is not None
    return charge_success_body(code.pivot_session_id, code.client_reference_id, list(charges))


async def test_a_reported_charge_queues_one_receipt_per_buyer_awaiting_confirmation(
    db: Database,
) -> None:
    code = await with_buyers(db, receipts=True)
    ledger = Ledger(db, [ADMIN])

    for _ in range(3):  # Pivot's retries and a duplicate: still one receipt each
        await ledger.record_callback(callback(code, ("c1", 25_000)))

    queued = await receipts(db, "c1")
    assert set(queued) == {DEWI, RINA}  # not OLD, whose link was revoked
    for row in queued.values():
        assert (row.status, row.awaiting_charge) == (OutboxStatus.AWAITING, "c1")
    time = format_datetime(PAID_AT, ZoneInfo("Asia/Jakarta"))
    assert TextNotice.model_validate_json(queued[DEWI].payload).text == text(
        "en", "receipt", amount="Rp 25.000", shop="Warung Sari", time=time
    )
    assert "Pembayaran diterima: Rp 25.000" in queued[RINA].payload
    assert await db.outbox.count() == 3  # the seller's message and the two receipts


async def test_a_charge_found_through_pivots_api_sends_its_receipts_at_once(db: Database) -> None:
    code = await with_buyers(db, receipts=True)
    charge = pivot_client.Charge.model_validate(
        {
            "id": "c2",
            "status": "SUCCESS",
            "amount": {"value": 25_000, "currency": "IDR"},
            "paidAt": PAID_AT.isoformat(),
        }
    )
    assert code.pivot_session_id is not None
    await Ledger(db, [ADMIN]).record_charges(
        code.pivot_session_id, code.client_reference_id, [charge], ChargeSource.RECONCILIATION
    )

    queued = await receipts(db, "c2")
    assert {(row.chat_id, row.status, row.awaiting_charge) for row in queued.values()} == {
        (DEWI, OutboxStatus.PENDING, None),
        (RINA, OutboxStatus.PENDING, None),
    }


async def test_receipts_off_queue_nothing_and_ask_nothing_of_the_buyers_table(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = await with_buyers(db, receipts=False)
    asked: list[object] = []
    monkeypatch.setattr(type(db.buyers), "holding_live_links", lambda self, ids: asked.append(ids))

    await Ledger(db, [ADMIN]).record_callback(callback(code, ("c3", 25_000)))

    assert await receipts(db, "c3") == {}
    assert asked == []
    assert await db.outbox.count() == 1
