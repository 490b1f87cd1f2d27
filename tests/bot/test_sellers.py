"""bot.sellers on a real database, without Telegram: admission, invitations, operators' rules."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import utcnow
from bot.deeplinks import LinkKind
from bot.sellers import (
    INVITE_LIFETIME,
    InviteResult,
    Person,
    Sellers,
    StatusRefusal,
    Verdict,
    shop_name_of,
)
from storage import Database, Role, SellerStatus, Transaction
from tests.standins import NOW, add_code, add_seller, buyer_opens

OPERATOR = 1000
SELLER = 100
STRANGER = 777
ZONE = "Asia/Makassar"  # not the default, so that a new seller's zone is seen to come from here


@pytest.fixture
async def db(database_target: Path | str) -> AsyncIterator[Database]:
    async with await Database.open(database_target) as database:
        yield database


@pytest.fixture
def service(db: Database) -> Sellers:
    return Sellers(db, operators=frozenset({OPERATOR}), timezone=ZONE)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per write transaction opened on any database."""
    opened: list[int] = []
    write: Callable[[Database], AbstractAsyncContextManager[Transaction]] = Database.write

    def counted(database: Database) -> AbstractAsyncContextManager[Transaction]:
        opened.append(1)
        return write(database)

    monkeypatch.setattr(Database, "write", counted)
    return opened


def person(telegram_id: int = SELLER, **changes: object) -> Person:
    """The person as ``tests.standins.add_seller`` stores them."""
    written = Person(
        telegram_id=telegram_id, chat_id=telegram_id, name=f"Seller {telegram_id}", username=None
    )
    return replace(written, **changes)


async def test_a_stranger_is_refused_unless_opening_an_invitation(
    db: Database, service: Sellers
) -> None:
    refused = await service.admit(person(STRANGER))
    invited = await service.admit(person(STRANGER), link=LinkKind.INVITATION)

    assert (refused.verdict, refused.seller, refused.language) == (Verdict.REFUSED, None, "id")
    assert invited.verdict is Verdict.INVITED
    for turned_away in (refused, invited):
        with pytest.raises(ValueError, match="cannot register"):
            await service.register(turned_away)
    assert await db.sellers.count() == 0


async def test_an_operator_is_registered_on_first_contact_then_not_written_again(
    db: Database, service: Sellers, writes: list[int]
) -> None:
    first = await service.admit(person(OPERATOR, username="boss"))
    assert (first.verdict, first.role, first.seller) == (Verdict.ADMITTED, Role.OPERATOR, None)
    registered = await service.register(first)
    assert (registered.role, registered.status, registered.timezone, registered.language) == (
        Role.OPERATOR,
        SellerStatus.ACTIVE,
        ZONE,
        "id",
    )
    assert await db.sellers.get(OPERATOR) == registered
    assert len(writes) == 1

    again = await service.admit(person(OPERATOR, username="boss"))
    assert await service.register(again) == registered
    assert len(writes) == 1


@pytest.mark.parametrize(
    "change", [{"name": "Sari Dewi"}, {"username": "sari"}, {"chat_id": 4242}]
)
async def test_a_stale_seller_is_refreshed_and_keeps_their_language(
    db: Database, service: Sellers, writes: list[int], change: dict[str, object]
) -> None:
    stored = await add_seller(db, SELLER, language="en", timezone="Asia/Jayapura")
    writes.clear()
    admission = await service.admit(person(**change))

    refreshed = await service.register(admission)

    assert refreshed == replace(stored, **change)
    assert await db.sellers.get(SELLER) == refreshed
    assert len(writes) == 1


