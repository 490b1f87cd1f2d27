"""What storage hands out: frozen records and the enums of their states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "Buyer",
    "BuyerLink",
    "Charge",
    "ChargeConfirmation",
    "ChargeSource",
    "Code",
    "CodeKind",
    "CodeStatus",
    "CodeSummary",
    "InboxEntry",
    "InboxOutcome",
    "Invite",
    "InviteResult",
    "NewCharge",
    "OutboxMessage",
    "OutboxStatus",
    "Role",
    "Seller",
    "SellerDay",
    "SellerPayment",
    "SellerStatus",
]


class Role(StrEnum):
    """What a person may do with the bot."""

    SELLER = "seller"
    OPERATOR = "operator"


class SellerStatus(StrEnum):
    """Whether a seller can be served and reached."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    BLOCKED = "blocked"  # the seller blocked the bot


@dataclass(frozen=True, slots=True)
class Seller:
    """A person allowed to use the bot (operators are sellers too)."""

    telegram_id: int
    chat_id: int
    name: str
    username: str | None
    language: str
    timezone: str
    role: Role
    status: SellerStatus
    invited_by: int | None
    created_at: datetime
    # The name buyers see (``/toko``); None: the seller's Telegram name stands in.
    shop_name: str | None = None


class InviteResult(StrEnum):
    """What redeeming an invite token did."""

    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Invite:
    """A one-time invitation link an operator made."""

    token: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None


class CodeKind(StrEnum):
    """The payment method of a static code: the bot's one word for it, from /new to the card.

    The values are what ``codes.kind`` holds (its CHECK lists them: a new kind needs a
    migration). Pivot's names for them are mapped in one place, where the bot calls Pivot.
    """

    QRIS = "QRIS"
    VA = "VA"

    @property
    def takes_bank(self) -> bool:
        """Whether a code of this kind is made at one bank (``Code.bank``) the seller chooses."""
        return self is CodeKind.VA

    def label(self, bank: str | None) -> str:
        """``QRIS``, ``VA`` or, with its bank, ``VA BCA``: the kind as lists and limits name it."""
        return f"{self.value} {bank}" if bank and self.takes_bank else self.value


class CodeStatus(StrEnum):
    """Where a code is in its life: asked of Pivot, usable, refused, or retired by the seller."""

    PENDING = "pending"
    ACTIVE = "active"
    FAILED = "failed"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True, slots=True)
class Code:
    """A seller's static QRIS or Virtual Account code for one customer."""

    id: int
    seller_id: int
    kind: CodeKind
    bank: str | None
    va_suffix: int | None
    customer: str
    # The fixed amount of a closed VA, or the expected amount of a QRIS code; None = open.
    amount: int | None
    request_key: str
    client_reference_id: str
    pivot_session_id: str | None
    qr_content: str | None
    va_number: str | None
    merchant_name: str | None
    simulation: bool
    status: CodeStatus
    failure: str | None
    created_at: datetime
    deactivated_at: datetime | None
    last_payment_at: datetime | None
    # When Pivot stops taking payments on it (a closed static VA); None = never.
    expires_at: datetime | None = None
    # Telegram's file id of its QR photo (a QRIS code), once Telegram has it.
    photo_file_id: str | None = None
    # Whether buyers who opened its link get a receipt for each payment on it.
    receipts: bool = False


@dataclass(frozen=True, slots=True)
class BuyerLink:
    """A link that shows one code to whoever opens it, until it is revoked."""

    id: int
    token: str
    code_id: int
    created_at: datetime
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        """Whether the link still shows its code."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class Buyer:
    """A person who opened a code's buyer link (the link they opened last)."""

    telegram_id: int
    code_id: int
    link_id: int
    chat_id: int
    language: str
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class CodeSummary:
    """A code with the number and total of the payments it received."""

    code: Code
    payment_count: int
    payment_total: int


