"""What came in over a seller's day: the figures behind ``/today`` (and, later, a scheduled
recap), callable without Telegram.

A day is the seller's own calendar day, midnight to midnight in their time zone, so a payment
at 23:59 WIB and one at 00:00 WIB land on different days whatever the server's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import day_bounds
from storage import Database, Seller, SellerDay, SellerPayment

__all__ = ["DayReport", "Reports", "SellerDay", "SellerPayment"]


@dataclass(frozen=True, slots=True)
class DayReport:
    """A seller's calendar ``date`` in ``zone``: every payment counted and totalled, the
    earliest few listed."""

    date: date
    zone: ZoneInfo
    sales: SellerDay


class Reports:
    """Sellers' payments over a period, read from the ledger's records."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def day(self, seller: Seller, now: datetime, *, listed: int) -> DayReport:
        """The seller's day that contains ``now``, with its first ``listed`` payments."""
        zone = ZoneInfo(seller.timezone)
        start, end = day_bounds(now, zone)
        sales = await self._db.charges.day_for_seller(seller.telegram_id, start, end, limit=listed)
        return DayReport(now.astimezone(zone).date(), zone, sales)
