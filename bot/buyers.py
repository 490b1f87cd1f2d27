"""Buyers: a code's buyer link, what opening it shows, and its receipts switch (docs/buyers.md).

A seller gives a buyer one code through its link, ``https://t.me/<bot>?start=b_…``
(``bot.deeplinks``). Whoever opens it sees that code as a buyer: the QR or VA to pay, the amount
or "bebas", how to pay and the seller's shop name (``bot.sellers.shop_name_of``), nothing of the
seller's; the gate lets them in to that alone (``bot.sellers.Sellers.admit``). A code has one
live link at most: revoking it, or replacing it with a new one, makes the old one say it is no
longer valid, and those who opened it get no more receipts (``bot.receipts``).

Callable without Telegram: plain values in, records out. A code id comes from a button, so the
seller's methods look the code up for the seller they are given (``Codebook.find``): another
seller's code finds nothing, and they answer None.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.codebook import Card, Codebook, CodeDetail, card_check
from bot.deeplinks import LinkKind, link_kind, new_buyer_token
from bot.receipts import withdraw_receipts
from bot.sellers import Person, shop_name_of
from bot.texts import language_of
from storage import Code, CodeStatus, Database, Seller

__all__ = [
    "BuyerView",
    "Buyers",
    "LinkChange",
    "Offered",
    "Opened",
    "buyer_language",
    "shareable",
]

logger = logging.getLogger(__name__)


class Opened(StrEnum):
    """What opening a buyer link finds."""

    SHOWN = "shown"  # the code, to pay
    DEACTIVATED = "deactivated"  # the seller switched the code off
    EXPIRED = "expired"  # Pivot takes no more payments on it
    INVALID = "invalid"  # the link was revoked, or never was


@dataclass(frozen=True, slots=True)
class Offered:
    """A code as buyers see it: with the name of the shop it is from, and its seller's zone
    for the dates on its card."""

    code: Code
    shop: str
    timezone: str


@dataclass(frozen=True, slots=True)
class BuyerView:
    """What a person opening a buyer link is shown, and in which language; ``offered`` is None
    for an INVALID link only."""

    opened: Opened
    language: str
    offered: Offered | None = None
    own: bool = False  # the seller who owns the code, seeing what their buyers see


@dataclass(frozen=True, slots=True)
class LinkChange:
    """A seller's change to a code's link or receipts: whether it changed anything, and the
    code's detail as it is now."""

    changed: bool
    detail: CodeDetail


def buyer_language(person: Person, viewer: Seller | None) -> str:
    """The language a person is answered in as a buyer: their own as a seller (``viewer``),
    else their Telegram app's when we speak it, else the default."""
    return viewer.language if viewer is not None else language_of(person.language_code)


def shareable(code: Code, now: datetime) -> bool:
    """Whether a buyer link to ``code`` may be made now: ACTIVE, made at Pivot, not expired."""
    return code.status is CodeStatus.ACTIVE and card_check(code, now) is Card.READY


