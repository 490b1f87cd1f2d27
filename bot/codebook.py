"""A seller's codes as the seller sees them: page by page (or found by customer), one with its
payments, switched off and on again, renamed, sent again, renewed, shared into a buyer's chat;
and the codes ``/new`` looks back at.

Callable without Telegram (a button, an inline query, a buyer's deep link, another process):
every method takes plain values. A code id comes from outside (a button, a link), so every
method that takes one looks the code up for the seller it is given: an id of another seller's
code finds nothing, exactly like an id that does not exist, and the caller says so.

The rules of what may be done with a code live here as functions, for the handlers that act
and the keyboards that offer alike: ``card_check`` (may its card go out again), ``is_live``
(may it be shared, and deactivated), ``can_reactivate``, ``can_print_sticker``;
``bot.expiry.renewable`` says whether a new code is offered in its place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Protocol

from bot.codes import CodeIssuer
from bot.drafts import Draft, clean_customer_name
from bot.expiry import is_expired, renewable
from bot.paging import Page
from storage import BuyerLink, Charge, Code, CodeKind, CodeStatus, CodeSummary, Database, Seller

__all__ = [
    "CODES_PER_PAGE",
    "PAYMENTS_PER_PAGE",
    "SHARES_PER_ANSWER",
    "BuyerLink",
    "Card",
    "Charge",
    "Code",
    "CodeDetail",
    "CodeKind",
    "CodeStatus",
    "CodeSummary",
    "Codebook",
    "CodesPage",
    "PhotoUpload",
    "Renaming",
    "Renewal",
    "RenewalRefusal",
    "Seller",
    "Shareable",
    "Switch",
    "can_deactivate",
    "can_print_sticker",
    "can_reactivate",
    "card_check",
    "is_live",
    "renewal_key",
    "request_key",
]

logger = logging.getLogger(__name__)

CODES_PER_PAGE = 8
PAYMENTS_PER_PAGE = 10
# Codes in one answer to an inline query (Telegram takes up to 50); the seller's app asks for
# the next ones as they scroll. Small enough that the QR photos Telegram lacks for one answer
# are sent in two albums.
SHARES_PER_ANSWER = 20


class Card(Enum):
    """Whether a code's card may be sent again."""

    READY = "ready"
    NOT_MADE = "not_made"  # never made at Pivot: there is no card
    EXPIRED = "expired"  # Pivot takes no more payments on it: the card would mislead


class RenewalRefusal(Enum):
    """Why a code is not renewed after all (the button may be older than the change)."""

    NOT_RENEWABLE = "not_renewable"  # deactivated since, or never expires
    BANK_GONE = "bank_gone"  # its bank is no longer enabled at Pivot


@dataclass(frozen=True, slots=True)
class CodesPage:
    """One page of a seller's codes, newest first; ``total`` 0 when they have none (or none
    whose customer contains ``search``, the part of a name looked for, "" for all codes)."""

    page: Page
    total: int
    summaries: tuple[CodeSummary, ...]
    search: str = ""


@dataclass(frozen=True, slots=True)
class CodeDetail:
    """A code with the count and total of all its payments, and one page of them; its live
    buyer link, if any, and how many buyers hold it (docs/buyers.md)."""

    code: Code
    count: int
    total: int  # rupiah
    page: Page
    charges: tuple[Charge, ...]  # newest first
    link: BuyerLink | None = None
    buyers: int = 0


@dataclass(frozen=True, slots=True)
class Switch:
    """A code switched off, or on again: whether this press changed it, and the code as it is
    now."""

    changed: bool
    detail: CodeDetail


@dataclass(frozen=True, slots=True)
class Renaming:
    """A rename: the name the code had, and the code as it is now (unchanged when ``empty``:
    nothing usable was given as the name)."""

    previous: str
    detail: CodeDetail
    empty: bool = False


@dataclass(frozen=True, slots=True)
class Renewal:
    """A press on renew: the seller's code, why not (None: go ahead), and the banks on offer."""

    code: Code
    refusal: RenewalRefusal | None
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Shareable:
    """One answer's worth of the codes a seller may share; ``next_offset`` None after the last."""

    codes: tuple[Code, ...]
    next_offset: int | None


class PhotoUpload(Protocol):
    """Gets QR photos to Telegram, which inline answers can only name by file id
    (``bot.cards.CardPhotos``)."""

    async def __call__(self, chat_id: int, codes: Sequence[Code], language: str) -> dict[int, str]:
        """The file ids of the QR photos of ``codes`` (QRIS codes, labelled in ``language``),
        by code id; sent to ``chat_id`` unseen; a code whose photo Telegram did not take is
        left out."""
        ...


def card_check(code: Code, now: datetime) -> Card:
    """Whether ``code``'s card may go out again: made at Pivot (even if deactivated here, a
    static code keeps taking money) and not expired."""
    if code.status not in (CodeStatus.ACTIVE, CodeStatus.DEACTIVATED):
        return Card.NOT_MADE
    return Card.EXPIRED if is_expired(code, now) else Card.READY


