"""CodeRepository: life cycle, look-ups, VA suffixes, the seller's list, reconciliation picks."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from storage import CodeKind, CodeStatus, ConstraintError, Database, RecordNotFoundError
from tests.standins import NOW, add_code, add_seller, record_charge


@pytest.fixture(autouse=True)
async def _sellers(db: Database) -> None:
    await add_seller(db, 100)
    await add_seller(db, 200)


async def test_create_is_pending_then_activate(db: Database) -> None:
    pending = await add_code(
        db, kind=CodeKind.VA, bank="BCA", va_suffix=5, amount=50_000, activate=False
    )
    assert pending.status is CodeStatus.PENDING
    assert (pending.pivot_session_id, pending.va_number, pending.simulation) == (None, None, False)
    assert (pending.kind, pending.bank, pending.va_suffix, pending.amount) == (
        CodeKind.VA,
        "BCA",
        5,
        50_000,
    )
    async with db.write() as tx:
        active = await tx.codes.activate(
            pending.id,
            session_id="s-1",
            qr_content=None,
            va_number="8800123400005",
            merchant_name=None,
            simulation=True,
        )
    assert active.status is CodeStatus.ACTIVE
    assert (active.pivot_session_id, active.va_number, active.simulation) == (
        "s-1",
        "8800123400005",
        True,
    )
    assert await db.codes.get(pending.id) == active
    assert await db.codes.find_by_sessions(["s-1", "s-2"]) == {"s-1": active}
    assert await db.codes.find_by_reference(active.client_reference_id) == active


async def test_find_by_sessions_takes_the_newest_code_of_a_session(db: Database) -> None:
    await add_code(db, session_id="shared")
    newer = await add_code(db, session_id="shared")
    other = await add_code(db, session_id="other")
    found = await db.codes.find_by_sessions(["shared", "other", "unknown"])
    assert found == {"shared": newer, "other": other}
    assert await db.codes.find_by_sessions([]) == {}
    with pytest.raises(TypeError, match="one str"):
        await db.codes.find_by_sessions("shared")


async def test_mark_failed_only_fails_pending_codes(db: Database) -> None:
    pending = await add_code(db, activate=False)
    active = await add_code(db)
    async with db.write() as tx:
        await tx.codes.mark_failed(pending.id, "rejected: 400")
        await tx.codes.mark_failed(active.id, "too late")
    failed = await db.codes.get(pending.id)
    assert failed is not None
    assert (failed.status, failed.failure) == (CodeStatus.FAILED, "rejected: 400")
    still = await db.codes.get(active.id)
    assert still is not None
    assert (still.status, still.failure) == (CodeStatus.ACTIVE, None)


async def test_deactivate_only_active_codes(db: Database) -> None:
    code = await add_code(db)
    later = NOW + timedelta(hours=2)
    async with db.write() as tx:
        assert await tx.codes.deactivate(code.id, now=later)
        assert not await tx.codes.deactivate(code.id, now=later + timedelta(hours=1))
        with pytest.raises(RecordNotFoundError):
            await tx.codes.activate(
                code.id,
                session_id="again",
                qr_content="x",
                va_number=None,
                merchant_name=None,
                simulation=False,
            )
    retired = await db.codes.get(code.id)
    assert retired is not None
    assert (retired.status, retired.deactivated_at) == (CodeStatus.DEACTIVATED, later)


async def test_reactivate_only_deactivated_codes(db: Database) -> None:
    code = await add_code(db)
    pending = await add_code(db, activate=False)
    async with db.write() as tx:
        assert not await tx.codes.reactivate(code.id)  # active: nothing to do
        assert await tx.codes.deactivate(code.id, now=NOW)
        assert await tx.codes.reactivate(code.id)
        assert not await tx.codes.reactivate(code.id)
        assert not await tx.codes.reactivate(pending.id)
    stored = await db.codes.get(code.id)
    assert stored == code  # active again, its deactivation forgotten
    assert (await db.codes.get(pending.id)) == pending


async def test_rename_changes_the_customer_only(db: Database) -> None:
    code = await add_code(db, customer="Budi")
    async with db.write() as tx:
        renamed = await tx.codes.rename(code.id, "Pak Budi")
        missing = await tx.codes.rename(code.id + 100, "Nobody")
    assert renamed == replace(code, customer="Pak Budi")
    assert missing is None


async def test_get_for_seller_authorises_by_owner(db: Database) -> None:
    code = await add_code(db, seller_id=100)
    assert await db.codes.get_for_seller(code.id, 100) == code
    assert await db.codes.get_for_seller(code.id, 200) is None
    assert await db.codes.get(code.id + 1000) is None


async def test_find_by_request_key_skips_failed_codes_and_other_sellers(db: Database) -> None:
    first = await add_code(db, request_key="k", activate=False)
    async with db.write() as tx:
        await tx.codes.mark_failed(first.id, "boom")
    assert await db.codes.find_by_request_key(100, "k") is None
    retry = await add_code(db, request_key="k", activate=False)
    assert await db.codes.find_by_request_key(100, "k") == retry
    assert await db.codes.find_by_request_key(200, "k") is None


async def test_a_va_suffix_is_never_reused_even_after_failure(db: Database) -> None:
    failed = await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=9, activate=False)
    async with db.write() as tx:
        await tx.codes.mark_failed(failed.id, "refused")
    with pytest.raises(ConstraintError, match="UNIQUE"):
        await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=9)
    # The same suffix at another bank is a different number.
    await add_code(db, kind=CodeKind.VA, bank="BRI", va_suffix=9)
    # QRIS codes have no suffix and never collide.
    await add_code(db)
    await add_code(db)


async def test_a_released_suffix_can_be_taken_again(db: Database) -> None:
    refused = await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=9, activate=False)
    async with db.write() as tx:
        await tx.codes.mark_failed(refused.id, "rejected: 400", release_suffix=True)
    failed = await db.codes.get(refused.id)
    assert failed is not None and (failed.status, failed.va_suffix) == (CodeStatus.FAILED, None)
    again = await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=9)
    assert again.va_suffix == 9


async def test_a_suffix_is_not_released_from_a_code_that_is_no_longer_pending(
    db: Database,
) -> None:
    active = await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=4)
    async with db.write() as tx:
        await tx.codes.mark_failed(active.id, "too late", release_suffix=True)
    assert await db.codes.get(active.id) == active


async def test_lowest_free_suffix_fills_gaps_in_the_range(db: Database) -> None:
    assert await db.codes.lowest_free_va_suffix("BCA", 0, 99) == 0
    assert await db.codes.lowest_free_va_suffix("BCA", 10, 19) == 10
    for suffix in (0, 1, 3):
        await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=suffix)
    failed = await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=2, activate=False)
    async with db.write() as tx:
        await tx.codes.mark_failed(failed.id, "already assigned")  # kept: still taken
    await add_code(db, kind=CodeKind.VA, bank="BRI", va_suffix=4)  # another bank's number

    assert await db.codes.lowest_free_va_suffix("BCA", 0, 99) == 4
    assert await db.codes.lowest_free_va_suffix("BCA", 0, 3) is None
    assert await db.codes.lowest_free_va_suffix("BCA", 3, 3) is None
    assert await db.codes.lowest_free_va_suffix("BCA", 1, 10) == 4
    assert await db.codes.lowest_free_va_suffix("BCA", 50, 60) == 50
    assert await db.codes.lowest_free_va_suffix("BRI", 0, 9) == 0
    assert await db.codes.lowest_free_va_suffix("BRI", 4, 9) == 5


async def test_count_va_suffixes_counts_the_range_at_one_bank(db: Database) -> None:
    for suffix in (0, 5, 120):
        await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=suffix)
    await add_code(db, kind=CodeKind.VA, bank="BRI", va_suffix=1)
    assert await db.codes.count_va_suffixes("BCA", 0, 99) == 2
    assert await db.codes.count_va_suffixes("BCA", 5, 120) == 2
    assert await db.codes.count_va_suffixes("BNI", 0, 99) == 0


async def test_count_made_since_leaves_out_failed_codes_without_a_number_and_other_sellers(
    db: Database,
) -> None:
    await add_code(db, now=NOW - timedelta(seconds=1))  # before the start
    await add_code(db, now=NOW)
    await add_code(db, now=NOW + timedelta(hours=5), activate=False)  # pending counts
    failed = await add_code(db, now=NOW + timedelta(hours=6), activate=False)
    async with db.write() as tx:
        await tx.codes.mark_failed(failed.id, "refused")
    retired = await add_code(db, now=NOW + timedelta(hours=7))
    async with db.write() as tx:
        await tx.codes.deactivate(retired.id, now=NOW + timedelta(hours=8))
    # Failed, but still holding its VA number ("already assigned"): that number is gone.
    burnt = await add_code(
        db, kind=CodeKind.VA, bank="BCA", va_suffix=9, now=NOW + timedelta(hours=9), activate=False
    )
    async with db.write() as tx:
        await tx.codes.mark_failed(burnt.id, "already assigned")
    await add_code(db, 200, now=NOW)
    assert await db.codes.count_made_since(100, NOW) == 4
    assert await db.codes.count_made_since(200, NOW) == 1


async def test_count_open_va_counts_held_open_numbers_at_one_bank(db: Database) -> None:
    await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=1)
    retired = await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=2)
    async with db.write() as tx:
        await tx.codes.deactivate(retired.id, now=NOW)  # Pivot still keeps it open
    await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=3, activate=False)
    failed = await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=4, activate=False)
    async with db.write() as tx:
        await tx.codes.mark_failed(failed.id, "refused")
    await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=5, amount=25_000)  # closed
    await add_code(db, kind=CodeKind.VA, bank="BRI", va_suffix=1)
    await add_code(db)  # QRIS
    await add_code(db, 200, kind=CodeKind.VA, bank="BCA", va_suffix=6)
    assert await db.codes.count_open_va(100, "BCA") == 3
    assert await db.codes.count_open_va(100, "BRI") == 1
    assert await db.codes.count_open_va(200, "BCA") == 1
    assert await db.codes.count_open_va(200, "BRI") == 0


async def test_list_for_seller_newest_first_with_payment_count_and_total(db: Database) -> None:
    old = await add_code(db, customer="Old")
    mid = await add_code(db, customer="Mid")
    new = await add_code(db, customer="New")
    await add_code(db, seller_id=200, customer="Someone else's")
    await record_charge(db, "c1", old, amount=10_000)
    await record_charge(db, "c2", old, amount=15_000)
    await record_charge(db, "c3", new, amount=7_000)

    page1 = await db.codes.list_for_seller(100, offset=0, limit=2)
    page2 = await db.codes.list_for_seller(100, offset=2, limit=2)
    summaries = [(s.code.customer, s.payment_count, s.payment_total) for s in page1 + page2]
    assert summaries == [("New", 1, 7_000), ("Mid", 0, 0), ("Old", 2, 25_000)]
    assert page1[1].code == mid
    assert await db.codes.count_for_seller(100) == 3
    assert await db.codes.count_for_seller(200) == 1


async def test_the_sellers_codes_are_found_by_part_of_the_customer_in_any_case(
    db: Database,
) -> None:
    for customer in ("Bu Ani", "ANIta", "Pak Budi", "100% Jaya", "Toko_Maju", "a\\b"):
        await add_code(db, customer=customer)
    await add_code(db, seller_id=200, customer="Ani lain")

    async def found(part: str) -> list[str]:
        summaries = await db.codes.list_for_seller(100, offset=0, limit=10, customer_contains=part)
        assert await db.codes.count_for_seller(100, customer_contains=part) == len(summaries)
        return [summary.code.customer for summary in summaries]

    assert await found("ani") == ["ANIta", "Bu Ani"]  # newest first, the seller's only
    assert await found("BUDI") == ["Pak Budi"]
    # LIKE's wildcards and its escape character match only themselves.
    assert await found("%") == ["100% Jaya"]
    assert await found("_") == ["Toko_Maju"]
    assert await found("\\") == ["a\\b"]
    assert await found("o_M") == ["Toko_Maju"]
    assert await found("xyz") == []
    page2 = await db.codes.list_for_seller(100, offset=1, limit=1, customer_contains="ani")
    assert [summary.code.customer for summary in page2] == ["Bu Ani"]


async def test_touch_payments_only_moves_forward(db: Database) -> None:
    code, other = await add_code(db), await add_code(db)
    async with db.write() as tx:
        await tx.codes.touch_payments({code.id: NOW + timedelta(minutes=5)})
        await tx.codes.touch_payments(
            {code.id: NOW + timedelta(minutes=1), other.id: NOW + timedelta(minutes=2)}
        )
    touched = await db.codes.get(code.id)
    assert touched is not None
    assert touched.last_payment_at == NOW + timedelta(minutes=5)
    touched_other = await db.codes.get(other.id)
    assert touched_other is not None
    assert touched_other.last_payment_at == NOW + timedelta(minutes=2)


async def test_recently_active_puts_paid_codes_first_and_only_active_ones(db: Database) -> None:
    never_a = await add_code(db)
    paid_early = await add_code(db)
    never_b = await add_code(db)
    paid_late = await add_code(db)
    retired = await add_code(db)
    await add_code(db, activate=False)
    async with db.write() as tx:
        await tx.codes.touch_payments(
            {
                paid_early.id: NOW + timedelta(minutes=1),
                paid_late.id: NOW + timedelta(minutes=9),
                retired.id: NOW + timedelta(minutes=20),
            }
        )
        await tx.codes.deactivate(retired.id, now=NOW)
    recent = await db.codes.recently_active(limit=10)
    assert [code.id for code in recent] == [paid_late.id, paid_early.id, never_b.id, never_a.id]
    assert [code.id for code in await db.codes.recently_active(limit=1)] == [paid_late.id]


async def test_reconcilable_after_sweeps_active_and_deactivated_codes_by_id(
    db: Database,
) -> None:
    first = await add_code(db)
    await add_code(db, activate=False)  # Pivot never made it: nothing to reconcile
    retired = await add_code(db)
    failed = await add_code(db, activate=False)
    third = await add_code(db)
    async with db.write() as tx:
        await tx.codes.deactivate(retired.id, now=NOW)
        await tx.codes.mark_failed(failed.id, "refused")

    batch = await db.codes.reconcilable_after(0, limit=2)
    assert [code.id for code in batch] == [first.id, retired.id]
    rest = await db.codes.reconcilable_after(batch[-1].id, limit=2)
    assert [code.id for code in rest] == [third.id]
    assert await db.codes.reconcilable_after(third.id, limit=2) == []


async def test_the_sweep_cursor_starts_at_0_and_keeps_where_it_was_moved(db: Database) -> None:
    assert await db.codes.sweep_cursor() == 0
    async with db.write() as tx:
        await tx.codes.move_sweep_cursor(7)
    async with db.write() as tx:
        await tx.codes.move_sweep_cursor(3)  # a wrap-around moves it back
    assert await db.codes.sweep_cursor() == 3


async def test_a_closed_va_keeps_the_expiry_pivot_gave_it(db: Database) -> None:
    until = NOW + timedelta(days=30)
    closed = await add_code(
        db, kind=CodeKind.VA, bank="BCA", va_suffix=7, amount=50_000, expires_at=until
    )
    forever = await add_code(db)

    assert closed.expires_at == until
    assert (await db.codes.get(closed.id)) == closed
    assert forever.expires_at is None


async def test_expiry_warnings_are_due_once_for_active_codes_only(db: Database) -> None:
    soon = await add_code(db, expires_at=NOW + timedelta(days=2))
    sooner = await add_code(db, expires_at=NOW + timedelta(hours=1))
    later = await add_code(db, expires_at=NOW + timedelta(days=10))
    await add_code(db)  # never expires
    retired = await add_code(db, expires_at=NOW + timedelta(days=1))
    async with db.write() as tx:
        await tx.codes.deactivate(retired.id, now=NOW)

    horizon = NOW + timedelta(days=3)
    due = await db.codes.due_expiry_warnings(before=horizon, limit=10)
    assert [code.id for code in due] == [sooner.id, soon.id]  # soonest first
    assert [c.id for c in await db.codes.due_expiry_warnings(before=horizon, limit=1)] == [
        sooner.id
    ]

    async with db.write() as tx:
        assert await tx.codes.mark_expiry_warned(sooner.id, now=NOW)
        assert not await tx.codes.mark_expiry_warned(sooner.id, now=NOW)
    due = await db.codes.due_expiry_warnings(before=horizon, limit=10)
    assert [code.id for code in due] == [soon.id]
    everything = await db.codes.due_expiry_warnings(before=NOW + timedelta(days=30), limit=10)
    assert [code.id for code in everything] == [soon.id, later.id]


async def test_active_for_seller_lists_one_kind_of_the_sellers_active_codes(
    db: Database,
) -> None:
    older = await add_code(db)
    await add_code(db, activate=False)
    retired = await add_code(db)
    await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=1)
    await add_code(db, 200)
    newer = await add_code(db)
    async with db.write() as tx:
        await tx.codes.deactivate(retired.id, now=NOW)

    found = await db.codes.active_for_seller(100, CodeKind.QRIS, limit=5)

    assert [code.id for code in found] == [newer.id, older.id]
    assert await db.codes.active_for_seller(100, CodeKind.QRIS, limit=1) == [newer]


async def test_count_by_status_counts_one_kind(db: Database) -> None:
    await add_code(db)
    await add_code(db, 200)
    await add_code(db, activate=False)
    retired = await add_code(db)
    await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=1)
    async with db.write() as tx:
        await tx.codes.deactivate(retired.id, now=NOW)

    assert await db.codes.count_by_status(CodeKind.QRIS) == {
        CodeStatus.ACTIVE: 2,
        CodeStatus.PENDING: 1,
        CodeStatus.DEACTIVATED: 1,
    }


async def test_shareable_for_seller_lists_the_sellers_live_codes_matching_a_customer(
    db: Database,
) -> None:
    budi = await add_code(db, customer="Budi Santoso")
    await add_code(db, customer="Pak Budiman", activate=False)
    retired = await add_code(db, customer="Budi lama")
    expired = await add_code(
        db,
        kind=CodeKind.VA,
        bank="BCA",
        va_suffix=1,
        amount=5_000,
        customer="Budi VA",
        expires_at=NOW,
    )
    later = await add_code(
        db,
        kind=CodeKind.VA,
        bank="BCA",
        va_suffix=2,
        amount=5_000,
        customer="budi va",
        expires_at=NOW + timedelta(seconds=1),
    )
    await add_code(db, 200, customer="Budi")
    ani = await add_code(db, customer="Ani 100%_done")
    async with db.write() as tx:
        await tx.codes.deactivate(retired.id, now=NOW)

    async def shareable(customer: str, offset: int = 0, limit: int = 10) -> list[int]:
        found = await db.codes.shareable_for_seller(
            100, customer=customer, now=NOW, offset=offset, limit=limit
        )
        return [code.id for code in found]

    # Active and not expired (an expiry at this very moment is past), the seller's own only.
    assert await shareable("") == [ani.id, later.id, budi.id]
    assert await shareable("BUD") == [later.id, budi.id]
    assert await shareable("", offset=1, limit=1) == [later.id]
    # LIKE's wildcards are matched as typed.
    assert await shareable("%_") == [ani.id]
    assert await shareable("_") == [ani.id]
    assert await shareable("di%") == []
    assert expired.id not in await shareable("va")


async def test_keep_photo_keeps_the_file_id_of_a_codes_qr_photo(db: Database) -> None:
    code = await add_code(db)
    assert code.photo_file_id is None
    async with db.write() as tx:
        await tx.codes.keep_photo(code.id, "AgACAgIAAxk-photo")
    stored = await db.codes.get(code.id)
    assert stored is not None
    assert stored.photo_file_id == "AgACAgIAAxk-photo"
