"""BuyerLinkRepository and BuyerRepository: one live link per code, buyers by the link they hold;
and what sellers and codes keep for buyers (the shop name, the receipts switch)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import ConstraintError, Database
from tests.standins import NOW, add_code, add_seller, buyer_opens


async def _link(db: Database, code_id: int, token: str, *, at: timedelta = timedelta(0)) -> int:
    async with db.write() as tx:
        return (await tx.buyer_links.create(code_id=code_id, token=token, now=NOW + at)).id


async def _open(db: Database, telegram_id: int, code_id: int, link_id: int, at: timedelta) -> None:
    async with db.write() as tx:
        await buyer_opens(tx, telegram_id, code_id, link_id, language="id", now=NOW + at)


async def _revoke(db: Database, code_id: int) -> bool:
    async with db.write() as tx:
        return await tx.buyer_links.revoke_for_code(code_id, now=NOW + timedelta(hours=1))


async def test_a_code_has_one_live_link_and_revoked_ones_stay_to_say_so(db: Database) -> None:
    await add_seller(db, 100)
    code = await add_code(db)
    await _link(db, code.id, "b_first")
    with pytest.raises(ConstraintError):
        await _link(db, code.id, "b_second")

    assert await _revoke(db, code.id)
    assert not await _revoke(db, code.id)  # nothing live is left to revoke
    assert await db.buyer_links.live_for_code(code.id) is None
    await _link(db, code.id, "b_second")

    first, second = (
        await db.buyer_links.by_token("b_first"),
        await db.buyer_links.by_token("b_second"),
    )
    assert first is not None and second is not None
    assert (first.code_id, first.live, first.revoked_at) == (
        code.id,
        False,
        NOW + timedelta(hours=1),
    )
    assert second.live
    assert await db.buyer_links.live_for_code(code.id) == second
    assert await db.buyer_links.by_token("b_unknown") is None


async def test_a_token_names_one_link_for_good(db: Database) -> None:
    await add_seller(db, 100)
    one, other = await add_code(db), await add_code(db)
    await _link(db, one.id, "b_same")
    await _revoke(db, one.id)
    with pytest.raises(ConstraintError):
        await _link(db, other.id, "b_same")


async def test_a_buyer_is_kept_once_per_code_with_the_link_they_opened_last(db: Database) -> None:
    await add_seller(db, 100)
    code = await add_code(db)
    old = await _link(db, code.id, "b_old")
    await _open(db, 501, code.id, old, timedelta(minutes=1))
    await _revoke(db, code.id)
    new = await _link(db, code.id, "b_new")
    await _open(db, 501, code.id, new, timedelta(minutes=5))

    [buyer] = (await db.buyers.holding_live_links([code.id]))[code.id]
    assert (buyer.telegram_id, buyer.link_id, buyer.first_seen) == (
        501,
        new,
        NOW + timedelta(minutes=1),
    )
    assert (await db.buyers.count_for_link(old), await db.buyers.count_for_link(new)) == (0, 1)
    assert await db.buyers.is_buyer(501)
    assert not await db.buyers.is_buyer(502)


async def test_receipts_go_to_the_buyers_of_live_links_only(db: Database) -> None:
    await add_seller(db, 100)
    code, other = await add_code(db), await add_code(db)
    old = await _link(db, code.id, "b_old")
    await _open(db, 501, code.id, old, timedelta(minutes=1))
    await _open(db, 502, code.id, old, timedelta(minutes=2))
    await _revoke(db, code.id)
    new = await _link(db, code.id, "b_new")
    await _open(db, 503, code.id, new, timedelta(minutes=3))
    await _open(db, 502, code.id, new, timedelta(minutes=4))  # opened the new one too
    other_link = await _link(db, other.id, "b_other")
    await _open(db, 504, other.id, other_link, timedelta(minutes=5))

    holding = await db.buyers.holding_live_links([code.id, other.id, 999])
    assert {code_id: [b.telegram_id for b in buyers] for code_id, buyers in holding.items()} == {
        code.id: [502, 503],
        other.id: [504],
    }
    await _revoke(db, other.id)
    assert other.id not in await db.buyers.holding_live_links([other.id])


async def test_a_seller_keeps_a_shop_name_and_a_code_its_receipts_switch(db: Database) -> None:
    seller = await add_seller(db, 100)
    assert seller.shop_name is None
    code = await add_code(db)
    assert not code.receipts
    async with db.write() as tx:
        assert await tx.sellers.set_shop_name(100, "Warung Sari")
        assert not await tx.sellers.set_shop_name(999, "Nobody")
        switched = await tx.codes.set_receipts(code.id, True)
        assert await tx.codes.set_receipts(999, True) is None
    assert switched is not None and switched.receipts
    stored = await db.sellers.get(100)
    assert stored is not None and stored.shop_name == "Warung Sari"
    fetched = await db.codes.get(code.id)
    assert fetched is not None and fetched.receipts
    # A returning seller (the upsert on every change) keeps the name.
    refreshed = await add_seller(db, 100, name="Sari Baru")
    assert refreshed.shop_name == "Warung Sari"
