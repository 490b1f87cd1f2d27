"""Every Telegram handler, wired in one place, and the command menu in both languages."""

from __future__ import annotations

from typing import Any

from telegram import Bot, BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import keyboards
from bot.context import Context
from bot.handlers import (
    access,
    browse,
    errors,
    inline,
    links,
    misc,
    new,
    rename,
    renew,
    sticker,
    today,
)
from bot.texts import CATALOGUES, DEFAULT_LANGUAGE, LANGUAGES, Language

__all__ = ["GATE_GROUP", "PROMPT_GROUP", "USER_DATA", "menu", "publish_commands", "register"]

GATE_GROUP = -2
# A question whose typed answer must win over /new's (bot.handlers.rename), after the gate.
PROMPT_GROUP = -1
_COMMAND_KEY = "command."
# Every user_data key a handler uses, with the type of its value: what bot.persistence keeps.
USER_DATA: dict[str, object] = {**browse.KEPT, **new.KEPT, **rename.KEPT}


def register(application: Application[Any, Context, Any, Any, Any, Any]) -> None:
    """Add the gate, the rename question, the /new conversation first, every other handler,
    and the error handler."""
    application.add_handler(TypeHandler(Update, access.gate), group=GATE_GROUP)
    application.add_handler(rename.rename_conversation(), group=PROMPT_GROUP)
    application.add_handler(new.new_conversation())
    application.add_handlers(
        [
            CommandHandler("start", access.start),
            CommandHandler("invite", access.invite),
            CommandHandler("sellers", access.sellers),
            CommandHandler("suspend", access.suspend),
            CommandHandler("unsuspend", access.unsuspend),
            CommandHandler("codes", browse.codes),
            CommandHandler("today", today.today),
            CommandHandler("help", misc.help_command),
            CommandHandler("lang", misc.lang),
            CommandHandler("toko", links.toko),
            CommandHandler("cancel", misc.cancel),
            CallbackQueryHandler(access.sellers_page, pattern=keyboards.SELLERS_PAGE),
            CallbackQueryHandler(browse.codes_page, pattern=keyboards.CODES_PAGE),
            CallbackQueryHandler(browse.codes_search_page, pattern=keyboards.CODES_SEARCH_PAGE),
            CallbackQueryHandler(browse.show_code, pattern=keyboards.CODE_SHOW),
            CallbackQueryHandler(browse.open_code, pattern=keyboards.CODE_OPEN),
            CallbackQueryHandler(browse.open_codes, pattern=keyboards.CODES_OPEN),
            CallbackQueryHandler(browse.resend, pattern=keyboards.CODE_RESEND),
            CallbackQueryHandler(browse.ask_deactivate, pattern=keyboards.CODE_DEACTIVATE),
            CallbackQueryHandler(browse.deactivate, pattern=keyboards.CODE_DEACTIVATE_CONFIRMED),
            CallbackQueryHandler(browse.reactivate, pattern=keyboards.CODE_REACTIVATE),
            CallbackQueryHandler(renew.renew, pattern=keyboards.CODE_RENEW),
            CallbackQueryHandler(links.share, pattern=keyboards.CODE_LINK),
            CallbackQueryHandler(links.relink, pattern=keyboards.CODE_LINK_REPLACE),
            CallbackQueryHandler(links.unlink, pattern=keyboards.CODE_LINK_REVOKE),
            CallbackQueryHandler(links.receipts, pattern=keyboards.CODE_RECEIPTS),
            CallbackQueryHandler(sticker.sticker, pattern=keyboards.CODE_STICKER),
            InlineQueryHandler(inline.offer),
            ChosenInlineResultHandler(inline.chosen),
            # Last: whatever nobody above wanted still gets an answer (not a card the seller
            # posted here by sharing it in this chat).
            MessageHandler(filters.UpdateType.MESSAGE & ~filters.VIA_BOT, misc.unknown),
            CallbackQueryHandler(misc.stale_button),
        ]
    )
    application.add_error_handler(errors.on_error)


def menu(language: Language) -> list[BotCommand]:
    """The command menu from the ``command.*`` catalogue keys, in catalogue order."""
    return [
        BotCommand(key.removeprefix(_COMMAND_KEY), description)
        for key, description in CATALOGUES[language].items()
        if key.startswith(_COMMAND_KEY)
    ]


async def publish_commands(bot: Bot) -> None:
    """``setMyCommands``: Indonesian for everyone, English for English-speaking Telegram apps."""
    await bot.set_my_commands(menu(DEFAULT_LANGUAGE))
    for language in LANGUAGES:
        if language != DEFAULT_LANGUAGE:
            await bot.set_my_commands(menu(language), language_code=language)
