"""bot.limits on a real database: the per-seller limits and the VA range warning."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.limits import Limit, LimitReached, SellerLimits, warn_if_filling
from pivot_client import VARule
from storage import CodeKind, Database
from tests.standins import add_code

ADMIN = 1000
# 00:30 WIT (Asia/Jayapura, UTC+9) on 6 January 2026.
MORNING = datetime(2026, 1, 5, 15, 30, tzinfo=UTC)
LIMITS = SellerLimits(codes_per_day=3, open_va_per_bank=2)


@pytest.fixture
def db_seller() -> dict[str, Any]:
    """Seller 100, whose day runs on WIT."""
    return {"telegram_id": 100, "timezone": "Asia/Jayapura", "now": MORNING}


async def check(db: Database, *, bank: str | None = None, open_amount: bool = False) -> object:
    async with db.write() as tx:
        seller = await tx.sellers.get(100)
        assert seller is not None
        return await LIMITS.check(tx, seller, bank=bank, open_amount=open_amount, now=MORNING)


async def test_the_day_is_the_sellers_own(db: Database) -> None:
    # 23:59 WIT the day before, then three from 00:00 WIT on.
    await add_code(db, now=datetime(2026, 1, 5, 14, 59, tzinfo=UTC))
    await add_code(db, now=datetime(2026, 1, 5, 15, 0, tzinfo=UTC))
    await add_code(db, now=MORNING)
    assert await check(db) is None

    await add_code(db, now=MORNING)

    assert await check(db) == LimitReached(
        Limit.CODES_PER_DAY, {"limit": 3, "resets": "07/01/2026 00:00 WIT"}
    )


async def test_open_vas_count_per_bank_and_only_open_ones(db: Database) -> None:
    yesterday = MORNING - timedelta(days=1)  # kept out of the day's count
    for suffix in (1, 2):
        await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=suffix, now=yesterday)
    await add_code(db, kind=CodeKind.VA, bank="BRI", va_suffix=1, now=yesterday)

    assert await check(db, bank="BCA", open_amount=True) == LimitReached(
        Limit.OPEN_VA_PER_BANK, {"limit": 2, "bank": "BCA"}
    )
    assert await check(db, bank="BCA", open_amount=False) is None
    assert await check(db, bank="BRI", open_amount=True) is None
    assert await check(db) is None


async def test_the_daily_limit_is_named_first(db: Database) -> None:
    for suffix in range(3):
        await add_code(db, kind=CodeKind.VA, bank="BCA", va_suffix=suffix, now=MORNING)

    reached = await check(db, bank="BCA", open_amount=True)

    assert isinstance(reached, LimitReached) and reached.limit is Limit.CODES_PER_DAY


@pytest.mark.parametrize(
    ("capacity", "warned_at"),
    [(1, 1), (2, 2), (3, 3), (5, 4), (10, 8), (100, 80)],
)
async def test_the_range_warning_comes_at_80_percent_and_once(
    db: Database, capacity: int, warned_at: int
) -> None:
    rule = replace(VARule("BNI", "BNI", digits=4), last=capacity - 1)
    for used in range(1, capacity + 1):
        await add_code(db, kind=CodeKind.VA, bank="BNI", va_suffix=used - 1)
        async with db.write() as tx:
            await warn_if_filling(tx, rule, {ADMIN}, now=MORNING)
        assert await db.outbox.count() == (used >= warned_at)
    warning = await db.outbox.by_dedupe_key(f"alert:va_range_80:BNI:0-{capacity - 1}:{ADMIN}")
    assert warning is not None and warning.chat_id == ADMIN


async def test_numbers_outside_the_range_do_not_count_towards_it(db: Database) -> None:
    rule = VARule("BNI", "BNI", digits=4, first=100, last=104)
    for suffix in (0, 1, 2, 3, 100, 101, 102):
        await add_code(db, kind=CodeKind.VA, bank="BNI", va_suffix=suffix)
    await add_code(db, kind=CodeKind.VA, bank="BRI", va_suffix=103)
    async with db.write() as tx:
        await warn_if_filling(tx, rule, {ADMIN}, now=MORNING)
    assert await db.outbox.count() == 0
