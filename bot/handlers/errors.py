"""The error handler: log the failure with its traceback, tell the person something went wrong.

Modelled on PTB's ``errorhandlerbot`` example, minus the update dump: an update holds customer
names and other personal data, so only its id and the user's id are logged.
"""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.context import Context
from bot.texts import DEFAULT_LANGUAGE, text

__all__ = ["on_error"]

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log ``context.error`` with its traceback and answer the update with error.generic."""
    if not isinstance(update, Update):
        logger.error("Background work failed", exc_info=context.error)
        return
    user = update.effective_user
    logger.error(
        "Handling update %s from user %s failed",
        update.update_id,
        user.id if user else None,
        exc_info=context.error,
    )
    chat = update.effective_chat
    if chat is None or chat.type != Chat.PRIVATE:
        return
    try:
        await context.bot.send_message(
            chat.id,
            text(await _language(update, context), "error.generic"),
            parse_mode=ParseMode.HTML,
        )
    except TelegramError as error:
        # Telegram itself may be what failed; the traceback above is what matters.
        logger.warning("Could not tell chat %s about the failure: %s", chat.id, error)


async def _language(update: Update, context: Context) -> str:
    """The seller's language, or the default when they are unknown or the database is down."""
    user = update.effective_user
    if user is None:
        return DEFAULT_LANGUAGE
    try:
        return await context.services.sellers.language(user.id)
    except Exception:  # the database may be the very thing that failed
        return DEFAULT_LANGUAGE