def is_live(code: Code, now: datetime) -> bool:
    """Whether ``code`` is offered to buyers: made at Pivot, ACTIVE (not deactivated) and not
    expired. Only a live code is shared into a buyer's chat."""
    return code.status is CodeStatus.ACTIVE and not is_expired(code, now)


def can_deactivate(code: Code, now: datetime) -> bool:
    """Whether deactivating ``code`` still means something: it is live."""
    return is_live(code, now)


def can_reactivate(code: Code, now: datetime) -> bool:
    """Whether ``code`` may be offered again: DEACTIVATED (Pivot kept taking payments on it) and
    not expired (then Pivot takes none)."""
    return code.status is CodeStatus.DEACTIVATED and not is_expired(code, now)


def can_print_sticker(code: Code) -> bool:
    """Whether ``code`` may be printed as a sticker: an ACTIVE QRIS (one deactivated here still
    takes money at Pivot, but a sticker would hand it out again)."""
    return (
        code.kind is CodeKind.QRIS and code.status is CodeStatus.ACTIVE and bool(code.qr_content)
    )


def renewal_key(code_id: int) -> str:
    """The request key of the code that renews code ``code_id``: one renewal per code."""
    return f"renew:{code_id}"


def request_key(chat_id: int, message_id: int) -> str:
    """The request key of a code asked for in a chat: the chat and the message that completed
    the request, so a redelivered update or a second tap finds the code made the first time."""
    return f"{chat_id}:{message_id}"


