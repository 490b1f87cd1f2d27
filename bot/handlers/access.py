"""Who may talk to the bot: the gate, invitations, and the operators' seller commands.

Deny by default: the gate runs before every other handler (in the first group) and stops any
update that does not come from an operator, an active seller, or a stranger opening an
invitation link. A buyer (anyone opening a buyer link, or a stranger who opened one) is handed
to ``bot.handlers.buyer`` alone, and no other handler sees the update. An inline query (a
seller sharing a code in another chat) has no chat: only a known seller's passes, and anyone
else's is answered with no results. The rules are ``bot.sellers``'; these handlers turn updates
into its calls and answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import NoReturn
from zoneinfo import ZoneInfo

from telegram import Chat, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.ext import ApplicationHandlerStop

from bot.clock import format_datetime
from bot.context import Context
from bot.deeplinks import LinkKind, link_kind, start_link, start_token
from bot.handlers import buyer
from bot.keyboards import pager_row, sellers_page_data, show_in_place
from bot.sellers import InviteResult, Person, Seller, StatusRefusal, Verdict
from bot.texts import DEFAULT_LANGUAGE, text

__all__ = [
    "gate",
    "invite",
    "sellers",
    "sellers_page",
    "start",
    "suspend",
    "unsuspend",
]

_START_RESULTS = {
    InviteResult.USED: "invite.used",
    InviteResult.EXPIRED: "invite.expired",
    InviteResult.UNKNOWN: "invite.unknown",
}
_STATUS_REFUSALS = {
    StatusRefusal.OPERATOR: "suspend.operator",
    StatusRefusal.UNKNOWN: "seller.unknown",
}


async def gate(update: Update, context: Context) -> None:
    """Let operators, active sellers and invitation links through, hand buyers their view
    alone; refuse everyone else once."""
    if update.inline_query is not None or update.chosen_inline_result is not None:
        await _admit_sharer(update, context)
        return
    person = _person(update)
    if person is None:
        raise ApplicationHandlerStop
    services = context.services
    admission = await services.sellers.admit(person, link=_link(update, context.bot.username))
    if admission.verdict is Verdict.INVITED:
        return
    if admission.verdict is Verdict.BUYER:
        # A receipt held while the buyer had blocked the bot goes out now they write again.
        services.relay.release(person.chat_id)
        try:
            await buyer.serve(update, context, admission)
        except Exception as exc:
            # Handed to the error handler here (it logs and says sorry), because the update must
            # stop at the gate whatever happened: otherwise it would go on to the seller handlers.
            await context.application.process_error(update, exc)
        raise ApplicationHandlerStop
    if admission.verdict is Verdict.REFUSED:
        # Their own id, so that whoever deploys the bot knows what goes in ADMIN_TELEGRAM_IDS.
        await _refuse(update, DEFAULT_LANGUAGE, "access.refused", telegram_id=person.telegram_id)
    if admission.verdict is Verdict.SUSPENDED:
        await _refuse(update, admission.language, "access.suspended")
    # Whatever waited for this person to write again (messages while they had blocked the bot,
    # a card Telegram would not take) goes out now; first, so that a failure below cannot keep it.
    services.relay.release(person.chat_id)
    context.admit(await services.sellers.register(admission))


async def _admit_sharer(update: Update, context: Context) -> None:
    """An inline query or its chosen result, which come from no chat: only a seller the gate
    would let in, already known to the bot, goes on; anyone else's query is answered empty."""
    user = update.effective_user
    seller = None if user is None else await context.services.sellers.sharer(user.id)
    if seller is None:
        if update.inline_query is not None:
            await update.inline_query.answer([], cache_time=0, is_personal=True)
        raise ApplicationHandlerStop
    context.admit(seller)


def _person(update: Update) -> Person | None:
    """Who sent ``update``, or None outside a private chat."""
    user, chat = update.effective_user, update.effective_chat
    # The bot serves private chats only: a seller's chat id is where payments are sent, and a
    # group must never become that.
    if user is None or chat is None or chat.type != Chat.PRIVATE:
        return None
    return Person(
        telegram_id=user.id,
        chat_id=chat.id,
        name=user.full_name,
        username=user.username,
        language_code=user.language_code,
    )


def _link(update: Update, bot_username: str) -> LinkKind | None:
    """The kind of deep link ``update`` opens (``/start <token>``), or None."""
    message = update.message
    token = start_token(message.text or "", bot_username) if message is not None else None
    return None if token is None else link_kind(token)


