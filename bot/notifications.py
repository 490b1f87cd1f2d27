"""What a payment message says, from the snapshot the outbox keeps for it.

The callback transaction stores a ``PaymentNotice`` (not rendered text), so the relay can send
it alone or fold a backlog of them into one combined message, in the seller's language. Under
either go buttons that open the payments' codes (``payment_buttons``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from bot.amounts import format_rupiah
from bot.clock import format_clock, format_datetime
from bot.keyboards import CODES_OPEN_DATA, button_name, code_data
from bot.texts import Safe, text
from storage import Charge, CodeKind

__all__ = [
    "MAX_CODE_BUTTONS",
    "PAYMENT_KIND",
    "TEXT_KIND",
    "Flag",
    "NoticeButton",
    "PaymentNotice",
    "TextNotice",
    "channel_label",
    "charge_channel",
    "charge_flags",
    "payment_buttons",
    "render_combined",
    "render_payment",
    "shown_flags",
]

# The outbox ``kind`` of each payload the relay knows how to send.
PAYMENT_KIND = "payment"
TEXT_KIND = "text"

# Codes a combined message offers a button for; past that, one button opens the whole list.
MAX_CODE_BUTTONS = 8


class Flag(StrEnum):
    """Something the seller must notice about a payment."""

    AMOUNT_MISMATCH = "amount_mismatch"
    DEACTIVATED_CODE = "deactivated_code"
    LATE = "late"
    UNCONFIRMED = "unconfirmed"  # reported by a callback, not yet confirmed by Pivot's API


class PaymentNotice(BaseModel):
    """One payment as the seller will read it, frozen when it was recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str
    amount: int
    customer: str
    code_id: int | None = None  # None in notices queued before messages had buttons
    kind: CodeKind
    bank: str | None = None
    issuer: str | None = None
    paid_at: datetime
    count: int
    total: int
    expected_amount: int | None = None
    flags: tuple[Flag, ...] = ()
    language: str
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        """The seller's zone when the payment was recorded."""
        return ZoneInfo(self.timezone)


class NoticeButton(BaseModel):
    """An inline button under a queued message: its label and ``callback_data``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    data: str


class TextNotice(BaseModel):
    """A message rendered when it was queued (alerts, expiry warnings), sent as it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    buttons: tuple[NoticeButton, ...] = ()  # one row under the message


def channel_label(language: str, bank: str | None, issuer: str | None) -> str:
    """How a payment came in: ``VA BCA`` if a bank is known, else ``QRIS · GOPAY`` or ``QRIS``."""
    if bank:
        return text(language, "payment.channel.va", bank=bank)
    if issuer:
        return text(language, "payment.channel.qris_issuer", issuer=issuer)
    return text(language, "payment.channel.qris")


def shown_flags(recorded: Collection[str], *, pending: bool) -> tuple[Flag, ...]:
    """A payment's flags as the seller reads them: "not yet confirmed" first while Pivot has
    not confirmed it (the seller must not hand over goods on it), then the recorded ones in the
    order ``Flag`` declares them (most payments have none: no walk over ``Flag`` for them)."""
    flags = tuple(flag for flag in Flag if flag in recorded) if recorded else ()
    return (Flag.UNCONFIRMED, *flags) if pending else flags


def charge_channel(language: str, charge: Charge) -> str:
    """How a recorded payment came in: ``QRIS``, ``QRIS · GoPay`` or ``VA BCA``."""
    bank = charge.channel if charge.channel != CodeKind.QRIS.value else None
    return channel_label(language, bank, charge.issuer)


def charge_flags(language: str, charge: Charge, expected: int | None) -> str:
    """What a recorded payment's line in a list warns of, each after " · " (``expected``: its
    code's amount, for a wrong one)."""
    shown = format_rupiah(expected or 0)
    return "".join(
        " · " + text(language, f"flag.short.{flag}", expected=shown)
        for flag in shown_flags(charge.flags, pending=charge.awaiting_confirmation)
    )


def _channel(notice: PaymentNotice) -> str:
    bank = notice.bank if notice.kind.takes_bank else None
    return channel_label(notice.language, bank, notice.issuer)


def _flag_values(notice: PaymentNotice) -> dict[str, object]:
    return {"expected": format_rupiah(notice.expected_amount or 0)}


def render_payment(notice: PaymentNotice) -> str:
    """The message for one payment."""
    lang = notice.language
    title = "payment.title.unconfirmed" if Flag.UNCONFIRMED in notice.flags else "payment.title"
    lines = [
        text(lang, title, amount=format_rupiah(notice.amount)),
        text(lang, "payment.customer", customer=notice.customer),
        text(lang, "payment.channel", channel=Safe(_channel(notice))),
        text(lang, "payment.time", time=format_datetime(notice.paid_at, notice.zone)),
        text(lang, "payment.running", count=notice.count, total=format_rupiah(notice.total)),
    ]
    lines += [text(lang, f"payment.flag.{flag}", **_flag_values(notice)) for flag in notice.flags]
    lines.append(text(lang, "payment.reference", reference=notice.reference))
    return "\n".join(lines)


def render_combined(notices: Sequence[PaymentNotice]) -> str:
    """One message listing a backlog of payments for the same seller, oldest first."""
    lang = notices[-1].language
    total = sum(notice.amount for notice in notices)
    lines = [text(lang, "payment.combined.title", count=len(notices), total=format_rupiah(total))]
    for notice in notices:
        lines.append(
            text(
                lang,
                "payment.combined.line",
                time=format_clock(notice.paid_at, notice.zone),
                amount=format_rupiah(notice.amount),
                customer=notice.customer,
                channel=Safe(_channel(notice)),
            )
        )
        if notice.flags:
            flags = " · ".join(
                text(lang, f"flag.short.{flag}", **_flag_values(notice)) for flag in notice.flags
            )
            lines.append(text(lang, "payment.combined.flags", flags=Safe(flags)))
    return "\n".join(lines)


def payment_buttons(notices: Sequence[PaymentNotice]) -> tuple[NoticeButton, ...]:
    """The buttons under a payment message, one a row: each opens a code's detail.

    One payment gets one button. A combined message gets one per code, in the order the codes
    first appear, labelled with the customer; past ``MAX_CODE_BUTTONS`` codes the last button
    opens the whole list instead. Notices without a code id (queued before buttons) get none.
    """
    lang = notices[-1].language
    codes: dict[int, PaymentNotice] = {}
    for notice in notices:
        if notice.code_id is not None:
            codes.setdefault(notice.code_id, notice)
    if len(notices) == 1:
        return tuple(
            NoticeButton(text=text(lang, "payment.button.code"), data=code_data(code_id, "open"))
            for code_id in codes
        )
    buttons = [
        NoticeButton(
            text=text(
                lang,
                "payment.button.code_of",
                customer=Safe(button_name(notice.customer)),
                kind=Safe(notice.kind.label(notice.bank)),
            ),
            data=code_data(code_id, "open"),
        )
        for code_id, notice in codes.items()
    ]
    if len(buttons) > MAX_CODE_BUTTONS:
        all_codes = NoticeButton(text=text(lang, "payment.button.all_codes"), data=CODES_OPEN_DATA)
        buttons[MAX_CODE_BUTTONS - 1 :] = [all_codes]
    return tuple(buttons)
