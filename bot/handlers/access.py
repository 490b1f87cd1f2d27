"""Who may talk to the bot: the gate, invitations, and the operators' seller commands.

Deny by default: the gate runs before every other handler (group -1) and stops any update that
does not come from an operator, an active seller, or a stranger opening an invitation link.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from typing import NoReturn
from zoneinfo import ZoneInfo

from telegram import Chat, InlineKeyboardMarkup, LinkPreviewOptions, Update, User
from telegram.ext import ApplicationHandlerStop

from bot.clock import format_datetime, utcnow
from bot.context import Context
from bot.keyboards import Page, pager_row, sellers_page_data, show_in_place
from bot.services import Services
from bot.texts import DEFAULT_LANGUAGE, text
from storage import InviteResult, Role, Seller, SellerStatus, Transaction

__all__ = [
    "INVITE_LIFETIME",
    "SELLERS_PER_PAGE",
    "gate",
    "invite",
    "is_operator",
    "sellers",
    "sellers_page",
    "start",
    "suspend",
    "unsuspend",
]

logger = logging.getLogger(__name__)

INVITE_LIFETIME = timedelta(days=7)
SELLERS_PER_PAGE = 20
_INVITATION = re.compile(r"^/start(?:@\w+)? +[A-Za-z0-9_-]{1,64}\Z")  # a deep link's payload
_START_RESULTS = {
    InviteResult.USED: "invite.used",
    InviteResult.EXPIRED: "invite.expired",
    InviteResult.UNKNOWN: "invite.unknown",
}


def is_operator(context: Context, user_id: int) -> bool:
    """Whether ``user_id`` is in ``ADMIN_TELEGRAM_IDS`` (the settings decide, not the db)."""
    return user_id in context.services.settings.admin_telegram_ids


async def gate(update: Update, context: Context) -> None:
    """Let operators, active sellers and invitation links through; refuse everyone else once."""
    user, chat = update.effective_user, update.effective_chat
    # The bot serves private chats only: a seller's chat id is where payments are sent, and a
    # group must never become that.
    if user is None or chat is None or chat.type != Chat.PRIVATE:
        raise ApplicationHandlerStop
    services = context.services
    seller = await services.db.sellers.get(user.id)
    operator = is_operator(context, user.id)
    if seller is None and not operator:
        if _is_invitation(update):
            return
        # Their own id, so that whoever deploys the bot knows what goes in ADMIN_TELEGRAM_IDS.
        await _refuse(update, DEFAULT_LANGUAGE, "access.refused", telegram_id=user.id)
    if seller is not None and seller.status is SellerStatus.SUSPENDED and not operator:
        await _refuse(update, seller.language, "access.suspended")
    # Whatever waited for this person to write again (messages while they had blocked the bot,
    # a card Telegram would not take) goes out now; first, so that a failure below cannot keep it.
    services.relay.release(chat.id)
    # Operators are registered on first contact and someone removed from ADMIN_TELEGRAM_IDS is
    # a plain seller again; a seller who blocked the bot and writes again has unblocked it.
    role = Role.OPERATOR if operator else Role.SELLER
    if (
        seller is None
        or seller.role is not role
        or seller.status is not SellerStatus.ACTIVE
        or _stale(seller, user, chat)
    ):
        seller = await _register(services, user, chat, role=role, seller=seller)
    context.admit(seller)


def _stale(seller: Seller, user: User, chat: Chat) -> bool:
    # Only write when something changed: a write per update would serialise every chat.
    return (seller.chat_id, seller.name, seller.username) != (
        chat.id,
        user.full_name,
        user.username,
    )


async def _register(
    services: Services, user: User, chat: Chat, *, role: Role, seller: Seller | None
) -> Seller:
    async with services.db.write() as tx:
        registered = await _upsert(tx, services, user, chat, role=role, invited_by=None)
    if seller is None or seller.role is not role:
        logger.info("Telegram user %s registered as %s", user.id, role.value)
    return registered


async def _upsert(
    tx: Transaction,
    services: Services,
    user: User,
    chat: Chat,
    *,
    role: Role,
    invited_by: int | None,
) -> Seller:
    """Insert or refresh the person as an ACTIVE seller (a known one keeps their language)."""
    return await tx.sellers.add(
        telegram_id=user.id,
        chat_id=chat.id,
        name=user.full_name,
        username=user.username,
        language=DEFAULT_LANGUAGE,
        timezone=services.settings.timezone,
        role=role,
        invited_by=invited_by,
        now=utcnow(),
    )


def _is_invitation(update: Update) -> bool:
    message = update.message
    return message is not None and bool(_INVITATION.match(message.text or ""))


async def _refuse(update: Update, language: str, key: str, **values: object) -> NoReturn:
    """Answer once with ``key`` (a message or a button press) and stop every other handler."""
    if update.callback_query is not None:
        await update.callback_query.answer(text(language, key, **values), show_alert=True)
    elif update.message is not None:
        await update.message.reply_html(text(language, key, **values))
    raise ApplicationHandlerStop


async def start(update: Update, context: Context) -> None:
    """``/start``: greet a seller, or register a stranger who opened an invitation link."""
    message, user, chat = update.message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    if context.known:
        key = "start.already" if context.args else "start.welcome"
        await message.reply_html(text(context.language, key, name=user.first_name))
        return
    services = context.services
    token = context.args[0] if context.args else ""
    async with services.db.write() as tx:
        result = await tx.invites.redeem(token, used_by=user.id, now=utcnow())
        if result is InviteResult.ACCEPTED:
            invitation = await tx.invites.get(token)
            invited_by = invitation.created_by if invitation else None
            await _upsert(tx, services, user, chat, role=Role.SELLER, invited_by=invited_by)
    if result is InviteResult.ACCEPTED:
        logger.info("Telegram user %s joined as a seller", user.id)
        joined = text(DEFAULT_LANGUAGE, "start.joined", name=user.first_name)
        await message.reply_html(f"{joined}\n\n{text(DEFAULT_LANGUAGE, 'help')}")
        return
    await message.reply_html(text(DEFAULT_LANGUAGE, _START_RESULTS[result]))


async def _operator(update: Update, context: Context) -> Seller | None:
    """The operator asking, or None after telling a seller the command is not theirs."""
    seller = context.seller
    if is_operator(context, seller.telegram_id):
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
    token = secrets.token_urlsafe(18)  # 24 URL-safe characters, within /start's 64
    now = utcnow()
    async with context.services.db.write() as tx:
        invitation = await tx.invites.create(
            token=token, created_by=operator.telegram_id, now=now, expires_at=now + INVITE_LIFETIME
        )
    link = f"https://t.me/{context.bot.username}?start={token}"
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
    db = context.services.db
    total = await db.sellers.count()
    if total == 0:
        return text(language, "sellers.empty"), None
    page = Page.of(requested, total, SELLERS_PER_PAGE)
    rows = await db.sellers.list(offset=page.offset, limit=page.limit)
    lines = [text(language, "sellers.title", count=total)]
    lines += [
        text(
            language,
            "sellers.line",
            telegram_id=seller.telegram_id,
            name=seller.name,
            role=text(language, f"role.{seller.role.value}"),
            status=text(language, f"status.{seller.status.value}"),
        )
        for seller in rows
    ]
    nav = pager_row(language, page, sellers_page_data)
    return "\n".join(lines), InlineKeyboardMarkup([nav]) if nav else None


async def suspend(update: Update, context: Context) -> None:
    """``/suspend <id>``: the seller is refused from now on; their records stay."""
    await _set_status(update, context, SellerStatus.SUSPENDED, "suspend")


async def unsuspend(update: Update, context: Context) -> None:
    """``/unsuspend <id>``: give a suspended seller access again."""
    await _set_status(update, context, SellerStatus.ACTIVE, "unsuspend")


async def _set_status(
    update: Update, context: Context, status: SellerStatus, command: str
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
    if status is SellerStatus.SUSPENDED and is_operator(context, telegram_id):
        await update.message.reply_html(text(language, "suspend.operator"))
        return
    async with context.services.db.write() as tx:
        target = await tx.sellers.get(telegram_id)
        if target is not None:
            await tx.sellers.set_status(telegram_id, status)
    if target is None:
        await update.message.reply_html(text(language, "seller.unknown", telegram_id=telegram_id))
        return
    logger.info("Operator %s set seller %s to %s", operator.telegram_id, telegram_id, status)
    await update.message.reply_html(
        text(language, f"{command}.done", name=target.name, telegram_id=telegram_id)
    )
