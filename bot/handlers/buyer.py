"""A buyer's side of the chat: the code of the buyer link they open, and nothing else.

The gate (``bot.handlers.access``) hands every update of a person it admits as a buyer here,
and no other handler sees it: opening a buyer link shows its code (``bot.buyers``); any other
message or button gets one short polite answer. docs/buyers.md says what a buyer can and
cannot do.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Bot, Update
from telegram.constants import ParseMode

from bot.buyers import BuyerView, Opened, buyer_language
from bot.cards import send_card
from bot.clock import utcnow
from bot.context import Context
from bot.deeplinks import LinkKind, link_kind, start_token
from bot.sellers import Admission
from bot.texts import text

__all__ = ["serve"]


async def serve(update: Update, context: Context, admission: Admission) -> None:
    """A buyer's update: the code of the buyer link they open, or a short polite answer."""
    message, query = update.message, update.callback_query
    token = start_token(message.text or "", context.bot.username) if message is not None else None
    if message is not None and token is not None and link_kind(token) is LinkKind.BUYER:
        view = await context.services.buyers.open(
            admission.person, token, viewer=admission.seller, now=utcnow()
        )
        await _show(context.bot, message.chat_id, view)
        return
    language = buyer_language(admission.person, admission.seller)
    if query is not None:
        await query.answer(text(language, "buyer.only"), show_alert=True)
    elif message is not None:
        await message.reply_html(text(language, "buyer.only"))


async def _show(bot: Bot, chat_id: int, view: BuyerView) -> None:
    """Send what ``view`` says: the code's card under whose shop it is from, or why not."""
    language, offered = view.language, view.offered
    if offered is None:
        await bot.send_message(chat_id, text(language, "buyer.invalid"), parse_mode=ParseMode.HTML)
        return
    code, shop = offered.code, offered.shop
    if view.opened is not Opened.SHOWN:  # switched off or expired: no card to pay into
        key = f"buyer.{view.opened.value}"
        body = text(language, key, shop=shop, customer=code.customer)
        await bot.send_message(chat_id, body, parse_mode=ParseMode.HTML)
        return
    heading = text(language, "buyer.from", shop=shop)
    if view.own:
        heading = f"{text(language, 'buyer.own')}\n{heading}"
    zone = ZoneInfo(offered.timezone)
    await send_card(bot, chat_id, code, language, zone=zone, heading=heading)
