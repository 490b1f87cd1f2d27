"""Inline keyboards and the one scheme of their ``callback_data``: ids and page numbers only,
never identity.

Every button's data is words joined by colons, the subject first: ``codes:p:2``,
``code:17:resend``, ``sellers:p:2``, ``new:bank:BCA``. A button that edits the message it sits
on and one that answers with a new message (under a payment message, which must stay as it
is) are different shapes: ``code:17`` and ``code:17:open``. Each shape has one builder below
and one compiled pattern that matches it and nothing else; handlers are registered with the
pattern and read the id or page from ``context.matches``, and re-check ownership on every
press.
Messages already in sellers' chats carry these same strings, so a shape may gain a new
sibling but never change. Telegram caps ``callback_data`` at 64 bytes; every shape stays far
under it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.paging import Page
from bot.texts import text
from storage import CodeKind

__all__ = [
    "CODES_OPEN",
    "CODES_OPEN_DATA",
    "CODES_PAGE",
    "CODES_SEARCH_PAGE",
    "CODE_DEACTIVATE",
    "CODE_DEACTIVATE_CONFIRMED",
    "CODE_LINK",
    "CODE_LINK_REPLACE",
    "CODE_LINK_REVOKE",
    "CODE_OPEN",
    "CODE_REACTIVATE",
    "CODE_RECEIPTS",
    "CODE_RENAME",
    "CODE_RENEW",
    "CODE_RESEND",
    "CODE_SHOW",
    "CODE_STICKER",
    "NEW_ANY",
    "NEW_BANK",
    "NEW_CANCEL",
    "NEW_CANCEL_DATA",
    "NEW_KIND",
    "NEW_OPEN_AMOUNT",
    "NEW_OPEN_AMOUNT_DATA",
    "NEW_RETRY",
    "NEW_VA_INSTEAD",
    "SELLERS_PAGE",
    "button_name",
    "code_data",
    "code_receipts_data",
    "codes_page_data",
    "codes_search_data",
    "new_bank_data",
    "new_kind_data",
    "new_retry_data",
    "new_va_instead_data",
    "pager_row",
    "sellers_page_data",
    "show_in_place",
]

_ID = r"(\d{1,18})"
_PAGE = r"(\d{1,6})"
_BUTTON_NAME_LENGTH = 24  # keeps a customer's button on one line on a phone


def _pattern(*words: str) -> re.Pattern[str]:
    """The whole data, exactly these colon-joined words (regular expressions)."""
    return re.compile("^" + ":".join(words) + r"\Z")


def _data(*words: object) -> str:
    return ":".join(map(str, words))


# /codes and a code's detail
CODES_PAGE = _pattern("codes", "p", _PAGE)
CODES_OPEN = _pattern("codes", "open")  # the first page, as a new message
CODES_SEARCH_PAGE = _pattern("codes", "q", _ID, "p", _PAGE)  # a search, by its message id
CODE_SHOW = _pattern("code", _ID + rf"(?::p:{_PAGE})?")
CODE_RESEND = _pattern("code", _ID, "resend")
CODE_DEACTIVATE = _pattern("code", _ID, "off")
CODE_DEACTIVATE_CONFIRMED = _pattern("code", _ID, "off!")
CODE_RENEW = _pattern("code", _ID, "renew")
CODE_OPEN = _pattern("code", _ID, "open")  # the detail, as a new message
CODE_RENAME = _pattern("code", _ID, "rename")
CODE_REACTIVATE = _pattern("code", _ID, "on")
# A code's buyer link (docs/buyers.md): make or show it, replace it, revoke it; receipts on/off
CODE_LINK = _pattern("code", _ID, "link")
CODE_LINK_REPLACE = _pattern("code", _ID, "relink")
CODE_LINK_REVOKE = _pattern("code", _ID, "unlink")
CODE_RECEIPTS = _pattern("code", _ID, "receipts", "(on|off)")
CODE_STICKER = _pattern("code", _ID, "sticker")
# /sellers
SELLERS_PAGE = _pattern("sellers", "p", _PAGE)
# The /new conversation
NEW_ANY = re.compile(r"^new:")  # any shape below, from a question no longer asked
NEW_KIND = _pattern("new", "kind", f"({'|'.join(CodeKind)})")
NEW_BANK = _pattern("new", "bank", r"(\w+)")  # a Pivot channel code
NEW_OPEN_AMOUNT = _pattern("new", "open")
NEW_CANCEL = _pattern("new", "cancel")
NEW_RETRY = _pattern("new", "retry", _ID)  # the message id in the request key
NEW_VA_INSTEAD = _pattern("new", "va_for", _ID)  # a QRIS Pivot refused, checked per seller
NEW_OPEN_AMOUNT_DATA = _data("new", "open")
NEW_CANCEL_DATA = _data("new", "cancel")
CODES_OPEN_DATA = _data("codes", "open")


def codes_page_data(page: int) -> str:
    """``codes:p:2``: a page of the seller's code list."""
    return _data("codes", "p", page)


