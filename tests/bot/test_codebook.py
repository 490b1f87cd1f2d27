"""bot.codebook without Telegram: a real database in tmp_path, and the Pivot simulator over
loopback where a code is renewed."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.codebook import (
    CODES_PER_PAGE,
    PAYMENTS_PER_PAGE,
    SHARES_PER_ANSWER,
    Card,
    Codebook,
    RenewalRefusal,
    can_deactivate,
    can_reactivate,
    card_check,
    is_live,
    renewal_key,
)
from bot.codes import CodeIssuer
from bot.drafts import MAX_NAME_LENGTH
from bot.limits import SellerLimits
from bot.settings import Settings
from pivot_client import PivotClient
from pivot_client.simulator import SimulatorConfig, create_app
from storage import Code, CodeKind, CodeStatus, Database, Seller
from tests.standins import FakePhotos, add_code, add_seller, record_charge, serving

ANI, BUDI = 100, 200  # two sellers; Budi presses buttons carrying Ani's code ids
NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
SETTINGS = Settings(  # type: ignore[call-arg]
    _env_file=None,
    telegram_bot_token="1:test",
    pivot_client_id="sim-client-id",
    pivot_client_secret="sim-client-secret",
    pivot_callback_api_key="callback-key",
)


@dataclass
class Book:
    codebook: Codebook
    db: Database
    ani: Seller
    budi: Seller
    photos: FakePhotos


@pytest.fixture
async def book(database_target: Path | str) -> AsyncIterator[Book]:
    app = create_app(SimulatorConfig(callback_url=None, callback_key="callback-key"))
    async with (
        serving(app) as server,
        await Database.open(database_target) as db,
        PivotClient(
            client_id="sim-client-id", client_secret="sim-client-secret", base_url=server.url
        ) as pivot,
    ):
        ani, budi = await add_seller(db, ANI), await add_seller(db, BUDI)
        photos = FakePhotos()
        codebook = Codebook(db, CodeIssuer(db, pivot, SETTINGS), photos)
        yield Book(codebook, db, ani, budi, photos)


_suffixes = itertools.count(1)


async def add_va(
    db: Database,
    *,
    bank: str = "BCA",
    amount: int | None = 25_000,
    expires_at: datetime | None = None,
) -> Code:
    """Ani's VA for Bu Ani: a fixed-amount one at BCA unless said."""
    return await add_code(
        db,
        ANI,
        kind=CodeKind.VA,
        bank=bank,
        va_suffix=next(_suffixes),
        customer="Bu Ani",
        amount=amount,
        expires_at=expires_at,
    )


# Ownership


async def test_another_sellers_code_id_finds_nothing_whatever_is_asked(book: Book) -> None:
    code = await add_va(book.db, expires_at=NOW + timedelta(days=1))
    codebook, budi = book.codebook, book.budi

    assert await codebook.find(budi, code.id) is None
    assert await codebook.detail(budi, code.id) is None
    assert await codebook.deactivate(budi, code.id, now=NOW) is None
    assert await codebook.renewal(budi, code.id, now=NOW) is None
    assert await codebook.rename(budi, code.id, "Mallory") is None
    assert await codebook.reactivate(budi, code.id, now=NOW) is None
    assert await codebook.find(budi, code.id + 1000) is None  # the same as no code at all
    # Nothing changed for Ani.
    assert await codebook.find(book.ani, code.id) == code


# Deactivation


async def test_deactivating_switches_the_code_off_once_and_keeps_its_payments(book: Book) -> None:
    code = await add_code(book.db, ANI)
    await record_charge(book.db, "ch-1", code, amount=10_000)
    later = NOW + timedelta(hours=1)

    first = await book.codebook.deactivate(book.ani, code.id, now=later)
    again = await book.codebook.deactivate(book.ani, code.id, now=later + timedelta(hours=1))

    assert first is not None and first.changed
    assert first.detail.code.status is CodeStatus.DEACTIVATED
    assert first.detail.code.deactivated_at == later
    assert (first.detail.count, first.detail.total) == (1, 10_000)
    assert again is not None and not again.changed
    assert again.detail.code.deactivated_at == later  # not moved by the second press


