"""bot.reports without Telegram: a seller's day on a real database in tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.reports import Reports
from storage import Database
from tests.standins import add_code, add_seller, record_charge

# 25/11/2026 in WIT (Asia/Jayapura, UTC+9) runs from 24/11 15:00 UTC to 25/11 15:00 UTC.
WIT_MIDNIGHT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
NOON_WIT = WIT_MIDNIGHT + timedelta(hours=12)


@pytest.fixture
async def db(database_target: Path | str) -> AsyncIterator[Database]:
    """Seller 100 on WIT, seller 200 on WIB."""
    async with await Database.open(database_target) as database:
        await add_seller(database, 100, timezone="Asia/Jayapura")
        await add_seller(database, 200)
        yield database


async def test_the_day_is_the_sellers_own_and_counts_only_their_payments(db: Database) -> None:
    mine, theirs = await add_code(db, 100, customer="Bu Ani"), await add_code(db, 200)
    moments = {
        WIT_MIDNIGHT - timedelta(minutes=1): 1_000,  # 24/11 23:59 WIT: yesterday
        WIT_MIDNIGHT: 20_000,
        WIT_MIDNIGHT + timedelta(hours=23, minutes=59): 30_000,
        WIT_MIDNIGHT + timedelta(days=1): 7_000,  # 26/11 00:00 WIT: tomorrow
    }
    for number, (paid_at, amount) in enumerate(moments.items()):
        await record_charge(db, f"mine-{number}", mine, amount=amount, paid_at=paid_at)
    await record_charge(db, "theirs", theirs, amount=99_000, paid_at=NOON_WIT)
    seller = await db.sellers.get(100)
    assert seller is not None

    report = await Reports(db).day(seller, NOON_WIT, listed=30)

    assert report.date == date(2026, 11, 25) and report.zone.key == "Asia/Jayapura"
    assert (report.sales.count, report.sales.total) == (2, 50_000)
    assert [p.charge.amount for p in report.sales.payments] == [20_000, 30_000]
    assert {p.customer for p in report.sales.payments} == {"Bu Ani"}


async def test_every_payment_is_counted_but_only_the_first_listed(db: Database) -> None:
    code = await add_code(db, 100)
    for minute in range(5):
        paid_at = WIT_MIDNIGHT + timedelta(minutes=minute)
        await record_charge(db, f"ch-{minute}", code, amount=1_000 + minute, paid_at=paid_at)
    seller = await db.sellers.get(100)
    assert seller is not None

    report = await Reports(db).day(seller, NOON_WIT, listed=2)

    assert (report.sales.count, report.sales.total) == (5, 5_010)
    assert [p.charge.amount for p in report.sales.payments] == [1_000, 1_001]


async def test_a_day_without_payments_is_empty_on_the_sellers_date(db: Database) -> None:
    seller = await db.sellers.get(200)  # WIB: 15:00 UTC is already 25/11 there too
    assert seller is not None
    report = await Reports(db).day(seller, WIT_MIDNIGHT + timedelta(hours=3), listed=30)
    assert report.date == date(2026, 11, 25)
    assert (report.sales.count, report.sales.total, report.sales.payments) == (0, 0, ())
