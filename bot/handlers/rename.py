"""``code:17:rename``: a code's customer renamed (``Codebook.rename``), asked for in the chat.

The button asks for the name in place of the code's detail; the next text the seller types is
the new name, read as ``/new`` reads one. The question is a small conversation in a group of its
own, after the gate and before every other handler: while it waits, the typed name goes to it
and no further (``ApplicationHandlerStop``), even when a ``/new`` waits for a name as well, since
the seller answers the question asked last. Any other command, button or message ends it
quietly and goes on to its own handler; ``/cancel`` ends it and says so.
"""

from __future__ import annotations

import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import Context
from bot.handlers.browse import detail_view, pressed_code
from bot.handlers.new import TIMEOUT_SECONDS, say_timed_out
from bot.keyboards import CODE_RENAME, code_data, show_in_place
from bot.texts import text

__all__ = ["KEPT", "rename_conversation"]

_ASKING = "asking"
_END = ConversationHandler.END
_PENDING = "rename_code"  # user_data: the id of the code whose new name is asked for
_TYPED = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
# What this question keeps in user_data, with its type (bot.persistence stores it).
KEPT: dict[str, object] = {_PENDING: int}


async def ask_name(update: Update, context: Context) -> object:
    """The rename button: ask for the new name in place of the detail."""
    pressed = await pressed_code(update, context, context.services.codebook.find)
    if pressed is None:  # answered already: no other handler may answer it again
        raise ApplicationHandlerStop(_END)
    query, code = pressed
    if context.user_data is not None:
        context.user_data[_PENDING] = code.id
    language = context.language
    keep = InlineKeyboardButton(text(language, "rename.keep"), callback_data=code_data(code.id))
    question = text(
        language, "rename.ask", kind=code.kind.label(code.bank), customer=code.customer
    )
    await show_in_place(query, question, InlineKeyboardMarkup([[keep]]))
    raise ApplicationHandlerStop(_ASKING)


async def on_name(update: Update, context: Context) -> object:
    """The typed name: saved, then the code's detail again, as a new message."""
    message, code_id = update.message, _pending(context)
    if message is None or message.text is None or code_id is None:
        raise ApplicationHandlerStop(_END)
    language = context.language
    renaming = await context.services.codebook.rename(context.seller, code_id, message.text)
    if renaming is not None and renaming.empty:
        await message.reply_html(text(language, "name.empty"))
        raise ApplicationHandlerStop  # still asking
    _forget(context)
    if renaming is None:
        await message.reply_html(text(language, "code.not_found"))
        raise ApplicationHandlerStop(_END)
    customer = renaming.detail.code.customer
    note = text(language, "rename.done", previous=renaming.previous, customer=customer)
    body, keyboard = detail_view(renaming.detail, context, note=note)
    await message.reply_html(body, reply_markup=keyboard)
    raise ApplicationHandlerStop(_END)


async def cancel(update: Update, context: Context) -> object:
    """``/cancel`` while the name is asked for."""
    _forget(context)
    if update.message is not None:
        await update.message.reply_html(text(context.language, "rename.cancelled"))
    raise ApplicationHandlerStop(_END)


async def leave(update: Update, context: Context) -> object:
    """Anything else: the question is dropped and the update goes on to its own handler."""
    _forget(context)
    return _END


async def on_timeout(update: Update, context: Context) -> object:
    """No name for ``TIMEOUT_SECONDS``: say the question is dropped."""
    _forget(context)
    await say_timed_out(update, context, "rename.timeout")
    return _END


def _pending(context: Context) -> int | None:
    """The id of the code whose name is asked for, if one is."""
    return context.recalled(_PENDING, int)


def _forget(context: Context) -> None:
    context.forget(_PENDING)


def rename_conversation() -> ConversationHandler[Context]:
    """The rename question: the button, the typed name, /cancel, anything else, the timeout."""
    entry = CallbackQueryHandler(ask_name, pattern=CODE_RENAME)
    with warnings.catch_warnings():
        # Deliberate: the only button is the entry, and the typed answer needs
        # per_message=False.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            entry_points=[entry],
            states={
                _ASKING: [MessageHandler(_TYPED, on_name)],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)],
            },
            fallbacks=[CommandHandler("cancel", cancel), TypeHandler(Update, leave)],
            allow_reentry=True,  # another code's rename button asks for that one instead
            per_user=True,
            per_chat=True,
            per_message=False,
            conversation_timeout=TIMEOUT_SECONDS,
            name="rename",
            persistent=True,
        )
