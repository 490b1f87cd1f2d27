"""``/today``: the payments since midnight in the seller's time zone, with count and total."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import MessageLimit

from bot.amounts import format_rupiah
from bot.clock import day_bounds, format_clock, utcnow
from bot.context import Context
from bot.handlers.access import current_seller
from bot.handlers.browse import charge_channel
from bot.texts import text
from storage import SellerPayment

__all__ = ["TODAY_LINE_CAP", "render_today", "today"]

TODAY_LINE_CAP = 30
_MORE_LINE_ROOM = 64  # room kept for the "…and N more." line


def render_today(
    language: str, payments: Sequence[SellerPayment], zone: ZoneInfo, day: date
) -> str:
    """The day's payments oldest first, capped so even a busy day fits in one message."""
    shown_day = f"{day:%d/%m/%Y}"
    if not payments:
        return text(language, "today.empty", date=shown_day)
    total = sum(payment.charge.amount for payment in payments)
    lines = [
        text(
            language,
            "today.title",
            date=shown_day,
            count=len(payments),
            total=format_rupiah(total),
        )
    ]
    size = len(lines[0])
    for payment in payments[:TODAY_LINE_CAP]:
        line = text(
            language,
            "today.line",
            time=format_clock(payment.charge.paid_at, zone),
            amount=format_rupiah(payment.charge.amount),
            customer=payment.customer or "—",
            channel=charge_channel(language, payment.charge),
        )
        # Long (escaped) customer names can fill the message before the line cap does.
        if size + 1 + len(line) > MessageLimit.MAX_TEXT_LENGTH - _MORE_LINE_ROOM:
            break
        lines.append(line)
        size += 1 + len(line)
    hidden = len(payments) - (len(lines) - 1)
    if hidden:
        lines.append(text(language, "today.more", count=hidden))
    return "\n".join(lines)


async def today(update: Update, context: Context) -> None:
    """``/today``: what came in since midnight, in the seller's zone."""
    seller = await current_seller(update, context)
    if update.message is None:
        return
    zone = ZoneInfo(seller.timezone)
    now = utcnow()
    start, end = day_bounds(now, zone)
    payments = await context.services.db.charges.for_seller_between(seller.telegram_id, start, end)
    await update.message.reply_html(
        render_today(seller.language, payments, zone, now.astimezone(zone).date())
    )
