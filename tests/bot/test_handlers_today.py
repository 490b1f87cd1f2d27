from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from telegram.constants import MessageLimit

from bot.handlers.today import TODAY_LINE_CAP, render_today
from storage import ChargeConfirmation, CodeKind, SellerDay, SellerPayment
from tests.standins import charge_row

WIB = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 25)
MIDNIGHT_WIB = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def payment(number: int, amount: int, *, customer: str | None = "Bu Ani") -> SellerPayment:
    charge = charge_row(
        number,
        amount,
        paid_at=MIDNIGHT_WIB + timedelta(minutes=number),
        issuer="OVO",
        recorded_at=MIDNIGHT_WIB,
    )
    return SellerPayment(charge=charge, customer=customer, kind=CodeKind.QRIS)


def whole_day(*payments: SellerPayment) -> SellerDay:
    """A day with exactly these payments, all listed."""
    return SellerDay(
        count=len(payments),
        total=sum(payment.charge.amount for payment in payments),
        payments=payments,
    )


def test_an_empty_day_says_so_with_the_local_date() -> None:
    assert render_today("en", whole_day(), WIB, DAY) == "No payments yet today (25/11/2026)."


def test_each_payment_has_local_time_customer_amount_and_channel_then_the_total() -> None:
    body = render_today(
        "id", whole_day(payment(1, 25_000), payment(61, 1_500_000, customer=None)), WIB, DAY
    )
    assert body.splitlines() == [
        "<b>Hari ini</b> (25/11/2026): 2 pembayaran · total <b>Rp 1.525.000</b>",
        "• 00:01 · <b>Rp 25.000</b> · Bu Ani · QRIS · OVO",
        "• 01:01 · <b>Rp 1.500.000</b> · — · QRIS · OVO",
    ]


def test_a_busy_day_shows_the_stored_count_and_total_and_the_lines_it_was_given() -> None:
    # Storage counts and totals the whole day but hands over only the first lines.
    first = tuple(payment(number, 10_000) for number in range(TODAY_LINE_CAP))
    day = SellerDay(count=100, total=1_234_000, payments=first)
    lines = render_today("en", day, WIB, DAY).splitlines()
    assert lines[0] == "<b>Today</b> (25/11/2026): 100 payments · total <b>Rp 1.234.000</b>"
    assert lines[1:-1] == render_today("en", whole_day(*first), WIB, DAY).splitlines()[1:]
    assert lines[-1] == "…and 70 more."


def test_lines_beyond_the_cap_are_not_shown_even_if_given() -> None:
    body = render_today("en", whole_day(*(payment(n, 1) for n in range(40))), WIB, DAY)
    assert len(body.splitlines()) == 1 + TODAY_LINE_CAP + 1
    assert body.endswith("…and 10 more.")


def test_long_escaped_names_still_fit_one_telegram_message() -> None:
    name = "<&>" * 20  # escapes to five times its length
    first = tuple(payment(number, 10_000, customer=name) for number in range(TODAY_LINE_CAP))
    body = render_today("en", SellerDay(count=100, total=1_000_000, payments=first), WIB, DAY)
    assert len(body) <= MessageLimit.MAX_TEXT_LENGTH
    shown = sum(line.startswith("•") for line in body.splitlines())
    assert shown < TODAY_LINE_CAP
    assert body.endswith(f"…and {100 - shown} more.")


def test_a_payment_pivot_has_not_confirmed_is_marked_and_the_day_says_how_much_waits() -> None:
    confirmed = payment(1, 25_000)
    waiting = payment(2, 20_000)
    waiting = replace(
        waiting, charge=replace(waiting.charge, confirmation=ChargeConfirmation.PENDING)
    )
    day = replace(whole_day(confirmed, waiting), unconfirmed=20_000)
    assert render_today("en", day, WIB, DAY).splitlines() == [
        "<b>Today</b> (25/11/2026): 2 payments · total <b>Rp 45.000</b>",
        "⏳ Rp 20.000 of it not yet confirmed by Pivot: wait before handing over goods.",
        "• 00:01 · <b>Rp 25.000</b> · Bu Ani · QRIS · OVO",
        "• 00:02 · <b>Rp 20.000</b> · Bu Ani · QRIS · OVO"
        " · ⏳ not yet confirmed by Pivot: wait before handing over goods",
    ]


def test_a_wrong_amount_is_flagged_against_the_codes_amount() -> None:
    paid = replace(payment(1, 20_000), expected=25_000)
    paid = replace(paid, charge=replace(paid.charge, flags=frozenset({"amount_mismatch"})))
    line = render_today("en", whole_day(paid), WIB, DAY).splitlines()[1]
    assert line.endswith(" · ⚠️ amount differs (expected Rp 25.000)")
