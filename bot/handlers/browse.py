"""``/codes``: the seller's codes page by page, a code's detail and payments, resend, deactivate.

An expired code (a closed VA past the date Pivot gave it) is marked as such, is not sent
again, and offers a new code in its place (``bot.handlers.renew``).

Every press carries only a code id and a page; ``Codebook`` looks the code up again for the
person who pressed, so a forged id from another seller finds nothing. The rules of what may be
done with a code are the codebook's (``card_check``, ``can_deactivate``) and
``bot.expiry.renewable``: the buttons offered and the presses answered follow the same ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.amounts import format_rupiah
from bot.cards import deliver_card
from bot.clock import format_date, format_datetime, utcnow
from bot.codebook import (
    Card,
    Charge,
    Code,
    CodeDetail,
    CodeKind,
    CodeStatus,
    CodeSummary,
    Seller,
    can_deactivate,
    can_print_sticker,
    card_check,
)
from bot.context import Context
from bot.expiry import is_expired, renewable
from bot.keyboards import code_data, codes_page_data, pager_row, show_in_place
from bot.notifications import Flag, channel_label
from bot.paging import Page
from bot.texts import Safe, text

__all__ = [
    "ask_deactivate",
    "charge_channel",
    "charge_flags",
    "code_keyboard",
    "code_list_keyboard",
    "codes",
    "codes_page",
    "deactivate",
    "kind_label",
    "pressed_code",
    "render_code_detail",
    "render_code_list",
    "resend",
    "show_code",
    "show_detail",
]

_T = TypeVar("_T")
_BUTTON_NAME_LENGTH = 24  # keeps a code's button on one line on a phone
_LIST_MARKS = {
    CodeStatus.DEACTIVATED: "codes.deactivated_mark",
    CodeStatus.PENDING: "codes.pending_mark",
    CodeStatus.FAILED: "codes.failed_mark",
}


def kind_label(code: Code) -> str:
    """``QRIS`` or ``VA BCA``."""
    return code.kind.label(code.bank)


def charge_channel(language: str, charge: Charge) -> str:
    """How a payment came in: ``QRIS``, ``QRIS · GoPay`` or ``VA BCA``."""
    bank = charge.channel if charge.channel != CodeKind.QRIS.value else None
    return channel_label(language, bank, charge.issuer)


def charge_flags(language: str, charge: Charge, expected: int | None) -> str:
    """What a payment's line warns of, each after " · ": not yet confirmed by Pivot first (the
    seller must not hand over goods on it), then a wrong amount (``expected`` is the code's),
    a deactivated code, a payment found late."""
    flags = [Flag.UNCONFIRMED] if charge.awaiting_confirmation else []
    flags += sorted(Flag(flag) for flag in charge.flags)
    shown = format_rupiah(expected or 0)
    return "".join(" · " + text(language, f"flag.short.{flag}", expected=shown) for flag in flags)


def _amount(language: str, code: Code) -> str:
    return (
        format_rupiah(code.amount)
        if code.amount is not None
        else text(language, "codes.open_amount")
    )


def _list_mark(language: str, code: Code, zone: ZoneInfo, now: datetime) -> str:
    """A list line's end: not made, deactivated, expired, or valid until a date."""
    key = _LIST_MARKS.get(code.status)
    if key is not None:
        return text(language, key)
    if code.expires_at is None:
        return ""
    if is_expired(code, now):
        return text(language, "codes.expired_mark")
    return text(language, "codes.valid_until_mark", date=format_date(code.expires_at, zone))


def render_code_list(
    language: str,
    page: Page,
    summaries: Sequence[CodeSummary],
    *,
    zone: ZoneInfo,
    now: datetime,
) -> str:
    """The list message: a title with the page, then one numbered line per code."""
    lines = [text(language, "codes.title", page=page.number, pages=page.count)]
    for index, summary in enumerate(summaries, start=page.offset + 1):
        code = summary.code
        lines.append(
            text(
                language,
                "codes.line",
                index=index,
                kind=kind_label(code),
                customer=code.customer,
                amount=_amount(language, code),
                count=summary.payment_count,
                total=format_rupiah(summary.payment_total),
                status=Safe(_list_mark(language, code, zone, now)),
            )
        )
    return "\n".join(lines)


def code_list_keyboard(
    language: str, page: Page, summaries: Sequence[CodeSummary]
) -> InlineKeyboardMarkup:
    """One button per code opening its detail, then previous/next."""
    rows = []
    for index, summary in enumerate(summaries, start=page.offset + 1):
        name = summary.code.customer
        if len(name) > _BUTTON_NAME_LENGTH:
            name = name[: _BUTTON_NAME_LENGTH - 1] + "…"
        rows.append(
            [InlineKeyboardButton(f"{index}. {name}", callback_data=code_data(summary.code.id))]
        )
    nav = pager_row(language, page, codes_page_data)
    return InlineKeyboardMarkup([*rows, nav] if nav else rows)


def _status(language: str, code: Code, zone: ZoneInfo, now: datetime) -> str:
    if code.status is CodeStatus.DEACTIVATED and code.deactivated_at is not None:
        when = format_datetime(code.deactivated_at, zone)
        return text(language, "code.status.deactivated", when=when)
    if code.status is CodeStatus.ACTIVE and code.expires_at is not None:
        key = "code.status.expired" if is_expired(code, now) else "code.status.valid_until"
        return text(language, key, when=format_datetime(code.expires_at, zone))
    return text(language, f"code.status.{code.status.value}")


def render_code_detail(
    language: str,
    code: Code,
    zone: ZoneInfo,
    *,
    count: int,
    total: int,
    page: Page,
    charges: Sequence[Charge],
    now: datetime,
) -> str:
    """A code's summary and status, then one page of its payments (newest first)."""
    number = text(language, "code.number_line", number=code.va_number) if code.va_number else ""
    summary = text(
        language,
        "code.detail",
        kind=kind_label(code),
        customer=code.customer,
        number=Safe(number),
        amount=_amount(language, code),
        created=format_datetime(code.created_at, zone),
        status=_status(language, code, zone, now),
        count=count,
        total=format_rupiah(total),
    )
    if not charges:
        return f"{summary}\n\n{text(language, 'code.payments.empty')}"
    lines = [text(language, "code.payments.title", page=page.number, pages=page.count)]
    for charge in charges:
        lines.append(
            text(
                language,
                "code.payments.line",
                time=format_datetime(charge.paid_at, zone),
                amount=format_rupiah(charge.amount),
                channel=charge_channel(language, charge),
                flags=Safe(charge_flags(language, charge, code.amount)),
            )
        )
    return summary + "\n\n" + "\n".join(lines)


def code_keyboard(language: str, code: Code, page: Page, *, now: datetime) -> InlineKeyboardMarkup:
    """Resend, deactivate, renew and a sticker (while they make sense), payment pages, back to
    the list."""
    actions = []
    if card_check(code, now) is Card.READY:
        actions.append(
            InlineKeyboardButton(
                text(language, "button.resend"), callback_data=code_data(code.id, "resend")
            )
        )
    if can_deactivate(code, now):
        actions.append(
            InlineKeyboardButton(
                text(language, "button.deactivate"), callback_data=code_data(code.id, "off")
            )
        )
    renew = []
    if renewable(code, now):
        renew.append(
            InlineKeyboardButton(
                text(language, "button.renew"), callback_data=code_data(code.id, "renew")
            )
        )
    sticker = []
    if can_print_sticker(code):
        sticker.append(
            InlineKeyboardButton(
                text(language, "button.sticker"), callback_data=code_data(code.id, "sticker")
            )
        )
    nav = pager_row(language, page, lambda number: code_data(code.id, page=number))
    back = [InlineKeyboardButton(text(language, "button.back"), callback_data=codes_page_data(1))]
    return InlineKeyboardMarkup([row for row in (actions, renew, sticker, nav, back) if row])


async def codes(update: Update, context: Context) -> None:
    """``/codes``: the first page of the seller's codes, newest first."""
    if update.message is None:
        return
    body, markup = await _list_view(context, 1)
    await update.message.reply_html(body, reply_markup=markup)


async def codes_page(update: Update, context: Context) -> None:
    """A press on the list's previous/next (or back) buttons: the list, edited in place."""
    query = update.callback_query
    if query is None or context.matches is None:
        return
    await query.answer()
    body, markup = await _list_view(context, int(context.matches[0][1]))
    await show_in_place(query, body, markup)


async def _list_view(context: Context, requested: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The list message for page ``requested`` of the seller's codes, and its buttons."""
    seller, language = context.seller, context.language
    listing = await context.services.codebook.page(seller, requested)
    if not listing.total:
        return text(language, "codes.empty"), None
    page, summaries = listing.page, listing.summaries
    zone = ZoneInfo(seller.timezone)
    body = render_code_list(language, page, summaries, zone=zone, now=utcnow())
    return body, code_list_keyboard(language, page, summaries)


async def pressed_code(
    update: Update, context: Context, look_up: Callable[[Seller, int], Awaitable[_T | None]]
) -> tuple[CallbackQuery, _T] | None:
    """What ``look_up`` finds for the presser and the pressed code's id, or None: then the
    press is answered with an alert (the code is not theirs), else it is answered plainly."""
    query = update.callback_query
    if query is None or not context.matches:
        return None
    found = await look_up(context.seller, int(context.matches[0][1]))
    if found is None:
        await query.answer(text(context.language, "code.not_found"), show_alert=True)
        return None
    await query.answer()
    return query, found


async def show_code(update: Update, context: Context) -> None:
    """``code:17`` / ``code:17:p:2``: the code's detail with one page of its payments."""
    codebook = context.services.codebook
    requested = int(context.matches[0][2] or 1) if context.matches else 1
    pressed = await pressed_code(
        update, context, lambda seller, code_id: codebook.detail(seller, code_id, requested)
    )
    if pressed is not None:
        await show_detail(*pressed, context)


async def show_detail(
    query: CallbackQuery, detail: CodeDetail, context: Context, *, note: str = ""
) -> None:
    """The code's detail in place of the pressed message, ``note`` first."""
    seller, code, now = context.seller, detail.code, utcnow()
    body = render_code_detail(
        seller.language,
        code,
        ZoneInfo(seller.timezone),
        count=detail.count,
        total=detail.total,
        page=detail.page,
        charges=detail.charges,
        now=now,
    )
    keyboard = code_keyboard(seller.language, code, detail.page, now=now)
    await show_in_place(query, f"{note}\n\n{body}" if note else body, keyboard)


async def resend(update: Update, context: Context) -> None:
    """``code:17:resend``: send the code's card again, to forward to the buyer."""
    pressed = await pressed_code(update, context, context.services.codebook.find)
    if pressed is None:
        return
    query, code = pressed
    check, seller = card_check(code, utcnow()), context.seller
    if check is Card.READY:
        zone = ZoneInfo(seller.timezone)
        relay = context.services.relay
        await deliver_card(context.bot, relay, seller.chat_id, code, seller.language, zone=zone)
    elif check is Card.EXPIRED:  # a button from before it expired: Pivot refuses payments
        note = text(seller.language, "code.expired_no_resend")
        detail = await context.services.codebook.detail_of(code)
        await show_detail(query, detail, context, note=note)
    # Card.NOT_MADE: never made at Pivot, there is no card to send.


async def ask_deactivate(update: Update, context: Context) -> None:
    """``code:17:off``: ask before deactivating, since Pivot cannot switch a static code off."""
    pressed = await pressed_code(update, context, context.services.codebook.find)
    if pressed is None:
        return
    query, code = pressed
    if not can_deactivate(code, utcnow()):
        await show_detail(query, await context.services.codebook.detail_of(code), context)
        return
    language = context.language
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text(language, "button.confirm_deactivate"),
                    callback_data=code_data(code.id, "off!"),
                ),
                InlineKeyboardButton(
                    text(language, "button.keep"), callback_data=code_data(code.id)
                ),
            ]
        ]
    )
    body = text(language, "deactivate.confirm", kind=kind_label(code), customer=code.customer)
    await show_in_place(query, body, markup)


async def deactivate(update: Update, context: Context) -> None:
    """``code:17:off!``: the confirmed deactivation; later payments are still recorded."""
    codebook = context.services.codebook
    pressed = await pressed_code(
        update, context, lambda seller, code_id: codebook.deactivate(seller, code_id, now=utcnow())
    )
    if pressed is None:
        return
    query, done = pressed
    customer = done.detail.code.customer
    note = text(context.language, "deactivate.done", customer=customer) if done.changed else ""
    await show_detail(query, done.detail, context, note=note)
