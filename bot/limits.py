"""What all sellers share, kept from being used up by one (docs/money.md rule 14).

Pivot gives the merchant one static VA range per bank (100 numbers unless widened) and a static
QRIS quota, and every seller of the bot draws on them; a VA number once handed out is never
taken back, since Pivot cannot close a static VA. Two per-seller limits, set by the operators:

* ``SELLER_CODES_PER_DAY`` new codes a calendar day in the seller's time zone (codes that
  failed do not count). A static code is paid again and again, so a seller needs one per
  customer, not one per sale.
* ``SELLER_OPEN_VA_PER_BANK`` open-amount VA numbers held at one bank, deactivated ones too:
  an open static VA never expires at Pivot (a closed one does after 30 days), so this is the
  one kind that holds a number of the range for good.

Operators are held to the same limits: they share the same ranges, a limit that spares them
would not stop a test script or a slip of theirs from using a range up, and they set the values.

Both are checked in the transaction that reserves the code, so two requests at once cannot both
take the last place. Besides, the operators are warned once when a bank's range is 80 % used,
in the transaction that reserves the suffix crossing the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.alerts import alert_operators
from bot.clock import day_bounds, format_datetime
from pivot_client import VARule
from storage import Seller, Transaction

__all__ = ["RANGE_WARNING_PERCENT", "Limit", "LimitReached", "SellerLimits", "warn_if_filling"]

RANGE_WARNING_PERCENT = 80


class Limit(StrEnum):
    """Which per-seller limit a request ran into."""

    CODES_PER_DAY = "codes_per_day"
    OPEN_VA_PER_BANK = "open_va_per_bank"


@dataclass(frozen=True, slots=True)
class LimitReached:
    """A limit the seller reached, with the values their reply names."""

    limit: Limit
    values: dict[str, object]


@dataclass(frozen=True, slots=True)
class SellerLimits:
    """The operators' values for the per-seller limits."""

    codes_per_day: int
    open_va_per_bank: int

    async def check(
        self,
        tx: Transaction,
        seller: Seller,
        *,
        bank: str | None,
        open_amount: bool,
        now: datetime,
    ) -> LimitReached | None:
        """The limit a new code for ``seller`` would go past, or None when it may be made.

        ``bank`` is None for a QRIS; ``open_amount`` says whether a VA has no fixed amount.
        """
        zone = ZoneInfo(seller.timezone)
        start, end = day_bounds(now, zone)
        if await tx.codes.count_made_since(seller.telegram_id, start) >= self.codes_per_day:
            return LimitReached(
                Limit.CODES_PER_DAY,
                {"limit": self.codes_per_day, "resets": format_datetime(end, zone)},
            )
        if (
            bank is not None
            and open_amount
            and await tx.codes.count_open_va(seller.telegram_id, bank) >= self.open_va_per_bank
        ):
            return LimitReached(
                Limit.OPEN_VA_PER_BANK, {"limit": self.open_va_per_bank, "bank": bank}
            )
        return None


async def warn_if_filling(
    tx: Transaction, rule: VARule, admin_ids: Iterable[int], *, now: datetime
) -> None:
    """Warn the operators, once per range, when ``rule``'s range is 80 % used or more.

    The range is in the dedupe key: a widened range gets its own warning when it fills up.
    """
    used = await tx.codes.count_va_suffixes(rule.channel, rule.first, rule.last)
    if used * 100 < rule.capacity * RANGE_WARNING_PERCENT:
        return
    await alert_operators(
        tx,
        admin_ids,
        "alert.va_range_filling",
        dedupe=f"va_range_{RANGE_WARNING_PERCENT}:{rule.channel}:{rule.first}-{rule.last}",
        now=now,
        bank=rule.channel,
        used=used,
        capacity=rule.capacity,
        percent=used * 100 // rule.capacity,
        free=rule.capacity - used,
    )