# Reactivation


async def test_a_deactivated_code_is_reactivated_once_and_payments_on_it_are_not_flagged(
    book: Book,
) -> None:
    code = await add_code(book.db, ANI)
    later = NOW + timedelta(hours=1)
    active = await book.codebook.reactivate(book.ani, code.id, now=later)
    assert active is not None and not active.changed  # already active: nothing to do

    await book.codebook.deactivate(book.ani, code.id, now=later)
    back = await book.codebook.reactivate(book.ani, code.id, now=later)
    again = await book.codebook.reactivate(book.ani, code.id, now=later)

    assert back is not None and back.changed
    assert back.detail.code.status is CodeStatus.ACTIVE
    assert back.detail.code.deactivated_at is None
    assert again is not None and not again.changed
    assert can_deactivate(back.detail.code, later)  # and it can be switched off again


async def test_an_expired_closed_va_is_not_reactivated(book: Book) -> None:
    code = await add_va(book.db, expires_at=NOW + timedelta(days=1))
    await book.codebook.deactivate(book.ani, code.id, now=NOW)
    expired = NOW + timedelta(days=1)

    deactivated = await book.codebook.find(book.ani, code.id)
    assert deactivated is not None and can_reactivate(deactivated, NOW)  # the day before
    refused = await book.codebook.reactivate(book.ani, code.id, now=expired)

    assert refused is not None and not refused.changed
    assert refused.detail.code.status is CodeStatus.DEACTIVATED
    assert not can_reactivate(refused.detail.code, expired)


async def test_reactivating_takes_no_place_a_per_seller_limit_counts(book: Book) -> None:
    """The open VA numbers a seller holds count deactivated ones; the codes of a day count the
    codes made: a seller at both limits may still reactivate, and both counts stay as they were."""
    limits = SellerLimits(codes_per_day=2, open_va_per_bank=2)
    first = await add_va(book.db, amount=None)
    await add_va(book.db, amount=None)
    await book.codebook.deactivate(book.ani, first.id, now=NOW)

    async def counts() -> tuple[int, int, object]:
        async with book.db.write() as tx:
            made = await tx.codes.count_made_since(ANI, NOW - timedelta(days=1))
            held = await tx.codes.count_open_va(ANI, "BCA")
            reached = await limits.check(tx, book.ani, bank="BCA", open_amount=True, now=NOW)
        return made, held, reached

    before = await counts()
    assert before[2] is not None  # at the limits: no new open VA at BCA today
    done = await book.codebook.reactivate(book.ani, first.id, now=NOW)
    assert done is not None and done.changed
    assert await counts() == before


# Renaming


async def test_a_code_is_renamed_as_new_reads_a_name_and_an_empty_one_changes_nothing(
    book: Book,
) -> None:
    code = await add_code(book.db, ANI, customer="Bu Ani")
    await record_charge(book.db, "ch-1", code, amount=10_000)

    renamed = await book.codebook.rename(book.ani, code.id, "  Bu\tAni\u200b  Warung\n")
    assert renamed is not None and not renamed.empty
    assert renamed.previous == "Bu Ani"
    assert renamed.detail.code.customer == "Bu Ani Warung"  # clean_customer_name's reading
    assert (renamed.detail.count, renamed.detail.total) == (1, 10_000)
    stored = await book.db.codes.get(code.id)
    assert stored is not None and stored.customer == "Bu Ani Warung"
    assert (stored.pivot_session_id, stored.status) == (code.pivot_session_id, code.status)

    empty = await book.codebook.rename(book.ani, code.id, " \u200b\n ")
    assert empty is not None and empty.empty
    assert empty.detail.code.customer == "Bu Ani Warung"
    long = await book.codebook.rename(book.ani, code.id, "x" * 100)
    assert long is not None and len(long.detail.code.customer) == MAX_NAME_LENGTH


