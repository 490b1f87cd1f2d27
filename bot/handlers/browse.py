"""``/codes``: the seller's codes page by page (or those ``/codes <text>`` finds by customer), a
code's detail and payments, resend, deactivate and reactivate; and the buttons under payment
messages that open a code (or the list) as a new message.

A search's text is kept in the seller's ``user_data`` under the id of its message, and its page
buttons carry that id, never the text (Telegram takes 64 bytes of button data).

An expired code (a closed VA past the date Pivot gave it) is marked as such, is not sent
again, and offers a new code in its place (``bot.handlers.renew``).

Every press carries only ids and a page number; ``Codebook`` looks the code up again for the
person who pressed, so a forged id from another seller finds nothing. The rules of what may be
done with a code are the codebook's (``card_check``, ``can_deactivate``, ``can_reactivate``) and
``bot.expiry.renewable``: the buttons offered and the presses answered follow the same ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.amounts import format_rupiah
from bot.buyers import shareable
from bot.cards import deliver_card
from bot.clock import format_date, format_datetime, utcnow
from bot.codebook import (
    Card,
    Charge,
    Code,
    CodeDetail,
    CodeStatus,
    CodeSummary,
    Seller,
    can_deactivate,
    can_print_sticker,
    can_reactivate,
    card_check,
)
from bot.context import Context
from bot.deeplinks import start_link
from bot.expiry import is_expired, renewable
from bot.keyboards import (
    button_name,
    code_data,
    code_receipts_data,
    codes_page_data,
    codes_search_data,
    pager_row,
    show_in_place,
)
from bot.notifications import charge_channel, charge_flags
from bot.paging import Page
from bot.texts import Safe, text

__all__ = [
    "KEPT",
    "ask_deactivate",
    "code_keyboard",
    "code_list_keyboard",
    "codes",
    "codes_page",
    "codes_search_page",
    "deactivate",
    "detail_view",
    "open_code",
    "open_codes",
    "pressed_code",
    "reactivate",
    "render_code_detail",
    "render_code_list",
    "resend",
    "show_code",
    "show_detail",
]

_T = TypeVar("_T")
_SEARCHES = "code_searches"  # user_data: the text of each /codes <text>, by its message id
_SEARCHES_KEPT = 20
# What /codes keeps in user_data, with its type (bot.persistence stores it).
KEPT: dict[str, object] = {_SEARCHES: dict[int, str]}
_LIST_MARKS = {
    CodeStatus.DEACTIVATED: "codes.deactivated_mark",
    CodeStatus.PENDING: "codes.pending_mark",
    CodeStatus.FAILED: "codes.failed_mark",
}


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
    search: str = "",
) -> str:
    """The list message: a title with the page (and what was searched for), then one
    numbered line per code."""
    pages = {"page": page.number, "pages": page.count}
    title = (
        text(language, "codes.search_title", search=search, **pages)
        if search
        else text(language, "codes.title", **pages)
    )
    lines = [title]
    for index, summary in enumerate(summaries, start=page.offset + 1):
        code = summary.code
        lines.append(
            text(
                language,
                "codes.line",
                index=index,
                kind=code.kind.label(code.bank),
                customer=code.customer,
                amount=_amount(language, code),
                count=summary.payment_count,
                total=format_rupiah(summary.payment_total),
                status=Safe(_list_mark(language, code, zone, now)),
            )
        )
    return "\n".join(lines)


def code_list_keyboard(
    language: str,
    page: Page,
    summaries: Sequence[CodeSummary],
    pages: Callable[[int], str] = codes_page_data,
) -> InlineKeyboardMarkup:
    """One button per code opening its detail, then previous/next (``pages`` makes their
    data)."""
    rows = []
    for index, summary in enumerate(summaries, start=page.offset + 1):
        name = button_name(summary.code.customer)
        rows.append(
            [InlineKeyboardButton(f"{index}. {name}", callback_data=code_data(summary.code.id))]
        )
    nav = pager_row(language, page, pages)
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
    link: str | None = None,
    buyers: int = 0,
) -> str:
    """A code's summary and status, its buyer ``link`` (held by ``buyers`` people) and
    receipts, then one page of its payments (newest first)."""
    number = text(language, "code.number_line", number=code.va_number) if code.va_number else ""
    summary = text(
        language,
        "code.detail",
        kind=code.kind.label(code.bank),
        customer=code.customer,
        number=Safe(number),
        amount=_amount(language, code),
        created=format_datetime(code.created_at, zone),
        status=_status(language, code, zone, now),
        count=count,
        total=format_rupiah(total),
    )
    if link is not None:
        receipts = "code.receipts.on" if code.receipts else "code.receipts.off"
        shared = text(language, "code.link", buyers=buyers, link=link)
        summary += f"\n\n{shared}\n{text(language, receipts)}"
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


def code_keyboard(
    language: str, code: Code, page: Page, *, now: datetime, linked: bool = False
) -> InlineKeyboardMarkup:
    """Resend and deactivate or reactivate (while they make sense), rename, renew and a sticker
    (while they make sense), the buyer link (``linked``: the code has one), payment pages,
    back to the list."""
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
    elif can_reactivate(code, now):
        actions.append(
            InlineKeyboardButton(
                text(language, "button.reactivate"), callback_data=code_data(code.id, "on")
            )
        )
    rename = [
        InlineKeyboardButton(
            text(language, "button.rename"), callback_data=code_data(code.id, "rename")
        )
    ]
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
    rows = (
        actions,
        rename,
        renew,
        sticker,
        *_link_rows(language, code, now=now, linked=linked),
        nav,
        back,
    )
    return InlineKeyboardMarkup([row for row in rows if row])


def _link_rows(
    language: str, code: Code, *, now: datetime, linked: bool
) -> list[list[InlineKeyboardButton]]:
    """The buyer link's buttons (docs/buyers.md): make one while the code may be shared;
    replace or revoke the one it has, and switch its receipts."""
    if not linked:
        if not shareable(code, now):
            return []
        return [[_button(language, "button.link", code_data(code.id, "link"))]]
    change = [_button(language, "button.link_revoke", code_data(code.id, "unlink"))]
    if shareable(code, now):
        change.insert(0, _button(language, "button.link_replace", code_data(code.id, "relink")))
    receipts = "button.receipts_off" if code.receipts else "button.receipts_on"
    return [change, [_button(language, receipts, code_receipts_data(code.id, not code.receipts))]]


def _button(language: str, key: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text(language, key), callback_data=data)


async def codes(update: Update, context: Context) -> None:
    """``/codes``: the first page of the seller's codes, newest first; ``/codes <text>``: of
    those whose customer contains the text."""
    message = update.message
    if message is None:
        return
    search = None
    if context.args:
        search = _Search(message.message_id, " ".join(context.args))
        _keep_search(context, search)
    body, markup = await _list_view(context, 1, search)
    await message.reply_html(body, reply_markup=markup)


async def open_codes(update: Update, context: Context) -> None:
    """``codes:open``, under a payment message: the list as a new message, as ``/codes``."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    await query.answer()
    body, markup = await _list_view(context, 1)
    await chat.send_message(body, parse_mode=ParseMode.HTML, reply_markup=markup)