class Buyers:
    """Buyer links, what they show, and who holds them."""

    def __init__(self, db: Database, codebook: Codebook) -> None:
        self._db = db
        self._codebook = codebook

    async def share(self, seller: Seller, code_id: int, *, now: datetime) -> LinkChange | None:
        """The code's live link, made now if it has none and may be shared; None if the code
        is not the seller's."""
        code = await self._codebook.find(seller, code_id)
        if code is None:
            return None
        made = False
        if shareable(code, now):
            async with self._db.write() as tx:
                # Inside the transaction: a second press finds the first one's link.
                if await tx.buyer_links.live_for_code(code.id) is None:
                    await tx.buyer_links.create(code_id=code.id, token=new_buyer_token(), now=now)
                    made = True
        if made:
            logger.info("Seller %s made a buyer link for code %s", seller.telegram_id, code.id)
        return LinkChange(made, await self._codebook.detail_of(code))

    async def replace(self, seller: Seller, code_id: int, *, now: datetime) -> LinkChange | None:
        """Revoke the code's live link and make a new one, if the code may still be shared;
        None if the code is not the seller's."""
        code = await self._codebook.find(seller, code_id)
        if code is None:
            return None
        if not shareable(code, now):
            return LinkChange(False, await self._codebook.detail_of(code))
        async with self._db.write() as tx:
            await withdraw_receipts(tx, code.id)
            await tx.buyer_links.revoke_for_code(code.id, now=now)
            await tx.buyer_links.create(code_id=code.id, token=new_buyer_token(), now=now)
        logger.info("Seller %s replaced the buyer link of code %s", seller.telegram_id, code.id)
        return LinkChange(True, await self._codebook.detail_of(code))

    async def revoke(self, seller: Seller, code_id: int, *, now: datetime) -> LinkChange | None:
        """Revoke the code's live link (it then says it is no longer valid); None if the code
        is not the seller's."""
        code = await self._codebook.find(seller, code_id)
        if code is None:
            return None
        async with self._db.write() as tx:
            await withdraw_receipts(tx, code.id)
            revoked = await tx.buyer_links.revoke_for_code(code.id, now=now)
        if revoked:
            logger.info("Seller %s revoked the buyer link of code %s", seller.telegram_id, code.id)
        return LinkChange(revoked, await self._codebook.detail_of(code))

    async def set_receipts(self, seller: Seller, code_id: int, on: bool) -> LinkChange | None:
        """Switch the receipts to the code's buyers on or off; None if the code is not the
        seller's."""
        code = await self._codebook.find(seller, code_id)
        if code is None:
            return None
        async with self._db.write() as tx:
            if not on:
                await withdraw_receipts(tx, code.id)
            switched = await tx.codes.set_receipts(code.id, on)
        return LinkChange(code.receipts != on, await self._codebook.detail_of(switched or code))

    async def open(
        self, person: Person, token: str, *, viewer: Seller | None, now: datetime
    ) -> BuyerView:
        """What ``person`` sees opening the buyer link ``token``; ``viewer`` is their own
        seller record if they are a seller, whose language they are answered in.

        Whoever is shown the code is remembered as its buyer, for its receipts: the seller who
        owns it is not (their payment messages say more).
        """
        language = buyer_language(person, viewer)
        found = await self._live_code(token)
        if found is None:
            return BuyerView(Opened.INVALID, language)
        link_id, code, seller = found
        opened = _opened(code, now)
        own = seller.telegram_id == person.telegram_id
        if opened is Opened.SHOWN and not own:
            async with self._db.write() as tx:
                await tx.buyers.record(
                    telegram_id=person.telegram_id,
                    chat_id=person.chat_id,
                    code_id=code.id,
                    link_id=link_id,
                    language=language,
                    now=now,
                )
        offered = Offered(code, shop_name_of(seller), seller.timezone)
        return BuyerView(opened, language, offered, own)

    async def _live_code(self, token: str) -> tuple[int, Code, Seller] | None:
        """The live link ``token`` names, with its code and the code's seller; None for a
        revoked or unknown link, or a token of another kind (``bot.deeplinks``)."""
        if link_kind(token) is not LinkKind.BUYER:
            return None
        link = await self._db.buyer_links.by_token(token)
        if link is None or not link.live:
            return None
        code = await self._db.codes.get(link.code_id)
        seller = await self._db.sellers.get(code.seller_id) if code else None
        if code is None or seller is None:  # foreign keys rule it out; refuse rather than guess
            return None
        return link.id, code, seller


def _opened(code: Code, now: datetime) -> Opened:
    """What a live link to ``code`` shows now."""
    if code.status is CodeStatus.DEACTIVATED:
        return Opened.DEACTIVATED
    check = card_check(code, now)
    if check is Card.EXPIRED:
        return Opened.EXPIRED
    # A link is made for a code Pivot made (``shareable``): NOT_MADE cannot come, but a code
    # that has no card must never be shown.
    return Opened.SHOWN if check is Card.READY else Opened.INVALID