# Pages


async def test_the_list_pages_are_clamped_newest_first_and_only_the_sellers(book: Book) -> None:
    codes = [await add_code(book.db, ANI, customer=f"C{n}") for n in range(CODES_PER_PAGE + 2)]
    await add_code(book.db, BUDI)
    newest_first = [code.id for code in reversed(codes)]

    first = await book.codebook.page(book.ani, 1)
    last = await book.codebook.page(book.ani, 99)  # past the end: the last page
    forged = await book.codebook.page(book.ani, 0)

    assert first.total == CODES_PER_PAGE + 2 and first.page.count == 2
    assert [s.code.id for s in first.summaries] == newest_first[:CODES_PER_PAGE]
    assert last.page.number == 2
    assert [s.code.id for s in last.summaries] == newest_first[CODES_PER_PAGE:]
    assert forged.page.number == 1
    assert all(s.code.seller_id == ANI for s in (*first.summaries, *last.summaries))


async def test_a_search_pages_through_the_sellers_codes_whose_customer_contains_it(
    book: Book,
) -> None:
    matching = [
        await add_code(book.db, ANI, customer=f"Bu Ani {n}") for n in range(CODES_PER_PAGE + 1)
    ]
    await add_code(book.db, ANI, customer="Pak Budi")
    await add_code(book.db, BUDI, customer="Bu Ani lain")  # Budi's: never in Ani's results

    first = await book.codebook.page(book.ani, 1, "  bu   ANI ")
    second = await book.codebook.page(book.ani, 2, "bu ani")

    assert first.search == "bu ANI"  # read as a customer's name is: spaces cleaned up
    assert (first.total, first.page.count) == (CODES_PER_PAGE + 1, 2)
    found = [s.code.id for s in (*first.summaries, *second.summaries)]
    assert found == [code.id for code in reversed(matching)]
    nothing = await book.codebook.page(book.ani, 1, "Cici")
    assert (nothing.total, nothing.summaries, nothing.search) == (0, (), "Cici")
    everything = await book.codebook.page(book.ani, 1)
    assert (everything.total, everything.search) == (CODES_PER_PAGE + 2, "")


async def test_a_seller_without_codes_gets_one_empty_page(book: Book) -> None:
    listing = await book.codebook.page(book.ani, 3)
    assert (listing.total, listing.page.number, listing.page.count) == (0, 1, 1)
    assert listing.summaries == ()


async def test_the_payments_pages_of_a_detail_are_clamped_and_newest_first(book: Book) -> None:
    code = await add_code(book.db, ANI)
    for n in range(PAYMENTS_PER_PAGE + 2):
        await record_charge(
            book.db, f"ch-{n}", code, amount=1_000 + n, paid_at=NOW + timedelta(minutes=n)
        )

    first = await book.codebook.detail(book.ani, code.id)
    last = await book.codebook.detail(book.ani, code.id, 99)

    assert first is not None and last is not None
    assert (first.count, first.total) == (12, sum(1_000 + n for n in range(12)))
    assert [c.amount for c in first.charges] == [1_000 + n for n in range(11, 1, -1)]
    assert (last.page.number, [c.amount for c in last.charges]) == (2, [1_001, 1_000])


# What may be done with a code