async def codes_page(update: Update, context: Context) -> None:
    """A press on the list's previous/next (or back) buttons: the list, edited in place."""
    query = update.callback_query
    if query is None or context.matches is None:
        return
    await query.answer()
    body, markup = await _list_view(context, int(context.matches[0][1]))
    await show_in_place(query, body, markup)


async def codes_search_page(update: Update, context: Context) -> None:
    """A press on the previous/next buttons of a ``/codes <text>``: that page, in place."""
    query = update.callback_query
    if query is None or context.matches is None:
        return
    search_id, requested = int(context.matches[0][1]), int(context.matches[0][2])
    searched = _searches(context).get(search_id)
    if searched is None:  # from before a restart, or one of many searches ago
        await query.answer(text(context.language, "codes.search_gone"), show_alert=True)
        return
    await query.answer()
    body, markup = await _list_view(context, requested, _Search(search_id, searched))
    await show_in_place(query, body, markup)


@dataclass(frozen=True, slots=True)
class _Search:
    """What a ``/codes <text>`` looks for, under the id of its message."""

    id: int
    text: str


def _searches(context: Context) -> dict[int, str]:
    """The seller's recent searches' texts by message id (kept here: button data is short)."""
    if context.user_data is None:
        return {}
    searches: dict[int, str] = context.user_data.setdefault(_SEARCHES, {})
    return searches


