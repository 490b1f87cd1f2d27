"""``/today``: the payments since midnight in the seller's time zone, with count and total."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import MessageLimit

from bot.amounts import format_rupiah
from bot.clock import format_clock, utcnow
from bot.context import Context
from bot.notifications import charge_channel, charge_flags
from bot.reports import SellerDay
from bot.texts import Safe, text

__all__ = ["TODAY_LINE_CAP", "render_today", "today"]

TODAY_LINE_CAP = 30
_MORE_LINE_ROOM = 64  # room kept for the "…and N more." line


def render_today(language: str, day: SellerDay, zone: ZoneInfo, date_shown: date) -> str:
    """The day's count, total (and how much of it Pivot has yet to confirm) and first payments,
    capped so even a busy day fits one message."""
    shown_day = f"{date_shown:%d/%m/%Y}"
    if not day.count:
        return text(language, "today.empty", date=shown_day)
    lines = [
        text(
            language,
            "today.title",
            date=shown_day,
            count=day.count,
            total=format_rupiah(day.total),
        )
    ]
    if day.unconfirmed:
        lines.append(text(language, "today.unconfirmed", amount=format_rupiah(day.unconfirmed)))
    heading = len(lines)
    size = sum(len(line) + 1 for line in lines)
    for payment in day.payments[:TODAY_LINE_CAP]:
        line = text(
            language,
            "today.line",
            time=format_clock(payment.charge.paid_at, zone),
            amount=format_rupiah(payment.charge.amount),
            customer=payment.customer or "—",
            channel=charge_channel(language, payment.charge),
            flags=Safe(charge_flags(language, payment.charge, payment.expected)),
        )
        # Long (escaped) customer names can fill the message before the line cap does.
        if size + 1 + len(line) > MessageLimit.MAX_TEXT_LENGTH - _MORE_LINE_ROOM:
            break
        lines.append(line)
        size += 1 + len(line)
    hidden = day.count - (len(lines) - heading)
    if hidden:
        lines.append(text(language, "today.more", count=hidden))
    return "\n".join(lines)


async def today(update: Update, context: Context) -> None:
    """``/today``: what came in since midnight, in the seller's zone."""
    if update.message is None:
        return
    report = await context.services.reports.day(context.seller, utcnow(), listed=TODAY_LINE_CAP)
    body = render_today(context.language, report.sales, report.zone, report.date)
    await update.message.reply_html(body)