@pytest.mark.parametrize(
    ("status", "expires_in", "card", "deactivatable"),
    [
        (CodeStatus.ACTIVE, None, Card.READY, True),
        (CodeStatus.ACTIVE, timedelta(days=1), Card.READY, True),
        (CodeStatus.ACTIVE, timedelta(0), Card.EXPIRED, False),
        (CodeStatus.DEACTIVATED, None, Card.READY, False),  # a static code still takes money
        (CodeStatus.DEACTIVATED, -timedelta(days=1), Card.EXPIRED, False),
        (CodeStatus.PENDING, None, Card.NOT_MADE, False),
        (CodeStatus.FAILED, None, Card.NOT_MADE, False),
    ],
)
async def test_a_card_goes_out_again_and_a_code_is_switched_off_only_while_it_means_something(
    book: Book,
    status: CodeStatus,
    expires_in: timedelta | None,
    card: Card,
    deactivatable: bool,
) -> None:
    made = status in (CodeStatus.ACTIVE, CodeStatus.DEACTIVATED)
    code = await add_code(book.db, ANI, activate=made)
    async with book.db.write() as tx:
        if status is CodeStatus.DEACTIVATED:
            await tx.codes.deactivate(code.id, now=NOW)
        if status is CodeStatus.FAILED:
            await tx.codes.mark_failed(code.id, "test")
    stored = await book.codebook.find(book.ani, code.id)
    assert stored is not None and stored.status is status
    if expires_in is not None:
        stored = replace(stored, expires_at=NOW + expires_in)
    assert card_check(stored, NOW) is card
    assert can_deactivate(stored, NOW) is deactivatable
    assert is_live(stored, NOW) is deactivatable  # shared into a buyer's chat


# Sharing into a buyer's chat


async def test_shareable_codes_come_a_page_at_a_time_only_the_sellers_live_ones(
    book: Book,
) -> None:
    codes = [await add_va(book.db) for _ in range(SHARES_PER_ANSWER + 1)]
    retired = await add_va(book.db)
    await book.codebook.deactivate(book.ani, retired.id, now=NOW)
    await add_va(book.db, expires_at=NOW)
    await add_code(book.db, BUDI)
    newest_first = [code.id for code in reversed(codes)]

    first = await book.codebook.shareable(book.ani, "", offset=0, now=NOW)
    last = await book.codebook.shareable(book.ani, "", offset=SHARES_PER_ANSWER, now=NOW)
    past = await book.codebook.shareable(book.ani, "", offset=SHARES_PER_ANSWER * 2, now=NOW)

    assert [code.id for code in first.codes] == newest_first[:SHARES_PER_ANSWER]
    assert first.next_offset == SHARES_PER_ANSWER
    assert ([code.id for code in last.codes], last.next_offset) == (newest_first[-1:], None)
    assert (past.codes, past.next_offset) == ((), None)
    assert book.photos.calls == []  # no QRIS among them


async def test_shareable_codes_match_part_of_a_customers_name_in_any_case(book: Book) -> None:
    budi = await add_code(book.db, ANI, customer="Pak Budi Santoso")
    await add_code(book.db, ANI, customer="Bu Ani")

    found = await book.codebook.shareable(book.ani, "  BUDI ", offset=0, limit=5, now=NOW)

    assert [code.id for code in found.codes] == [budi.id]
    assert found.next_offset is None


async def test_a_qris_photo_telegram_lacks_is_sent_once_and_kept(book: Book) -> None:
    sent = await add_code(book.db, ANI, customer="A")
    await book.codebook.keep_photo(sent, "photo-from-its-card")
    await book.codebook.keep_photo(
        replace(sent, photo_file_id="photo-from-its-card"), "a-later-card"
    )
    lacking = await add_code(book.db, ANI, customer="B")
    refused = await add_code(book.db, ANI, customer="C")
    va = await add_va(book.db)
    book.photos.refused.add(refused.id)

    first = await book.codebook.shareable(book.ani, "", offset=0, now=NOW)
    book.photos.refused.clear()
    second = await book.codebook.shareable(book.ani, "", offset=0, now=NOW)

    # Sent unseen to the seller's own chat; Telegram refused C's, so C is not offered yet.
    assert book.photos.calls == [(ANI, [refused.id, lacking.id]), (ANI, [refused.id])]
    assert [(code.id, code.photo_file_id) for code in first.codes] == [
        (va.id, None),
        (lacking.id, f"photo-{lacking.id}"),
        (sent.id, "photo-from-its-card"),
    ]
    assert [code.id for code in second.codes] == [va.id, refused.id, lacking.id, sent.id]
    stored = await book.db.codes.get(lacking.id)
    assert stored is not None and stored.photo_file_id == f"photo-{lacking.id}"