def codes_search_data(search_id: int, page: int) -> str:
    """``codes:q:812:p:2``: a page of the codes ``/codes <text>`` found; ``812`` is the id of
    that message, under which the handler keeps the text (never in the data: it may be long)."""
    return _data("codes", "q", search_id, "p", page)


def code_data(code_id: int, action: str | None = None, *, page: int | None = None) -> str:
    """``code:17``, ``code:17:p:2``, ``code:17:resend``, ``code:17:off``, ``code:17:off!``,
    ``code:17:on``, ``code:17:renew``, ``code:17:open``, ``code:17:rename``, ``code:17:link``,
    ``code:17:relink``, ``code:17:unlink`` or ``code:17:sticker``."""
    if page is not None:
        return _data("code", code_id, "p", page)
    return _data("code", code_id, action) if action else _data("code", code_id)


def code_receipts_data(code_id: int, on: bool) -> str:
    """``code:17:receipts:on`` or ``code:17:receipts:off``: switch the code's receipts."""
    return _data("code", code_id, "receipts", "on" if on else "off")


def sellers_page_data(page: int) -> str:
    """``sellers:p:2``: a page of the operators' seller list."""
    return _data("sellers", "p", page)


def new_kind_data(kind: CodeKind) -> str:
    """``new:kind:QRIS`` or ``new:kind:VA``: the answer to /new's first question."""
    return _data("new", "kind", kind)


def new_bank_data(bank: str) -> str:
    """``new:bank:BCA``: a VA's bank, by Pivot's channel code."""
    return _data("new", "bank", bank)


def new_retry_data(message_id: int) -> str:
    """``new:retry:812``: try again the request that message ``812`` completed."""
    return _data("new", "retry", message_id)


def new_va_instead_data(code_id: int) -> str:
    """``new:va_for:17``: a VA for the customer of QRIS code 17, which Pivot refused."""
    return _data("new", "va_for", code_id)


def button_name(name: str) -> str:
    """A customer's name cut to fit a button's line on a phone."""
    if len(name) > _BUTTON_NAME_LENGTH:
        return name[: _BUTTON_NAME_LENGTH - 1] + "…"
    return name


def pager_row(
    language: str, page: Page, data_for: Callable[[int], str]
) -> list[InlineKeyboardButton]:
    """Previous/next buttons around ``page`` (empty on a single page)."""
    row = []
    if page.has_previous:
        row.append(
            InlineKeyboardButton(
                text(language, "button.previous"), callback_data=data_for(page.number - 1)
            )
        )
    if page.has_next:
        row.append(
            InlineKeyboardButton(
                text(language, "button.next"), callback_data=data_for(page.number + 1)
            )
        )
    return row


async def show_in_place(
    query: CallbackQuery, body: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the text and buttons of the message the pressed button sits on."""
    if not isinstance(query.message, Message):
        return  # too old for Telegram to hand back, or an inline message: nothing to edit
    try:
        await query.message.edit_text(body, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        # A second press on the same page asks for exactly what is shown already.
        if "not modified" not in error.message.lower():
            raise
