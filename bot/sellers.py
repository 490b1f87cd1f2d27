"""Sellers and invitations: who may use the bot, joining by invitation, the operators' commands.

Deny by default: a person is let in as an operator (``ADMIN_TELEGRAM_IDS``, the settings
decide, not the database) or as an active seller; a stranger only to open an invitation. Anyone
opening a buyer link, and a stranger who opened one before, is let in as a buyer: to that
code's view alone (``bot.buyers``, docs/buyers.md). The service takes plain values
(``Person``), never Telegram objects, so that the access gate, a deep link or a job in another
process apply the same rules; the handlers render what it returns with the message catalogues.

Admission comes in two steps, a read and a write, so that the gate can release what waited for
the person between them: a failed write must not keep those messages (``bot.handlers.access``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.clock import utcnow
from bot.deeplinks import LinkKind, new_invitation_token
from bot.drafts import clean_customer_name
from bot.paging import Page
from bot.texts import DEFAULT_LANGUAGE, LANGUAGES, Language
from storage import Database, Invite, InviteResult, Role, Seller, SellerStatus, Transaction

__all__ = [
    "INVITE_LIFETIME",
    "SELLERS_PER_PAGE",
    "Admission",
    "Invite",
    "InviteResult",
    "Person",
    "Seller",
    "SellerPage",
    "Sellers",
    "StatusRefusal",
    "Verdict",
    "shop_name_of",
]

logger = logging.getLogger(__name__)

INVITE_LIFETIME = timedelta(days=7)
SELLERS_PER_PAGE = 20


@dataclass(frozen=True, slots=True)
class Person:
    """Who is writing, as Telegram describes them: their user id, private chat, names and the
    language of their Telegram app."""

    telegram_id: int
    chat_id: int
    name: str
    username: str | None
    language_code: str | None = None


class Verdict(StrEnum):
    """Whether a person is let in."""

    ADMITTED = "admitted"  # an operator, or a seller who is not suspended
    INVITED = "invited"  # a stranger opening an invitation: joining decides
    BUYER = "buyer"  # opening a buyer link, or a stranger who opened one: its view alone
    REFUSED = "refused"  # a stranger
    SUSPENDED = "suspended"  # a suspended seller who is no operator


@dataclass(frozen=True, slots=True)
class Admission:
    """The verdict on ``person``, with the role they would have and their record as read."""

    person: Person
    verdict: Verdict
    role: Role
    seller: Seller | None

    @property
    def language(self) -> str:
        """The language to answer in: the seller's, or the default for a stranger."""
        return DEFAULT_LANGUAGE if self.seller is None else self.seller.language


@dataclass(frozen=True, slots=True)
class SellerPage:
    """One page of the seller list, oldest first, and how many sellers there are in all."""

    page: Page
    total: int
    sellers: tuple[Seller, ...]


class StatusRefusal(StrEnum):
    """Why a seller's status was not changed."""

    UNKNOWN = "unknown"  # no seller has that Telegram id
    OPERATOR = "operator"  # an operator cannot be suspended


def shop_name_of(seller: Seller) -> str:
    """The name buyers see of ``seller``, everywhere: the shop name they set with ``/toko``,
    else their Telegram name."""
    return seller.shop_name or seller.name


