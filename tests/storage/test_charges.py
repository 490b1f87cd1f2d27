"""ChargeRepository: once per Pivot charge id, per-code pages and stats, a seller's day."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from storage import (
    ChargeConfirmation,
    ChargeSource,
    CodeKind,
    ConstraintError,
    Database,
    SellerDay,
    SellerPayment,
)
from tests.standins import NOW, add_code, add_seller, new_charge, record_charge


@pytest.fixture(autouse=True)
async def _sellers(db: Database) -> None:
    await add_seller(db, 100)
    await add_seller(db, 200)


async def test_insert_new_returns_the_new_rows_and_leaves_out_duplicates(db: Database) -> None:
    code = await add_code(db)
    charge = new_charge(
        "ch-1",
        code,
        amount=30_000,
        source=ChargeSource.RECONCILIATION,
        flags=frozenset({"late", "amount_mismatch"}),
    )
    recorded_at = NOW + timedelta(minutes=3)
    async with db.write() as tx:
        [first] = await tx.charges.insert_new([charge], now=recorded_at)
        again = await tx.charges.insert_new([new_charge("ch-1", code, amount=1)], now=recorded_at)
    assert again == []
    assert (first.pivot_charge_id, first.code_id, first.seller_id, first.amount) == (
        "ch-1",
        code.id,
        100,
        30_000,
    )
    assert (first.paid_at, first.recorded_at) == (NOW, recorded_at)
    assert first.source is ChargeSource.RECONCILIATION
    assert first.flags == frozenset({"amount_mismatch", "late"})
    assert await db.charges.exists("ch-1")
    assert not await db.charges.exists("ch-2")
    assert await db.charges.count() == 1


async def test_flags_are_stored_as_sorted_comma_text(db: Database) -> None:
    await record_charge(db, "plain", None)
    async with db.write() as tx:
        await tx.charges.insert_new(
            [new_charge("flagged", None, flags=frozenset({"late", "deactivated", "amount"}))],
            now=NOW,
        )
    rows = await db._engine.reader.rows("SELECT pivot_charge_id, flags FROM charges ORDER BY id")
    assert [tuple(row) for row in rows] == [("plain", ""), ("flagged", "amount,deactivated,late")]


async def test_a_flag_with_a_comma_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="invalid charge flag"):
        async with db.write() as tx:
            await tx.charges.insert_new([new_charge("x", None, flags=frozenset({"a,b"}))], now=NOW)


async def test_insert_new_in_one_call_keeps_the_first_of_a_repeated_id(db: Database) -> None:
    code = await add_code(db)
    await record_charge(db, "old", code)
    # More rows than one INSERT statement takes, so the split into statements is covered.
    charges = [new_charge(f"ch-{n}", code, amount=n + 1) for n in range(600)]
    charges.insert(300, new_charge("ch-5", code, amount=999_999))
    charges.append(new_charge("old", code))
    async with db.write() as tx:
        inserted = await tx.charges.insert_new(charges, now=NOW)
    assert sorted(charge.pivot_charge_id for charge in inserted) == sorted(
        f"ch-{n}" for n in range(600)
    )
    assert {charge.amount for charge in inserted if charge.pivot_charge_id == "ch-5"} == {6}
    assert await db.charges.count() == 601


async def test_stats_for_codes_leaves_out_codes_never_paid(db: Database) -> None:
    paid, unpaid = await add_code(db), await add_code(db)
    await record_charge(db, "a", paid, amount=1_000)
    await record_charge(db, "b", paid, amount=2_500)
    await record_charge(db, "orphan", None, amount=7_000)
    stats = await db.charges.stats_for_codes([paid.id, unpaid.id, paid.id + 99])
    assert stats == {paid.id: (2, 3_500)}
    assert await db.charges.stats_for_codes([]) == {}


async def test_a_charge_on_an_unknown_session_has_no_code(db: Database) -> None:
    charge = await record_charge(db, "orphan", None)
    assert (charge.code_id, charge.seller_id, charge.session_id) == (None, None, "unknown-session")


async def test_a_charge_must_name_a_real_code(db: Database) -> None:
    code = await add_code(db)
    ghost = replace(new_charge("ghost", code), code_id=code.id + 99)
    with pytest.raises(ConstraintError, match="FOREIGN KEY"):
        async with db.write() as tx:
            await tx.charges.insert_new([ghost], now=NOW)
    assert await db.charges.count() == 0


async def test_stats_and_pages_for_a_code_latest_first(db: Database) -> None:
    code = await add_code(db)
    other = await add_code(db)
    for minute, amount in ((1, 1_000), (3, 3_000), (2, 2_000)):
        await record_charge(
            db, f"c{minute}", code, amount=amount, paid_at=NOW + timedelta(minutes=minute)
        )
    await record_charge(db, "other", other, amount=99_000)

    assert await db.charges.stats_for_code(code.id) == (3, 6_000)
    assert await db.charges.stats_for_code(code.id + 99) == (0, 0)
    assert await db.charges.count_for_code(code.id) == 3
    page1 = await db.charges.list_for_code(code.id, offset=0, limit=2)
    page2 = await db.charges.list_for_code(code.id, offset=2, limit=2)
    assert [charge.pivot_charge_id for charge in page1 + page2] == ["c3", "c2", "c1"]


async def test_day_for_seller_includes_start_excludes_end(db: Database) -> None:
    qris = await add_code(db, customer="Budi")
    va = await add_code(db, kind=CodeKind.VA, bank="BNI", va_suffix=1, customer="Sari")
    foreign = await add_code(db, seller_id=200)
    start, end = NOW, NOW + timedelta(days=1)
    await record_charge(db, "before", qris, amount=1, paid_at=start - timedelta(microseconds=1))
    await record_charge(db, "at-start", va, amount=10, paid_at=start)
    await record_charge(db, "midday", qris, amount=200, paid_at=start + timedelta(hours=5))
    await record_charge(db, "last", qris, amount=3_000, paid_at=end - timedelta(microseconds=1))
    await record_charge(db, "at-end", qris, amount=40_000, paid_at=end)
    await record_charge(db, "not-mine", foreign, amount=500_000, paid_at=start)

    day = await db.charges.day_for_seller(100, start, end, limit=10)
    assert (day.count, day.total) == (3, 3_210)
    assert [(p.charge.pivot_charge_id, p.customer, p.kind) for p in day.payments] == [
        ("at-start", "Sari", CodeKind.VA),
        ("midday", "Budi", CodeKind.QRIS),
        ("last", "Budi", CodeKind.QRIS),
    ]
    assert all(isinstance(payment, SellerPayment) for payment in day.payments)


async def test_day_for_seller_lists_the_first_payments_but_counts_and_totals_all(
    db: Database,
) -> None:
    code = await add_code(db)
    # Recorded out of time order, two at the same moment: the list goes by time, then id.
    for name, minute in (("c3", 3), ("c1", 1), ("c2a", 2), ("c2b", 2), ("c4", 4)):
        await record_charge(
            db, name, code, amount=minute * 1_000, paid_at=NOW + timedelta(minutes=minute)
        )

    day = await db.charges.day_for_seller(100, NOW, NOW + timedelta(days=1), limit=3)
    assert (day.count, day.total) == (5, 12_000)
    assert [payment.charge.pivot_charge_id for payment in day.payments] == ["c1", "c2a", "c2b"]


async def test_day_for_seller_says_how_much_waits_for_pivots_confirmation(db: Database) -> None:
    code = await add_code(db, amount=25_000)
    open_code = await add_code(db, customer="Sari")
    await record_charge(db, "confirmed", code, amount=25_000, paid_at=NOW)
    waiting = ChargeConfirmation.PENDING
    later = NOW + timedelta(minutes=1)
    await record_charge(
        db, "waiting", open_code, amount=20_000, paid_at=later, confirmation=waiting
    )

    day = await db.charges.day_for_seller(100, NOW, NOW + timedelta(days=1), limit=30)
    assert (day.count, day.total, day.unconfirmed) == (2, 45_000, 20_000)
    assert [(p.expected, p.charge.awaiting_confirmation) for p in day.payments] == [
        (25_000, False),
        (None, True),
    ]


async def test_day_for_seller_with_no_payment_is_empty(db: Database) -> None:
    code = await add_code(db)
    await record_charge(db, "yesterday", code, paid_at=NOW - timedelta(hours=1))
    day = await db.charges.day_for_seller(100, NOW, NOW + timedelta(days=1), limit=30)
    assert day == SellerDay(count=0, total=0, payments=())


async def test_day_for_seller_needs_room_for_one_payment(db: Database) -> None:
    with pytest.raises(ValueError, match="limit"):
        await db.charges.day_for_seller(100, NOW, NOW + timedelta(days=1), limit=0)


async def test_a_charge_waits_for_confirmation_until_settled_once(db: Database) -> None:
    code = await add_code(db)
    for key in ("real", "forged", "other"):
        await record_charge(db, key, code, confirmation=ChargeConfirmation.PENDING)
    await record_charge(db, "nowhere", None, confirmation=ChargeConfirmation.PENDING)
    await record_charge(db, "found", code)  # found through Pivot's API: confirmed already

    waiting = await db.charges.awaiting_confirmation()
    assert [charge.pivot_charge_id for charge in waiting] == ["real", "forged", "other"]
    assert all(charge.confirmed_at is None for charge in waiting)

    later = NOW + timedelta(minutes=1)
    verdicts = {
        "real": ChargeConfirmation.CONFIRMED,
        "forged": ChargeConfirmation.UNKNOWN,
        "found": ChargeConfirmation.CONFIRMED,
    }
    async with db.write() as tx:
        assert await tx.charges.settle(verdicts, now=later) == {"real", "forged"}
        assert await tx.charges.settle(verdicts, now=later) == set()

    [other] = await db.charges.awaiting_confirmation()
    assert other.pivot_charge_id == "other"
    real = await db.charges.get("real")
    assert real is not None
    assert (real.confirmation, real.confirmed_at, real.code_id) == (
        ChargeConfirmation.CONFIRMED,
        later,
        code.id,
    )
    # The forged one is kept, but on no code and no seller: nothing counts it as paid.
    forged = await db.charges.get("forged")
    assert forged is not None
    assert (forged.confirmation, forged.code_id, forged.seller_id, forged.amount) == (
        ChargeConfirmation.UNKNOWN,
        None,
        None,
        25_000,
    )
    assert await db.charges.stats_for_code(code.id) == (3, 75_000)  # real, other, found
    listed = await db.charges.list_for_code(code.id, offset=0, limit=10)
    assert {charge.pivot_charge_id for charge in listed} == {"real", "other", "found"}
    assert await db.charges.get("never") is None


async def test_a_pending_verdict_is_refused(db: Database) -> None:
    async with db.write() as tx:
        with pytest.raises(ValueError, match="PENDING"):
            await tx.charges.settle({"x": ChargeConfirmation.PENDING}, now=NOW)