# Renewal


async def test_an_expiring_va_is_renewed_once_with_its_customer_bank_and_amount(
    book: Book,
) -> None:
    old = await add_va(book.db, expires_at=NOW + timedelta(days=2))

    renewal = await book.codebook.renewal(book.ani, old.id, now=NOW)
    assert renewal is not None and renewal.refusal is None and "BCA" in renewal.channels
    new = await book.codebook.renew(book.ani, renewal.code)
    again = await book.codebook.renew(book.ani, renewal.code)  # a double tap, a retry

    assert new.status is CodeStatus.ACTIVE and new.id != old.id
    assert (new.kind, new.bank, new.customer, new.amount) == (CodeKind.VA, "BCA", "Bu Ani", 25_000)
    assert new.request_key == renewal_key(old.id)
    assert again == new


@pytest.mark.parametrize(
    ("bank", "amount", "expires_at", "refusal"),
    [
        ("BCA", 25_000, NOW + timedelta(days=20), RenewalRefusal.NOT_RENEWABLE),  # weeks to go
        ("BCA", None, None, RenewalRefusal.NOT_RENEWABLE),  # an open VA never expires
        ("DANAMON", 25_000, NOW, RenewalRefusal.BANK_GONE),  # no longer offered
    ],
)
async def test_a_code_is_not_renewed_when_it_need_not_or_its_bank_is_gone(
    book: Book, bank: str, amount: int | None, expires_at: datetime | None, refusal: RenewalRefusal
) -> None:
    code = await add_va(book.db, bank=bank, amount=amount, expires_at=expires_at)
    renewal = await book.codebook.renewal(book.ani, code.id, now=NOW)
    assert renewal is not None and renewal.code == code and renewal.refusal is refusal


async def test_a_deactivated_code_is_not_renewed(book: Book) -> None:
    code = await add_va(book.db, expires_at=NOW)
    await book.codebook.deactivate(book.ani, code.id, now=NOW)
    renewal = await book.codebook.renewal(book.ani, code.id, now=NOW)
    assert renewal is not None and renewal.refusal is RenewalRefusal.NOT_RENEWABLE


# What /new looks back at


async def test_only_a_pending_request_of_the_seller_can_be_resumed(book: Book) -> None:
    pending = await add_code(book.db, ANI, request_key="1:5", activate=False)
    await add_code(book.db, ANI, request_key="1:6")

    assert await book.codebook.pending(book.ani, "1:5") == pending
    assert await book.codebook.pending(book.ani, "1:6") is None  # made already
    assert await book.codebook.pending(book.ani, "1:7") is None
    assert await book.codebook.pending(book.budi, "1:5") is None


async def test_a_refused_qris_is_found_for_its_seller_only_and_active_ones_offered(
    book: Book,
) -> None:
    refused = await add_code(book.db, ANI, customer="Budi", activate=False)
    async with book.db.write() as tx:
        await tx.codes.mark_failed(refused.id, "qris_limit")
    va = await add_va(book.db)
    active = [await add_code(book.db, ANI, customer=f"Q{n}") for n in range(3)]
    await add_code(book.db, BUDI)

    found = await book.codebook.qris(book.ani, refused.id)
    assert found is not None and found.customer == "Budi"
    assert await book.codebook.qris(book.ani, va.id) is None
    assert await book.codebook.qris(book.budi, refused.id) is None
    offered = await book.codebook.reusable_qris(book.ani, limit=2)
    assert len(offered) == 2
    assert {code.id for code in offered} <= {code.id for code in active}
