"""Sharing a code straight into a buyer's chat: the seller types ``@bot`` (and part of a
customer's name) there and picks one of their live codes; their Telegram app posts its card.

Only the gate's sellers get here (``bot.handlers.access``); anyone else's query is answered
with nothing. The answer is personal and not cached (``is_personal``, ``cache_time`` 0), so
every keystroke asks again and a code deactivated or expired is no longer offered. What an
answer offered is posted by the app as it was offered, whatever happened since: Telegram lets
no bot stop it. So a chosen result is checked again (``chosen_inline_result``, sent while
BotFather's inline feedback is on) and, if its code is no longer live, the posted card is
replaced by a notice that it is no longer valid. A bot can only edit such a message when it
carries a keyboard: a VA card has one (copy the number), and so has a QRIS card with an
expected amount (copy the amount). An open-amount QRIS has nothing to copy and keeps its card:
a deactivated static QRIS still takes payments at Pivot, and they are still recorded and
announced (docs/money.md).

A QR photo goes out by the file id Telegram gave it (``Codebook.shareable``): an inline answer
carries no upload, and the bot has no public address to point at.
"""

from __future__ import annotations

import logging
import re
from zoneinfo import ZoneInfo

from telegram import (
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResult,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode

from bot.amounts import format_rupiah
from bot.cards import render_card
from bot.clock import utcnow
from bot.codebook import Code, CodeKind, is_live
from bot.context import Context
from bot.texts import text

__all__ = ["chosen", "offer"]

logger = logging.getLogger(__name__)

_OFFSET = re.compile(r"\d{1,9}")  # the next_offset the bot gave, as the app sends it back
_RESULT_ID = re.compile(r"\d{1,18}")  # a code id


async def offer(update: Update, context: Context) -> None:
    """An inline query: the seller's live codes whose customer contains what they typed."""
    query = update.inline_query
    if query is None:
        return
    seller = context.seller
    offset = int(query.offset) if _OFFSET.fullmatch(query.offset) else 0
    shareable = await context.services.codebook.shareable(
        seller, query.query, offset=offset, now=utcnow()
    )
    zone = ZoneInfo(seller.timezone)
    await query.answer(
        [_result(code, seller.language, zone) for code in shareable.codes],
        cache_time=0,
        is_personal=True,
        next_offset="" if shareable.next_offset is None else str(shareable.next_offset),
    )


async def chosen(update: Update, context: Context) -> None:
    """A code the seller picked has been posted: replace its card if the code is no longer
    live (deactivated or expired since it was offered)."""
    result = update.chosen_inline_result
    if result is None or not _RESULT_ID.fullmatch(result.result_id):
        return
    seller = context.seller
    code = await context.services.codebook.find(seller, int(result.result_id))
    if code is None:
        return
    if is_live(code, utcnow()):
        logger.info("Seller %s shared code %s", seller.telegram_id, code.id)
        return
    logger.warning(
        "Seller %s shared code %s after it stopped being live (%s)",
        seller.telegram_id,
        code.id,
        "replacing its card" if result.inline_message_id else "its card cannot be edited",
    )
    if result.inline_message_id is None:
        return
    notice = text(seller.language, "share.withdrawn")
    if code.kind is CodeKind.QRIS:
        await context.bot.edit_message_caption(
            inline_message_id=result.inline_message_id, caption=notice, parse_mode=ParseMode.HTML
        )
    else:
        await context.bot.edit_message_text(
            notice, inline_message_id=result.inline_message_id, parse_mode=ParseMode.HTML
        )


def _result(code: Code, language: str, zone: ZoneInfo) -> InlineQueryResult:
    """The code as one result: its QR photo or its VA message, with the card."""
    card = render_card(code, language, zone=zone)
    title = f"{code.kind.label(code.bank)} · {code.customer}"
    description = (
        text(language, "codes.open_amount") if code.amount is None else format_rupiah(code.amount)
    )
    keyboard = _keyboard(code, language)
    if code.kind is CodeKind.QRIS:
        if code.photo_file_id is None:
            raise ValueError(f"code {code.id} has no photo Telegram holds")
        return InlineQueryResultCachedPhoto(
            str(code.id),
            code.photo_file_id,
            title=title,
            description=description,
            caption=card,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )
    return InlineQueryResultArticle(
        str(code.id),
        title,
        InputTextMessageContent(card, parse_mode=ParseMode.HTML),
        description=description,
        reply_markup=keyboard,
    )


def _keyboard(code: Code, language: str) -> InlineKeyboardMarkup | None:
    """A button that copies what the buyer types: a VA's number, a QRIS's expected amount."""
    if code.kind is CodeKind.VA and code.va_number:
        label, copied = text(language, "share.copy_va"), code.va_number
    elif code.amount is not None:
        label, copied = text(language, "share.copy_amount"), str(code.amount)
    else:
        return None
    button = InlineKeyboardButton(label, copy_text=CopyTextButton(copied))
    return InlineKeyboardMarkup([[button]])
