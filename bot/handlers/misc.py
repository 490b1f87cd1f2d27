"""``/help``, ``/lang``, ``/cancel`` with nothing to cancel, and whatever nobody else handled."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.texts import text

__all__ = ["cancel", "help_command", "lang", "stale_button", "unknown"]


async def help_command(update: Update, context: Context) -> None:
    """``/help``: the commands; operators also get theirs."""
    seller = context.seller
    if update.message is None:
        return
    body = text(seller.language, "help")
    if context.bot.supports_inline_queries:  # sharing in a buyer's chat works only then
        body += text(seller.language, "help.share", bot=context.bot.username)
    if context.services.sellers.is_operator(seller.telegram_id):
        body += text(seller.language, "help.operator")
    await update.message.reply_html(body)


async def lang(update: Update, context: Context) -> None:
    """``/lang id|en``: switch the seller's language and answer in the new one."""
    seller = context.seller
    if update.message is None:
        return
    choice = context.args[0] if context.args and len(context.args) == 1 else ""
    language = await context.services.sellers.set_language(seller.telegram_id, choice)
    if language is None:
        await update.message.reply_html(text(seller.language, "lang.usage"))
        return
    await update.message.reply_html(text(language, "lang.set"))


async def cancel(update: Update, context: Context) -> None:
    """``/cancel`` outside a conversation: there is nothing to stop."""
    seller = context.seller
    if update.message is not None:
        await update.message.reply_html(text(seller.language, "cancel.nothing"))


async def unknown(update: Update, context: Context) -> None:
    """A command or message no handler wanted: point to /help."""
    seller = context.seller
    if update.message is not None:
        await update.message.reply_html(text(seller.language, "unknown"))


async def stale_button(update: Update, context: Context) -> None:
    """A press no handler wanted (a button from a finished step): say it is no longer active."""
    seller = context.seller
    if update.callback_query is not None:
        await update.callback_query.answer(text(seller.language, "button.stale"))