async def test_a_role_follows_the_settings_and_a_returning_seller_is_active_again(
    db: Database, service: Sellers
) -> None:
    await add_seller(db, OPERATOR, role=Role.SELLER)  # since added to ADMIN_TELEGRAM_IDS
    await add_seller(db, SELLER, role=Role.OPERATOR)  # since removed from it
    await add_seller(db, 101)
    async with db.write() as tx:
        await tx.sellers.set_status(101, SellerStatus.BLOCKED)

    for telegram_id, role in (
        (OPERATOR, Role.OPERATOR),
        (SELLER, Role.SELLER),
        (101, Role.SELLER),
    ):
        admission = await service.admit(person(telegram_id))
        assert admission.verdict is Verdict.ADMITTED
        registered = await service.register(admission)
        assert (registered.role, registered.status) == (role, SellerStatus.ACTIVE)
        assert await db.sellers.get(telegram_id) == registered


async def test_a_suspended_seller_is_refused_but_a_suspended_operator_is_let_in(
    db: Database, service: Sellers
) -> None:
    await add_seller(db, SELLER, language="en")
    await add_seller(db, OPERATOR, role=Role.OPERATOR)
    async with db.write() as tx:
        for telegram_id in (SELLER, OPERATOR):
            await tx.sellers.set_status(telegram_id, SellerStatus.SUSPENDED)

    suspended = await service.admit(person(SELLER), link=LinkKind.INVITATION)
    operator = await service.admit(person(OPERATOR))

    assert (suspended.verdict, suspended.language) == (Verdict.SUSPENDED, "en")
    assert operator.verdict is Verdict.ADMITTED
    assert (await service.register(operator)).status is SellerStatus.ACTIVE


async def test_an_invitation_makes_one_seller(db: Database, service: Sellers) -> None:
    invitation = await service.invite(OPERATOR)
    assert (invitation.created_by, invitation.used_by) == (OPERATOR, None)
    assert invitation.expires_at - invitation.created_at == INVITE_LIFETIME
    assert len(invitation.token) == 24

    newcomer = person(501, username="sari")
    assert await service.join(newcomer, invitation.token) is InviteResult.ACCEPTED
    seller = await db.sellers.get(501)
    assert seller is not None
    assert (seller.invited_by, seller.role, seller.status, seller.timezone, seller.name) == (
        OPERATOR,
        Role.SELLER,
        SellerStatus.ACTIVE,
        ZONE,
        "Seller 501",
    )
    assert (await db.invites.get(invitation.token)) == replace(
        invitation, used_by=501, used_at=seller.created_at
    )

    assert await service.join(person(502), invitation.token) is InviteResult.USED
    assert await db.sellers.get(502) is None


async def test_expired_and_unknown_invitations_make_nobody_a_seller(
    db: Database, service: Sellers
) -> None:
    now = utcnow()
    async with db.write() as tx:
        await tx.invites.create(
            token="old", created_by=OPERATOR, now=now - timedelta(days=8), expires_at=now
        )

    assert await service.join(person(STRANGER), "old") is InviteResult.EXPIRED
    assert await service.join(person(STRANGER), "no-such-token") is InviteResult.UNKNOWN
    assert await db.sellers.count() == 0


async def test_suspending_and_unsuspending_a_seller(db: Database, service: Sellers) -> None:
    stored = await add_seller(db, SELLER)

    suspended = await service.suspend(SELLER, OPERATOR)
    assert suspended == replace(stored, status=SellerStatus.SUSPENDED)
    assert await db.sellers.get(SELLER) == suspended

    restored = await service.unsuspend(SELLER, OPERATOR)
    assert restored == stored
    assert await db.sellers.get(SELLER) == stored


async def test_an_operator_cannot_be_suspended_and_an_unknown_seller_is_said_so(
    db: Database, service: Sellers
) -> None:
    operator = await add_seller(db, OPERATOR, role=Role.OPERATOR)

    assert await service.suspend(OPERATOR, OPERATOR) is StatusRefusal.OPERATOR
    assert await db.sellers.get(OPERATOR) == operator
    for change in (service.suspend, service.unsuspend):
        assert await change(STRANGER, OPERATOR) is StatusRefusal.UNKNOWN
    assert await db.sellers.get(STRANGER) is None