def _keep_search(context: Context, search: _Search) -> None:
    """Keep ``search`` for its page buttons, forgetting the oldest past ``_SEARCHES_KEPT``."""
    searches = _searches(context)
    searches[search.id] = search.text
    while len(searches) > _SEARCHES_KEPT:
        del searches[next(iter(searches))]


async def _list_view(
    context: Context, requested: int, search: _Search | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The list message for page ``requested`` of the seller's codes (those ``search`` finds),
    and its buttons."""
    seller, language = context.seller, context.language
    codebook = context.services.codebook
    listing = await codebook.page(seller, requested, search.text if search else "")
    if not listing.total:
        if listing.search:
            return text(language, "codes.search_empty", search=listing.search), None
        return text(language, "codes.empty"), None
    page, summaries = listing.page, listing.summaries
    zone = ZoneInfo(seller.timezone)
    body = render_code_list(
        language, page, summaries, zone=zone, now=utcnow(), search=listing.search
    )
    pages = codes_page_data if search is None else partial(codes_search_data, search.id)
    return body, code_list_keyboard(language, page, summaries, pages)


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


async def open_code(update: Update, context: Context) -> None:
    """``code:17:open``, under a payment message: the code's detail as a new message, the
    payment message left as it is."""
    pressed = await pressed_code(update, context, context.services.codebook.detail)
    chat = update.effective_chat
    if pressed is None or chat is None:
        return
    body, keyboard = detail_view(pressed[1], context)
    await chat.send_message(body, parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def show_detail(
    query: CallbackQuery, detail: CodeDetail, context: Context, *, note: str = ""
) -> None:
    """The code's detail in place of the pressed message, ``note`` first."""
    await show_in_place(query, *detail_view(detail, context, note=note))


def detail_view(
    detail: CodeDetail, context: Context, *, note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The detail message of ``detail``'s code, ``note`` first, and its buttons."""
    seller, code, now = context.seller, detail.code, utcnow()
    link = start_link(context.bot.username, detail.link.token) if detail.link else None
    body = render_code_detail(
        seller.language,
        code,
        ZoneInfo(seller.timezone),
        count=detail.count,
        total=detail.total,
        page=detail.page,
        charges=detail.charges,
        now=now,
        link=link,
        buyers=detail.buyers,
    )
    keyboard = code_keyboard(seller.language, code, detail.page, now=now, linked=link is not None)
    return (f"{note}\n\n{body}" if note else body), keyboard


async def resend(update: Update, context: Context) -> None:
    """``code:17:resend``: send the code's card again, to forward to the buyer."""
    pressed = await pressed_code(update, context, context.services.codebook.find)
    if pressed is None:
        return
    query, code = pressed
    check, seller = card_check(code, utcnow()), context.seller
    if check is Card.READY:
        services, zone = context.services, ZoneInfo(seller.timezone)
        await deliver_card(
            context.bot,
            services.relay,
            seller.chat_id,
            code,
            seller.language,
            zone=zone,
            codebook=services.codebook,
        )
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
    body = text(
        language, "deactivate.confirm", kind=code.kind.label(code.bank), customer=code.customer
    )
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


async def reactivate(update: Update, context: Context) -> None:
    """``code:17:on``: a deactivated code offered again (Pivot kept it), its payments no longer
    flagged; not an expired one (Pivot takes nothing on it any more)."""
    codebook, now = context.services.codebook, utcnow()
    pressed = await pressed_code(
        update, context, lambda seller, code_id: codebook.reactivate(seller, code_id, now=now)
    )
    if pressed is None:
        return
    query, done = pressed
    code, note = done.detail.code, ""
    if done.changed:
        note = text(context.language, "reactivate.done", customer=code.customer)
    elif is_expired(code, now):  # a button from before it expired
        note = text(context.language, "reactivate.expired")
    await show_detail(query, done.detail, context, note=note)