class ChargeSource(StrEnum):
    """How a charge reached us: Pivot's callback (or the look-up of its session that a
    callback triggered), or our own periodic reconciliation."""

    CALLBACK = "callback"
    RECONCILIATION = "reconciliation"


class ChargeConfirmation(StrEnum):
    """What Pivot's API said of a charge (a callback is evidence, not proof)."""

    PENDING = "pending"  # reported by a callback, not yet confirmed
    CONFIRMED = "confirmed"  # Pivot's API lists it as reported (or it was found there)
    UNKNOWN = "unknown"  # Pivot's API does not list it: possibly forged
    MISMATCH = "mismatch"  # Pivot's API lists it otherwise (amount, status, session)


@dataclass(frozen=True, slots=True)
class NewCharge:
    """A successful Pivot charge about to be recorded."""

    pivot_charge_id: str
    code_id: int | None
    seller_id: int | None
    session_id: str
    client_reference_id: str | None
    amount: int
    paid_at: datetime
    channel: str | None
    issuer: str | None
    reference: str | None
    source: ChargeSource
    flags: frozenset[str]
    confirmation: ChargeConfirmation


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A Telegram message about to be queued in the outbox."""

    dedupe_key: str  # one message per key, ever
    chat_id: int
    kind: str
    payload: str
    due_at: datetime | None = None  # None: due when queued
    # A Pivot charge id: the message is AWAITING until Pivot's API confirms that charge
    # (``OutboxRepository.release_awaiting``), and never sent if it is refuted.
    awaiting_charge: str | None = None


@dataclass(frozen=True, slots=True)
class Charge:
    """A recorded payment: one per Pivot charge id."""

    id: int
    pivot_charge_id: str
    code_id: int | None
    seller_id: int | None
    session_id: str
    client_reference_id: str | None
    amount: int
    paid_at: datetime
    channel: str | None
    issuer: str | None
    reference: str | None
    source: ChargeSource
    flags: frozenset[str]
    recorded_at: datetime
    # What Pivot's API said of it (rows recorded before confirmation existed count as confirmed).
    confirmation: ChargeConfirmation = ChargeConfirmation.CONFIRMED
    confirmed_at: datetime | None = None

    @property
    def awaiting_confirmation(self) -> bool:
        """Reported by a callback and not yet confirmed by Pivot's API."""
        return self.confirmation is ChargeConfirmation.PENDING


@dataclass(frozen=True, slots=True)
class SellerPayment:
    """A seller's charge with the customer and kind of its code, for /today."""

    charge: Charge
    customer: str | None
    kind: CodeKind | None
    expected: int | None = None  # the code's fixed amount; None for an open amount


@dataclass(frozen=True, slots=True)
class SellerDay:
    """A seller's payments over a period: all counted and totalled, the first few listed."""

    count: int
    total: int  # rupiah
    payments: tuple[SellerPayment, ...]  # the earliest, in time order
    # Rupiah of the total that Pivot's API has not confirmed yet: a callback is evidence, not
    # proof, so the seller must see how much of the day still waits (docs/money.md rule 6).
    unconfirmed: int = 0


class InboxOutcome(StrEnum):
    """What became of a stored Pivot callback."""

    RECEIVED = "received"
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTER = "dead_letter"
    UNKNOWN_SESSION = "unknown_session"


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A Pivot callback body, stored before it is parsed."""

    id: int
    received_at: datetime
    body: bytes
    outcome: InboxOutcome
    detail: str | None


class OutboxStatus(StrEnum):
    """Where a Telegram message is on its way out."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"  # the chat refuses the bot; sent once the person writes again
    AWAITING = "awaiting"  # waits for Pivot to confirm a charge; PENDING once it does


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A Telegram message queued in the same transaction as the fact it reports."""

    id: int
    dedupe_key: str
    chat_id: int
    kind: str
    payload: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    telegram_message_id: int | None
    created_at: datetime
    sent_at: datetime | None
    awaiting_charge: str | None = None  # the charge an AWAITING message waits for