async def _refuse(update: Update, language: str, key: str, **values: object) -> NoReturn:
    """Answer once with ``key`` (a message or a button press) and stop every other handler."""
    if update.callback_query is not None:
        await update.callback_query.answer(text(language, key, **values), show_alert=True)
    elif update.message is not None:
        await update.message.reply_html(text(language, key, **values))
    raise ApplicationHandlerStop


async def start(update: Update, context: Context) -> None:
    """``/start``: greet a seller, or make a stranger who opened an invitation link one."""
    message, user, person = update.message, update.effective_user, _person(update)
    if message is None or user is None or person is None:
        return
    if context.known:
        key = "start.already" if context.args else "start.welcome"
        await message.reply_html(text(context.language, key, name=user.first_name))
        return
    token = context.args[0] if context.args else ""
    result = await context.services.sellers.join(person, token)
    if result is InviteResult.ACCEPTED:
        joined = text(DEFAULT_LANGUAGE, "start.joined", name=user.first_name)
        await message.reply_html(f"{joined}\n\n{text(DEFAULT_LANGUAGE, 'help')}")
        return
    await message.reply_html(text(DEFAULT_LANGUAGE, _START_RESULTS[result]))


async def _operator(update: Update, context: Context) -> Seller | None:
    """The operator asking, or None after telling a seller the command is not theirs."""
    seller = context.seller
    if context.services.sellers.is_operator(seller.telegram_id):
        return seller
    if update.callback_query is not None:
        await update.callback_query.answer(text(seller.language, "operator.only"))
    elif update.message is not None:
        await update.message.reply_html(text(seller.language, "operator.only"))
    return None


async def invite(update: Update, context: Context) -> None:
    """``/invite``: a one-time deep link that makes whoever opens it a seller."""
    operator = await _operator(update, context)
    if operator is None or update.message is None:
        return
    invitation = await context.services.sellers.invite(operator.telegram_id)
    link = start_link(context.bot.username, invitation.token)
    expires = format_datetime(invitation.expires_at, ZoneInfo(operator.timezone))
    await update.message.reply_html(
        text(operator.language, "invite.created", expires=expires, link=link),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def sellers(update: Update, context: Context) -> None:
    """``/sellers``: every seller with role and status, paginated."""
    operator = await _operator(update, context)
    if operator is None or update.message is None:
        return
    body, markup = await _sellers_view(context, operator.language, 1)
    await update.message.reply_html(body, reply_markup=markup)


async def sellers_page(update: Update, context: Context) -> None:
    """A press on the seller list's previous/next buttons."""
    query = update.callback_query
    operator = await _operator(update, context)
    if query is None or operator is None or context.matches is None:
        return
    await query.answer()
    body, markup = await _sellers_view(context, operator.language, int(context.matches[0][1]))
    await show_in_place(query, body, markup)


async def _sellers_view(
    context: Context, language: str, requested: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    listing = await context.services.sellers.page(requested)
    if listing.total == 0:
        return text(language, "sellers.empty"), None
    lines = [text(language, "sellers.title", count=listing.total)]
    lines += [
        text(
            language,
            "sellers.line",
            telegram_id=seller.telegram_id,
            name=seller.name,
            role=text(language, f"role.{seller.role.value}"),
            status=text(language, f"status.{seller.status.value}"),
        )
        for seller in listing.sellers
    ]
    nav = pager_row(language, listing.page, sellers_page_data)
    return "\n".join(lines), InlineKeyboardMarkup([nav]) if nav else None


async def suspend(update: Update, context: Context) -> None:
    """``/suspend <id>``: the seller is refused from now on; their records stay."""
    await _set_status(update, context, context.services.sellers.suspend, "suspend")


async def unsuspend(update: Update, context: Context) -> None:
    """``/unsuspend <id>``: give a suspended seller access again."""
    await _set_status(update, context, context.services.sellers.unsuspend, "unsuspend")


async def _set_status(
    update: Update,
    context: Context,
    change: Callable[[int, int], Awaitable[Seller | StatusRefusal]],
    command: str,
) -> None:
    operator = await _operator(update, context)
    if operator is None or update.message is None:
        return
    language = operator.language
    args = context.args or []
    # Telegram user ids fit in 52 bits; a longer number would overflow SQLite's integers.
    if len(args) != 1 or not re.fullmatch(r"\d{1,16}", args[0]):
        await update.message.reply_html(text(language, f"{command}.usage"))
        return
    telegram_id = int(args[0])
    target = await change(telegram_id, operator.telegram_id)
    if isinstance(target, StatusRefusal):
        key = _STATUS_REFUSALS[target]
        await update.message.reply_html(text(language, key, telegram_id=telegram_id))
        return
    await update.message.reply_html(
        text(language, f"{command}.done", name=target.name, telegram_id=telegram_id)
    )
