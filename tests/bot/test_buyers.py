"""bot.buyers without Telegram, on a real database: a code's link made, replaced and revoked only
by its seller, what opening a link shows and whom it remembers, the receipts switch; and
bot.deeplinks telling the kinds of token apart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.buyers import Buyers, Opened, shareable
from bot.codebook import Codebook
from bot.codes import CodeIssuer
from bot.deeplinks import (
    LinkKind,
    link_kind,
    new_buyer_token,
    new_invitation_token,
    start_token,
)
from bot.sellers import Person
from pivot_client import PivotClient
from storage import Code, Database, Seller
from tests.bot.test_codebook import SETTINGS
from tests.standins import FakePhotos, add_code, add_seller

ANI, BUDI, BUYER = 100, 200, 3001
NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


@dataclass
class Shop:
    buyers: Buyers
    db: Database
    ani: Seller
    budi: Seller
    code: Code  # Ani's


@pytest.fixture
async def shop(database_target: Path | str) -> AsyncIterator[Shop]:
    # Nothing here asks Pivot: the client only completes the codebook's wiring.
    async with (
        await Database.open(database_target) as db,
        PivotClient(
            client_id="id", client_secret="secret", base_url="http://127.0.0.1:9"
        ) as pivot,
    ):
        ani = await add_seller(db, ANI, name="Ani")
        budi = await add_seller(db, BUDI, language="en")
        code = await add_code(db, ANI, customer="Budi", amount=25_000)
        buyers = Buyers(db, Codebook(db, CodeIssuer(db, pivot, SETTINGS), FakePhotos()))
        yield Shop(buyers, db, ani, budi, code)


def person(telegram_id: int = BUYER, language_code: str | None = "id") -> Person:
    return Person(
        telegram_id=telegram_id,
        chat_id=telegram_id,
        name="Dewi",
        username=None,
        language_code=language_code,
    )


async def token_of(shop: Shop, code: Code) -> str:
    link = await shop.db.buyer_links.live_for_code(code.id)
    assert link is not None
    return link.token


def test_a_tokens_shape_says_its_kind_and_new_ones_never_look_like_the_other() -> None:
    for _ in range(200):
        assert link_kind(new_buyer_token()) is LinkKind.BUYER
        assert link_kind(new_invitation_token()) is LinkKind.INVITATION
    buyer = new_buyer_token()
    assert len(buyer) == 34 and buyer.startswith("b_")
    assert link_kind(buyer[:-1]) is LinkKind.INVITATION  # one character short: not a buyer's
    assert link_kind("b_" + "x" * 33) is LinkKind.INVITATION


async def test_a_link_is_made_once_and_only_by_the_codes_seller(shop: Shop) -> None:
    made = await shop.buyers.share(shop.ani, shop.code.id, now=NOW)
    assert made is not None and made.changed
    assert made.detail.link is not None and made.detail.buyers == 0
    again = await shop.buyers.share(shop.ani, shop.code.id, now=NOW)
    assert again is not None and not again.changed
    assert again.detail.link == made.detail.link

    assert await shop.buyers.share(shop.budi, shop.code.id, now=NOW) is None
    assert await shop.buyers.replace(shop.budi, shop.code.id, now=NOW) is None
    assert await shop.buyers.revoke(shop.budi, shop.code.id, now=NOW) is None
    assert await shop.buyers.set_receipts(shop.budi, shop.code.id, True) is None
    assert await shop.db.buyer_links.live_for_code(shop.code.id) == made.detail.link
    stored = await shop.db.codes.get(shop.code.id)
    assert stored is not None and not stored.receipts


@pytest.mark.parametrize(
    "changes",
    [
        {"activate": False},  # never made at Pivot
        {"expires_at": NOW - timedelta(seconds=1)},
    ],
)
async def test_no_link_for_a_code_that_cannot_be_paid(
    shop: Shop, changes: dict[str, object]
) -> None:
    code = await add_code(shop.db, ANI, **changes)
    assert not shareable(code, NOW)
    refused = await shop.buyers.share(shop.ani, code.id, now=NOW)
    assert refused is not None and not refused.changed and refused.detail.link is None
    assert await shop.db.buyer_links.live_for_code(code.id) is None


async def test_a_replaced_or_revoked_link_shows_nothing_and_its_buyers_lose_their_receipts(
    shop: Shop,
) -> None:
    await shop.buyers.share(shop.ani, shop.code.id, now=NOW)
    first = await token_of(shop, shop.code)
    assert (await shop.buyers.open(person(), first, viewer=None, now=NOW)).opened is Opened.SHOWN

    replaced = await shop.buyers.replace(shop.ani, shop.code.id, now=NOW)
    assert replaced is not None and replaced.changed and replaced.detail.buyers == 0
    second = await token_of(shop, shop.code)
    assert second != first
    assert (await shop.buyers.open(person(), first, viewer=None, now=NOW)).opened is Opened.INVALID
    assert await shop.db.buyers.holding_live_links([shop.code.id]) == {}

    assert (await shop.buyers.open(person(), second, viewer=None, now=NOW)).opened is Opened.SHOWN
    revoked = await shop.buyers.revoke(shop.ani, shop.code.id, now=NOW)
    assert revoked is not None and revoked.changed and revoked.detail.link is None
    again = await shop.buyers.revoke(shop.ani, shop.code.id, now=NOW)
    assert again is not None and not again.changed
    assert (
        await shop.buyers.open(person(), second, viewer=None, now=NOW)
    ).opened is Opened.INVALID


async def test_opening_shows_the_code_with_the_shop_and_remembers_the_buyer(shop: Shop) -> None:
    async with shop.db.write() as tx:
        await tx.sellers.set_shop_name(ANI, "Warung Ani")
    await shop.buyers.share(shop.ani, shop.code.id, now=NOW)
    token = await token_of(shop, shop.code)

    view = await shop.buyers.open(person(language_code="en-GB"), token, viewer=None, now=NOW)

    assert (view.opened, view.language, view.own) == (Opened.SHOWN, "en", False)
    assert view.offered is not None
    assert (view.offered.code.id, view.offered.shop, view.offered.timezone) == (
        shop.code.id,
        "Warung Ani",
        "Asia/Jakarta",
    )
    [buyer] = (await shop.db.buyers.holding_live_links([shop.code.id]))[shop.code.id]
    assert (buyer.telegram_id, buyer.chat_id, buyer.language) == (BUYER, BUYER, "en")
    detail = await shop.buyers.share(shop.ani, shop.code.id, now=NOW)
    assert detail is not None and detail.detail.buyers == 1


async def test_a_seller_opening_a_link_is_answered_in_their_language_and_the_owner_not_kept(
    shop: Shop,
) -> None:
    await shop.buyers.share(shop.ani, shop.code.id, now=NOW)
    token = await token_of(shop, shop.code)

    own = await shop.buyers.open(person(ANI), token, viewer=shop.ani, now=NOW)
    other = await shop.buyers.open(person(BUDI, "id"), token, viewer=shop.budi, now=NOW)

    assert (own.opened, own.own) == (Opened.SHOWN, True)
    assert (other.opened, other.own, other.language) == (Opened.SHOWN, False, "en")
    holders = await shop.db.buyers.holding_live_links([shop.code.id])
    assert [b.telegram_id for b in holders[shop.code.id]] == [BUDI]


@pytest.mark.parametrize(
    ("deactivated", "opened"), [(True, Opened.DEACTIVATED), (False, Opened.EXPIRED)]
)
async def test_a_link_to_a_code_that_cannot_be_paid_says_so_and_keeps_nobody(
    shop: Shop, deactivated: bool, opened: Opened
) -> None:
    code = await add_code(shop.db, ANI, expires_at=NOW + timedelta(days=1))
    await shop.buyers.share(shop.ani, code.id, now=NOW)
    token = await token_of(shop, code)
    if deactivated:
        async with shop.db.write() as tx:
            await tx.codes.deactivate(code.id, now=NOW)
    later = NOW if deactivated else NOW + timedelta(days=2)

    view = await shop.buyers.open(person(), token, viewer=None, now=later)

    assert view.opened is opened
    assert view.offered is not None and view.offered.shop == "Ani"
    assert await shop.db.buyers.holding_live_links([code.id]) == {}


async def test_unknown_and_other_kinds_of_token_show_nothing(shop: Shop) -> None:
    async with shop.db.write() as tx:
        # A buyer link stored under an invitation's shape is never read as a buyer link.
        await tx.buyer_links.create(code_id=shop.code.id, token="invitation-shaped", now=NOW)
    for token in ("invitation-shaped", new_buyer_token(), new_invitation_token()):
        view = await shop.buyers.open(person(), token, viewer=None, now=NOW)
        assert (view.opened, view.offered) == (Opened.INVALID, None)
    assert await shop.db.buyers.holding_live_links([shop.code.id]) == {}


async def test_the_receipts_switch_says_whether_it_changed_anything(shop: Shop) -> None:
    on = await shop.buyers.set_receipts(shop.ani, shop.code.id, True)
    assert on is not None and on.changed and on.detail.code.receipts
    still = await shop.buyers.set_receipts(shop.ani, shop.code.id, True)
    assert still is not None and not still.changed
    off = await shop.buyers.set_receipts(shop.ani, shop.code.id, False)
    assert off is not None and off.changed and not off.detail.code.receipts


def test_a_start_token_is_read_only_from_a_start_for_this_bot() -> None:
    token = "A" * 24
    assert start_token(f"/start {token}", "kodebayar_bot") == token
    assert start_token(f"/start@Kodebayar_Bot {token}", "kodebayar_bot") == token
    assert start_token(f"/start@other_bot {token}", "kodebayar_bot") is None
    assert start_token("/start", "kodebayar_bot") is None
    assert start_token(f"/start {token} more", "kodebayar_bot") is None