class Sellers:
    """The rules and transactions about sellers, operators and invitations."""

    def __init__(self, db: Database, *, operators: frozenset[int], timezone: str) -> None:
        self._db = db
        self._operators = operators
        self._timezone = timezone  # TIMEZONE: the zone a new seller is given

    def is_operator(self, telegram_id: int) -> bool:
        """Whether ``telegram_id`` is in ``ADMIN_TELEGRAM_IDS``."""
        return telegram_id in self._operators

    async def admit(self, person: Person, *, link: LinkKind | None = None) -> Admission:
        """Decide whether ``person`` is let in; ``link``: the kind of deep link they open.

        A buyer link shows its code to anyone, seller or not, as a buyer sees it, and admits
        to nothing more; an invitation matters to a stranger only.
        """
        seller = await self._db.sellers.get(person.telegram_id)
        if link is LinkKind.BUYER:
            verdict = Verdict.BUYER
        else:
            invitation = link is LinkKind.INVITATION
            verdict = self._verdict(person.telegram_id, seller, invitation=invitation)
            # A stranger who once opened a buyer link is still that code's buyer.
            if verdict is Verdict.REFUSED and await self._db.buyers.is_buyer(person.telegram_id):
                verdict = Verdict.BUYER
        role = Role.OPERATOR if self.is_operator(person.telegram_id) else Role.SELLER
        return Admission(person=person, verdict=verdict, role=role, seller=seller)

    async def sharer(self, telegram_id: int) -> Seller | None:
        """The seller behind an inline query or its chosen result: someone ``admit`` lets in
        who has written to the bot before (such an update has no chat to register). None for
        anyone else: a stranger, a suspended seller, an operator the bot has not met."""
        seller = await self._db.sellers.get(telegram_id)
        if seller is None:
            return None
        verdict = self._verdict(telegram_id, seller, invitation=False)
        return seller if verdict is Verdict.ADMITTED else None

    def _verdict(self, telegram_id: int, seller: Seller | None, *, invitation: bool) -> Verdict:
        if self.is_operator(telegram_id):
            return Verdict.ADMITTED
        if seller is None:
            return Verdict.INVITED if invitation else Verdict.REFUSED
        if seller.status is SellerStatus.SUSPENDED:
            return Verdict.SUSPENDED
        return Verdict.ADMITTED

    async def register(self, admission: Admission) -> Seller:
        """The admitted person's record, written only when something changed.

        Operators are registered on first contact and someone removed from
        ``ADMIN_TELEGRAM_IDS`` is a plain seller again; a seller who blocked the bot and writes
        again has unblocked it; a new name, username or chat is kept.
        """
        if admission.verdict is not Verdict.ADMITTED:
            raise ValueError(f"cannot register a person who is {admission.verdict}")
        seller, role, person = admission.seller, admission.role, admission.person
        # Only write when something changed: a write per update would serialise every chat.
        if (
            seller is not None
            and seller.role is role
            and seller.status is SellerStatus.ACTIVE
            and (seller.chat_id, seller.name, seller.username)
            == (person.chat_id, person.name, person.username)
        ):
            return seller
        async with self._db.write() as tx:
            registered = await self._upsert(tx, person, role=role, invited_by=None, now=utcnow())
        if seller is None or seller.role is not role:
            logger.info("Telegram user %s registered as %s", person.telegram_id, role.value)
        return registered

    async def join(self, person: Person, token: str) -> InviteResult:
        """Redeem the invitation ``token``: ACCEPTED makes ``person`` an active seller."""
        now = utcnow()
        async with self._db.write() as tx:
            result = await tx.invites.redeem(token, used_by=person.telegram_id, now=now)
            if result is InviteResult.ACCEPTED:
                invitation = await tx.invites.get(token)
                invited_by = invitation.created_by if invitation else None
                await self._upsert(tx, person, role=Role.SELLER, invited_by=invited_by, now=now)
        if result is InviteResult.ACCEPTED:
            logger.info("Telegram user %s joined as a seller", person.telegram_id)
        return result

    async def invite(self, operator_id: int) -> Invite:
        """A new one-time invitation by ``operator_id``, valid for ``INVITE_LIFETIME``."""
        token = new_invitation_token()
        now = utcnow()
        async with self._db.write() as tx:
            return await tx.invites.create(
                token=token, created_by=operator_id, now=now, expires_at=now + INVITE_LIFETIME
            )

    async def page(self, requested: int) -> SellerPage:
        """Page ``requested`` of every seller (clamped to the pages there are)."""
        total = await self._db.sellers.count()
        page = Page.of(requested, total, SELLERS_PER_PAGE)
        rows = await self._db.sellers.list(offset=page.offset, limit=page.limit)
        return SellerPage(page=page, total=total, sellers=tuple(rows))

    async def suspend(self, telegram_id: int, by: int) -> Seller | StatusRefusal:
        """Refuse the seller from now on (their records stay); the seller as suspended."""
        if self.is_operator(telegram_id):
            return StatusRefusal.OPERATOR
        return await self._set_status(telegram_id, SellerStatus.SUSPENDED, by=by)

    async def unsuspend(self, telegram_id: int, by: int) -> Seller | StatusRefusal:
        """Give a suspended seller access again; the seller as active."""
        return await self._set_status(telegram_id, SellerStatus.ACTIVE, by=by)

    async def set_language(self, telegram_id: int, choice: str) -> Language | None:
        """Switch the seller to ``choice`` (any case); None when we do not speak it."""
        for language in LANGUAGES:
            if language == choice.lower():
                async with self._db.write() as tx:
                    await tx.sellers.set_language(telegram_id, language)
                return language
        return None

    async def set_shop_name(self, telegram_id: int, typed: str) -> str | None:
        """Name the seller's shop for buyers (cleaned like a customer's name); the name kept,
        or None when nothing is left of ``typed``."""
        name = clean_customer_name(typed)
        if not name:
            return None
        async with self._db.write() as tx:
            await tx.sellers.set_shop_name(telegram_id, name)
        return name

    async def language(self, telegram_id: int) -> str:
        """The seller's language, or the default for someone unknown."""
        seller = await self._db.sellers.get(telegram_id)
        return DEFAULT_LANGUAGE if seller is None else seller.language

    async def _set_status(
        self, telegram_id: int, status: SellerStatus, *, by: int
    ) -> Seller | StatusRefusal:
        async with self._db.write() as tx:
            target = await tx.sellers.get(telegram_id)
            if target is not None:
                await tx.sellers.set_status(telegram_id, status)
        if target is None:
            return StatusRefusal.UNKNOWN
        logger.info("Operator %s set seller %s to %s", by, telegram_id, status)
        return replace(target, status=status)

    async def _upsert(
        self,
        tx: Transaction,
        person: Person,
        *,
        role: Role,
        invited_by: int | None,
        now: datetime,
    ) -> Seller:
        """Insert or refresh ``person`` as an ACTIVE seller (a known one keeps their language)."""
        return await tx.sellers.add(
            telegram_id=person.telegram_id,
            chat_id=person.chat_id,
            name=person.name,
            username=person.username,
            language=DEFAULT_LANGUAGE,
            timezone=self._timezone,
            role=role,
            invited_by=invited_by,
            now=now,
        )