async def test_the_seller_list_is_paged_oldest_first(db: Database, service: Sellers) -> None:
    empty = await service.page(1)
    assert (empty.total, empty.sellers) == (0, ())
    start = utcnow()
    for n in range(45):
        await add_seller(db, 2000 - n, now=start + timedelta(seconds=n))

    first, last, beyond = await service.page(1), await service.page(3), await service.page(9)

    assert (first.total, first.page.number, first.page.count) == (45, 1, 3)
    assert [s.telegram_id for s in first.sellers] == list(range(2000, 1980, -1))
    assert [s.telegram_id for s in last.sellers] == list(range(1960, 1955, -1))
    assert beyond == last


async def test_a_language_is_switched_only_to_one_we_speak(db: Database, service: Sellers) -> None:
    await add_seller(db, SELLER)
    assert await service.language(STRANGER) == "id"

    assert await service.set_language(SELLER, "EN") == "en"
    assert await service.language(SELLER) == "en"
    assert await service.set_language(SELLER, "fr") is None
    assert await service.language(SELLER) == "en"


async def test_only_a_known_admitted_seller_may_share_from_an_inline_query(
    db: Database, service: Sellers, writes: list[int]
) -> None:
    await add_seller(db, SELLER)
    await add_seller(db, 101)
    await add_seller(db, 102)
    async with db.write() as tx:
        await tx.sellers.set_status(101, SellerStatus.SUSPENDED)
        await tx.sellers.set_status(102, SellerStatus.BLOCKED)  # has blocked the bot
    writes.clear()

    assert (await service.sharer(SELLER)) == await db.sellers.get(SELLER)
    assert (await service.sharer(102)) == await db.sellers.get(102)
    assert await service.sharer(101) is None
    assert await service.sharer(STRANGER) is None
    # An operator the bot has not met has no codes, and no chat to register from here.
    assert await service.sharer(OPERATOR) is None
    assert writes == []


async def test_a_buyer_link_admits_anyone_to_its_view_alone(
    db: Database, service: Sellers
) -> None:
    await add_seller(db, SELLER)
    await add_seller(db, 101)
    async with db.write() as tx:
        await tx.sellers.set_status(101, SellerStatus.SUSPENDED)

    for telegram_id in (STRANGER, SELLER, 101, OPERATOR):
        opening = await service.admit(person(telegram_id), link=LinkKind.BUYER)
        assert opening.verdict is Verdict.BUYER, telegram_id
        with pytest.raises(ValueError, match="cannot register"):
            await service.register(opening)
    assert await db.sellers.get(STRANGER) is None


async def test_a_stranger_who_opened_a_buyer_link_stays_a_buyer_and_nothing_more(
    db: Database, service: Sellers
) -> None:
    await add_seller(db, SELLER)
    code = await add_code(db, SELLER)
    async with db.write() as tx:
        link = await tx.buyer_links.create(code_id=code.id, token="b_" + "x" * 32, now=NOW)
        await buyer_opens(tx, STRANGER, code.id, link.id, language="id", now=NOW)

    again = await service.admit(person(STRANGER))
    inviting = await service.admit(person(STRANGER), link=LinkKind.INVITATION)
    other = await service.admit(person(778))

    assert (again.verdict, again.seller) == (Verdict.BUYER, None)
    assert inviting.verdict is Verdict.INVITED  # a buyer may still be invited to sell
    assert other.verdict is Verdict.REFUSED
    # The seller who owns the code is a seller, whatever buyers there are.
    assert (await service.admit(person(SELLER))).verdict is Verdict.ADMITTED


async def test_a_shop_name_is_kept_cleaned_and_stands_for_the_seller(
    db: Database, service: Sellers
) -> None:
    seller = await add_seller(db, SELLER, name="Sari Dewi")
    assert shop_name_of(seller) == "Sari Dewi"
    assert await service.set_shop_name(SELLER, " \u200b\n ") is None
    assert await service.set_shop_name(SELLER, "  Warung\n  Sari  ") == "Warung Sari"

    stored = await db.sellers.get(SELLER)
    assert stored is not None and stored.shop_name == "Warung Sari"
    assert shop_name_of(stored) == "Warung Sari"
    assert await service.set_shop_name(SELLER, "x" * 200) == "x" * 60