class Codebook:
    """The seller-facing reads and changes of codes (``CodeIssuer`` makes them)."""

    def __init__(self, db: Database, issuer: CodeIssuer, photos: PhotoUpload) -> None:
        self._db = db
        self._issuer = issuer
        self._photos = photos

    async def page(self, seller: Seller, requested: int, search: str = "") -> CodesPage:
        """Page ``requested`` of the seller's codes (clamped to the pages there are); with
        ``search``, of those whose customer contains it, in any case (ASCII letters), spaces
        and the like read as in a customer's name (``clean_customer_name``)."""
        codes, part = self._db.codes, clean_customer_name(search)
        total = await codes.count_for_seller(seller.telegram_id, customer_contains=part)
        page = Page.of(requested, total, CODES_PER_PAGE)
        summaries = (
            await codes.list_for_seller(
                seller.telegram_id, offset=page.offset, limit=page.limit, customer_contains=part
            )
            if total
            else []
        )
        return CodesPage(page, total, tuple(summaries), part)

    async def find(self, seller: Seller, code_id: int) -> Code | None:
        """Code ``code_id`` if it is the seller's; None otherwise."""
        code = await self._db.codes.get_for_seller(code_id, seller.telegram_id)
        if code is None:
            logger.info("Seller %s asked for code %s, not theirs", seller.telegram_id, code_id)
        return code

    async def detail(self, seller: Seller, code_id: int, requested: int = 1) -> CodeDetail | None:
        """The seller's code ``code_id`` with page ``requested`` of its payments; None if not
        theirs."""
        code = await self.find(seller, code_id)
        return None if code is None else await self.detail_of(code, requested)

    async def detail_of(self, code: Code, requested: int = 1) -> CodeDetail:
        """``code`` (as ``find`` or another method here gave it) with a page of its payments."""
        charges = self._db.charges
        count, total = await charges.stats_for_code(code.id)
        page = Page.of(requested, count, PAYMENTS_PER_PAGE)
        listed = await charges.list_for_code(code.id, offset=page.offset, limit=page.limit)
        link = await self._db.buyer_links.live_for_code(code.id)
        buyers = await self._db.buyers.count_for_link(link.id) if link else 0
        return CodeDetail(code, count, total, page, tuple(listed), link, buyers)

    async def deactivate(self, seller: Seller, code_id: int, *, now: datetime) -> Switch | None:
        """Deactivate the seller's code ``code_id`` (later payments are still recorded); None if
        not theirs.

        Pivot cannot switch a static code off: the code only stops being offered here.
        """
        code = await self.find(seller, code_id)
        if code is None:
            return None
        async with self._db.write() as tx:
            changed = await tx.codes.deactivate(code.id, now=now)
            current = await tx.codes.get(code.id)
        if changed:
            logger.info("Seller %s deactivated code %s", seller.telegram_id, code.id)
        return Switch(changed, await self.detail_of(current or code))

    async def reactivate(self, seller: Seller, code_id: int, *, now: datetime) -> Switch | None:
        """Offer the seller's deactivated code ``code_id`` again, its payments no longer flagged,
        unless it has expired (``can_reactivate``); None if not theirs.

        No per-seller limit (``bot.limits``) stands in the way, nor can one be passed: the open
        VA numbers a seller holds count deactivated codes too, and the codes of a day count the
        codes made that day, so reactivating changes neither.
        """
        code = await self.find(seller, code_id)
        if code is None:
            return None
        changed = False
        if can_reactivate(code, now):
            async with self._db.write() as tx:
                changed = await tx.codes.reactivate(code.id)
                code = await tx.codes.get(code.id) or code
        if changed:
            logger.info("Seller %s reactivated code %s", seller.telegram_id, code.id)
        return Switch(changed, await self.detail_of(code))

    async def rename(self, seller: Seller, code_id: int, name: str) -> Renaming | None:
        """Give the seller's code ``code_id`` the customer ``name``, read as ``/new`` reads one
        (``clean_customer_name``); None if not theirs.

        Only the name here changes, in the list, the detail, the card and later payment
        messages: Pivot cannot change a static code, so it keeps the name it was given (which
        some banks show a VA's payer).
        """
        code = await self.find(seller, code_id)
        if code is None:
            return None
        customer = clean_customer_name(name)
        if not customer:
            return Renaming(code.customer, await self.detail_of(code), empty=True)
        async with self._db.write() as tx:
            renamed = await tx.codes.rename(code.id, customer)
        logger.info("Seller %s renamed code %s", seller.telegram_id, code.id)
        return Renaming(code.customer, await self.detail_of(renamed or code))

    async def renewal(self, seller: Seller, code_id: int, *, now: datetime) -> Renewal | None:
        """Whether the seller's code ``code_id`` may be renewed now; None if not theirs."""
        code = await self.find(seller, code_id)
        if code is None:
            return None
        if not renewable(code, now) or code.bank is None:
            return Renewal(code, RenewalRefusal.NOT_RENEWABLE, ())
        channels = await self._issuer.channels()
        refusal = None if code.bank in channels else RenewalRefusal.BANK_GONE
        return Renewal(code, refusal, channels)

    async def renew(self, seller: Seller, code: Code) -> Code:
        """The new code in place of ``code`` (its customer, bank and amount), made once.

        Raises:
            IssueError: as ``CodeIssuer.issue``.
        """
        if code.bank is None:
            raise ValueError(f"code {code.id} is not a VA, it never expires")
        logger.info("Seller %s renews code %s", seller.telegram_id, code.id)
        draft = Draft(kind=CodeKind.VA, bank=code.bank, customer=code.customer, amount=code.amount)
        return await self._issuer.issue(seller, draft, renewal_key(code.id))

    # Sharing into a buyer's chat (an inline query)

    async def shareable(
        self,
        seller: Seller,
        customer: str,
        *,
        offset: int,
        now: datetime,
        limit: int = SHARES_PER_ANSWER,
    ) -> Shareable:
        """Up to ``limit`` of the seller's live codes from ``offset`` on whose customer contains
        ``customer`` ("" for all), newest first; a QRIS code with its photo's file id.

        A QRIS code whose card never reached Telegram (made before photos were kept, or its card
        was refused) has its photo sent now; one Telegram will not take is left out.
        """
        found = await self._db.codes.shareable_for_seller(
            seller.telegram_id, customer=customer.strip(), now=now, offset=offset, limit=limit + 1
        )
        codes = await self._with_photos(seller, found[:limit])
        return Shareable(tuple(codes), offset + limit if len(found) > limit else None)

    async def keep_photo(self, code: Code, file_id: str) -> None:
        """Keep ``file_id`` as the photo of ``code``'s QR, unless one is kept already."""
        if code.photo_file_id is None:
            async with self._db.write() as tx:
                await tx.codes.keep_photo(code.id, file_id)

    async def _with_photos(self, seller: Seller, codes: Sequence[Code]) -> list[Code]:
        missing = [code for code in codes if _lacks_photo(code)]
        if not missing:
            return list(codes)
        uploaded = await self._photos(seller.chat_id, missing, seller.language)
        if uploaded:
            async with self._db.write() as tx:
                for code_id, file_id in uploaded.items():
                    await tx.codes.keep_photo(code_id, file_id)
        with_photos = [
            replace(code, photo_file_id=uploaded[code.id]) if code.id in uploaded else code
            for code in codes
        ]
        return [code for code in with_photos if not _lacks_photo(code)]

    # What /new looks back at

    async def pending(self, seller: Seller, request_key: str) -> Code | None:
        """The seller's code of ``request_key`` if it still waits for Pivot (it can be resumed)."""
        code = await self._db.codes.find_by_request_key(seller.telegram_id, request_key)
        return code if code is not None and code.status is CodeStatus.PENDING else None

    async def qris(self, seller: Seller, code_id: int) -> Code | None:
        """The seller's QRIS code ``code_id`` (one Pivot refused, named by a button); None if it
        is not theirs or not a QRIS."""
        code = await self.find(seller, code_id)
        return code if code is not None and code.kind is CodeKind.QRIS else None

    async def reusable_qris(self, seller: Seller, *, limit: int) -> list[Code]:
        """Up to ``limit`` of the seller's active QRIS codes: a static QRIS takes any payer and
        any amount, so one of them can stand in for a QRIS Pivot refused."""
        return await self._db.codes.active_for_seller(
            seller.telegram_id, CodeKind.QRIS, limit=limit
        )


def _lacks_photo(code: Code) -> bool:
    return code.kind is CodeKind.QRIS and code.photo_file_id is None
