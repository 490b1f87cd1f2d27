"""Inline keyboards and their ``callback_data``: ids and page numbers only, never identity.

Telegram caps ``callback_data`` at 64 bytes; every shape below stays far under it. Handlers
match presses with the compiled patterns and re-check ownership on every press.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.texts import text

__all__ = [
    "CODES_PAGE",
    "CODE_DEACTIVATE",
    "CODE_DEACTIVATE_CONFIRMED",
    "CODE_RENEW",
    "CODE_RESEND",
    "CODE_SHOW",
    "SELLERS_PAGE",
    "Page",
    "code_data",
    "codes_page_data",
    "pager_row",
    "sellers_page_data",
    "show_in_place",
]

CODES_PAGE = re.compile(r"^codes:p:(\d{1,6})\Z")
CODE_SHOW = re.compile(r"^code:(\d{1,18})(?::p:(\d{1,6}))?\Z")
CODE_RESEND = re.compile(r"^code:(\d{1,18}):resend\Z")
CODE_DEACTIVATE = re.compile(r"^code:(\d{1,18}):off\Z")
CODE_DEACTIVATE_CONFIRMED = re.compile(r"^code:(\d{1,18}):off!\Z")
CODE_RENEW = re.compile(r"^code:(\d{1,18}):renew\Z")
SELLERS_PAGE = re.compile(r"^sellers:p:(\d{1,6})\Z")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: 1-based ``number`` of ``count`` pages, and the rows it covers."""

    number: int
    count: int
    offset: int
    limit: int

    @classmethod
    def of(cls, requested: int, total: int, size: int) -> Page:
        """The page ``requested``, clamped to the pages ``total`` rows fill (at least one)."""
        count = max(1, -(-total // size))
        number = min(max(1, requested), count)
        return cls(number=number, count=count, offset=(number - 1) * size, limit=size)

    @property
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether a page comes after this one."""
        return self.number < self.count


def codes_page_data(page: int) -> str:
    """``codes:p:2``: a page of the seller's code list."""
    return f"codes:p:{page}"


def code_data(code_id: int, action: str | None = None, *, page: int | None = None) -> str:
    """``code:17``, ``code:17:p:2``, ``code:17:resend``, ``code:17:off``, ``code:17:off!``
    or ``code:17:renew``."""
    if page is not None:
        return f"code:{code_id}:p:{page}"
    return f"code:{code_id}:{action}" if action else f"code:{code_id}"


def sellers_page_data(page: int) -> str:
    """``sellers:p:2``: a page of the operators' seller list."""
    return f"sellers:p:{page}"


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
