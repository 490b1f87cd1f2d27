"""SellerRepository: upsert on (re)joining, touches, status, listing, operators."""

from __future__ import annotations

from datetime import timedelta

from storage import Database, Role, SellerStatus
from tests.standins import NOW, add_seller


async def test_add_then_get(db: Database) -> None:
    added = await add_seller(db, 100, role=Role.OPERATOR)
    assert added.telegram_id == 100
    assert added.status is SellerStatus.ACTIVE
    assert added.role is Role.OPERATOR
    assert added.created_at == NOW
    assert await db.sellers.get(100) == added
    assert await db.sellers.get(101) is None


async def test_get_many_leaves_out_unknown_ids(db: Database) -> None:
    first, second = await add_seller(db, 100), await add_seller(db, 200)
    assert await db.sellers.get_many([200, 100, 300, 100]) == {100: first, 200: second}
    assert await db.sellers.get_many([]) == {}


async def test_adding_again_refreshes_and_reactivates_but_keeps_language_and_age(
    db: Database,
) -> None:
    await add_seller(db, 100)
    async with db.write() as tx:
        await tx.sellers.set_language(100, "en")
        assert await tx.sellers.set_status(100, SellerStatus.BLOCKED)
        again = await tx.sellers.add(
            telegram_id=100,
            chat_id=555,
            name="Ani Baru",
            username="ani",
            language="id",
            timezone="Asia/Makassar",
            role=Role.OPERATOR,
            invited_by=7,
            now=NOW + timedelta(days=3),
        )
    assert (again.chat_id, again.name, again.username, again.role) == (
        555,
        "Ani Baru",
        "ani",
        Role.OPERATOR,
    )
    assert again.status is SellerStatus.ACTIVE
    assert (again.language, again.timezone, again.invited_by) == ("en", "Asia/Jakarta", None)
    assert again.created_at == NOW
    assert await db.sellers.count() == 1


async def test_set_status_of_an_unknown_seller_is_false(db: Database) -> None:
    async with db.write() as tx:
        assert not await tx.sellers.set_status(404, SellerStatus.SUSPENDED)


async def test_list_pages_by_joining_time_and_count(db: Database) -> None:
    for telegram_id, days in ((30, 2), (10, 0), (20, 1)):
        await add_seller(db, telegram_id, now=NOW + timedelta(days=days))
    first = await db.sellers.list(offset=0, limit=2)
    second = await db.sellers.list(offset=2, limit=2)
    assert [seller.telegram_id for seller in first + second] == [10, 20, 30]
    assert await db.sellers.count() == 3


async def test_operators_are_the_active_ones_with_that_role(db: Database) -> None:
    await add_seller(db, 1, role=Role.OPERATOR)
    await add_seller(db, 2, role=Role.OPERATOR)
    await add_seller(db, 3, role=Role.SELLER)
    async with db.write() as tx:
        await tx.sellers.set_status(2, SellerStatus.SUSPENDED)
    assert [seller.telegram_id for seller in await db.sellers.operators()] == [1]
