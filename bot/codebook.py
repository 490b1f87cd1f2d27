"""A seller's codes as the seller sees them: page by page, one with its payments, switched off,
sent again, renewed; and the codes ``/new`` looks back at.

Callable without Telegram (a button, an inline query, a buyer's deep link, another process):
every method takes plain values. A code id comes from outside (a button, a link), so every
method that takes one looks the code up for the seller it is given: an id of another seller's
code finds nothing, exactly like an id that does not exist, and the caller says so.

The rules of what may be done with a code live here as functions, for the handlers that act
and the keyboards that offer alike: ``card_check`` (may its card go out again),
``can_deactivate`` and ``can_print_sticker``; ``bot.expiry.renewable`` says whether a new
code is offered in its place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.codes import CodeIssuer
from bot.drafts import Draft
from bot.expiry import is_expired, renewable
from bot.paging import Page
from storage import Charge, Code, CodeKind, CodeStatus, CodeSummary, Database, Seller

__all__ = [
    "CODES_PER_PAGE",
    "PAYMENTS_PER_PAGE",
    "Card",
    "Charge",
    "Code",
    "CodeDetail",
    "CodeKind",
    "CodeStatus",
    "CodeSummary",
    "Codebook",
    "CodesPage",
    "Deactivation",
    "Renewal",
    "RenewalRefusal",
    "Seller",
    "can_deactivate",
    "can_print_sticker",
    "card_check",
    "renewal_key",
]

logger = logging.getLogger(__name__)

CODES_PER_PAGE = 8
PAYMENTS_PER_PAGE = 10


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
    """One page of a seller's codes, newest first; ``total`` 0 when they have none."""

    page: Page
    total: int
    summaries: tuple[CodeSummary, ...]


@dataclass(frozen=True, slots=True)
class CodeDetail:
    """A code with the count and total of all its payments, and one page of them."""

    code: Code
    count: int
    total: int  # rupiah
    page: Page
    charges: tuple[Charge, ...]  # newest first


@dataclass(frozen=True, slots=True)
class Deactivation:
    """A deactivation: whether this one switched the code off, and the code as it is now."""

    changed: bool
    detail: CodeDetail


@dataclass(frozen=True, slots=True)
class Renewal:
    """A press on renew: the seller's code, why not (None: go ahead), and the banks on offer."""

    code: Code
    refusal: RenewalRefusal | None
    channels: tuple[str, ...]


def card_check(code: Code, now: datetime) -> Card:
    """Whether ``code``'s card may go out again: made at Pivot (even if deactivated here, a
    static code keeps taking money) and not expired."""
    if code.status not in (CodeStatus.ACTIVE, CodeStatus.DEACTIVATED):
        return Card.NOT_MADE
    return Card.EXPIRED if is_expired(code, now) else Card.READY


def can_deactivate(code: Code, now: datetime) -> bool:
    """Whether deactivating ``code`` still means something: ACTIVE and not expired."""
    return code.status is CodeStatus.ACTIVE and not is_expired(code, now)


def can_print_sticker(code: Code) -> bool:
    """Whether ``code`` may be printed as a sticker: an ACTIVE QRIS (one deactivated here still
    takes money at Pivot, but a sticker would hand it out again)."""
    return (
        code.kind is CodeKind.QRIS and code.status is CodeStatus.ACTIVE and bool(code.qr_content)
    )


def renewal_key(code_id: int) -> str:
    """The request key of the code that renews code ``code_id``: one renewal per code."""
    return f"renew:{code_id}"


class Codebook:
    """The seller-facing reads and changes of codes (``CodeIssuer`` makes them)."""

    def __init__(self, db: Database, issuer: CodeIssuer) -> None:
        self._db = db
        self._issuer = issuer

    async def page(self, seller: Seller, requested: int) -> CodesPage:
        """Page ``requested`` of the seller's codes (clamped to the pages there are)."""
        codes = self._db.codes
        total = await codes.count_for_seller(seller.telegram_id)
        page = Page.of(requested, total, CODES_PER_PAGE)
        summaries = (
            await codes.list_for_seller(seller.telegram_id, offset=page.offset, limit=page.limit)
            if total
            else []
        )
        return CodesPage(page, total, tuple(summaries))

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
        return CodeDetail(code, count, total, page, tuple(listed))

    async def deactivate(
        self, seller: Seller, code_id: int, *, now: datetime
    ) -> Deactivation | None:
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
        return Deactivation(changed, await self.detail_of(current or code))

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
