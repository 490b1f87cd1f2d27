"""/today end to end: the seller's calendar day in WIB, across midnight; and /lang."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.drafts import Draft
from bot.handlers.today import TODAY_LINE_CAP
from bot.texts import text
from storage import ChargeRepository, Code, CodeKind, SellerDay
from tests.standins import BotEnv, record_charge, running_bot, say

# 25/11/2026 10:00 WIB; the WIB day runs from 24/11 17:00 UTC to 25/11 17:00 UTC.
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.handlers.today.utcnow", lambda: NOW)


async def record(env: BotEnv, code: Code, paid_at: datetime, amount: int) -> None:
    """A BRI VA payment recorded straight into the ledger's table at ``paid_at``."""
    await record_charge(
        env.services.db,
        f"charge-{paid_at.isoformat()}",
        code,
        amount=amount,
        paid_at=paid_at,
        channel="BRI",
        issuer=None,
    )


async def test_today_counts_from_midnight_wib_to_midnight_wib(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        assert (await say(seller, "/today")).text == text("id", "today.empty", date="25/11/2026")
        stored = await env.services.db.sellers.get(501)
        assert stored is not None
        draft = Draft(kind=CodeKind.VA, bank="BRI", customer="Pak Budi", open_amount=True)
        code = await env.services.codes.issue(stored, draft, "test:today")
        moments = {
            datetime(2026, 11, 24, 16, 59, tzinfo=UTC): 1_000,  # 24/11 23:59 WIB: yesterday
            datetime(2026, 11, 24, 17, 0, tzinfo=UTC): 20_000,  # 25/11 00:00 WIB
            datetime(2026, 11, 24, 17, 1, tzinfo=UTC): 30_000,  # 25/11 00:01 WIB
            datetime(2026, 11, 25, 16, 59, tzinfo=UTC): 50_000,  # 25/11 23:59 WIB
            datetime(2026, 11, 25, 17, 0, tzinfo=UTC): 7_000,  # 26/11 00:00 WIB: tomorrow
        }
        for paid_at, amount in moments.items():
            await record(env, code, paid_at, amount)

        report = await say(seller, "/today")
        assert report.text is not None
        assert report.text.splitlines() == [
            text("id", "today.title", date="25/11/2026", count=3, total="Rp 100.000"),
            "• 00:00 · <b>Rp 20.000</b> · Pak Budi · VA BRI",
            "• 00:01 · <b>Rp 30.000</b> · Pak Budi · VA BRI",
            "• 23:59 · <b>Rp 50.000</b> · Pak Budi · VA BRI",
        ]


async def test_a_busy_day_counts_and_totals_all_but_lists_the_first_thirty(
    bot_home: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits: list[int] = []
    real_day_for_seller = ChargeRepository.day_for_seller

    async def day_for_seller(
        self: ChargeRepository, seller_id: int, start: datetime, end: datetime, *, limit: int
    ) -> SellerDay:
        limits.append(limit)
        return await real_day_for_seller(self, seller_id, start, end, limit=limit)

    monkeypatch.setattr(ChargeRepository, "day_for_seller", day_for_seller)
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        stored = await env.services.db.sellers.get(501)
        assert stored is not None
        draft = Draft(kind=CodeKind.VA, bank="BRI", customer="Pak Budi", open_amount=True)
        code = await env.services.codes.issue(stored, draft, "test:busy")
        midnight = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 25/11 00:00 WIB
        await record(env, code, midnight - timedelta(minutes=1), 1_000_000)  # yesterday
        for minute in range(TODAY_LINE_CAP + 5):
            await record(env, code, midnight + timedelta(minutes=minute), 1_000 + minute)

        report = await say(seller, "/today")
        assert report.text is not None
        lines = report.text.splitlines()
        assert lines[0] == text(
            "id", "today.title", date="25/11/2026", count=TODAY_LINE_CAP + 5, total="Rp 35.595"
        )
        assert lines[1] == "• 00:00 · <b>Rp 1.000</b> · Pak Budi · VA BRI"
        assert lines[TODAY_LINE_CAP] == "• 00:29 · <b>Rp 1.029</b> · Pak Budi · VA BRI"
        assert lines[TODAY_LINE_CAP + 1 :] == [text("id", "today.more", count=5)]
        assert limits == [TODAY_LINE_CAP]  # only the lines that can be shown are read


async def test_lang_switches_the_sellers_language(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501)
        assert (await say(seller, "/lang")).text == text("id", "lang.usage")
        assert (await say(seller, "/lang fr")).text == text("id", "lang.usage")
        assert (await say(seller, "/lang EN")).text == "Language changed to English."
        stored = await env.services.db.sellers.get(501)
        assert stored is not None and stored.language == "en"
        assert (await say(seller, "/today")).text == "No payments yet today (25/11/2026)."
        assert (await say(seller, "/help")).text == text("en", "help") + text(
            "en", "help.share", bot=env.telegram.bot_username
        )
        assert (await say(seller, "/lang id")).text == text("id", "lang.set")
        assert (await say(seller, "/cancel")).text == text("id", "cancel.nothing")


async def test_a_failing_handler_is_logged_and_the_seller_told(
    bot_home: Path | str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> str:
        raise RuntimeError("the report could not be drawn")

    monkeypatch.setattr("bot.handlers.today.render_today", broken)
    async with running_bot(bot_home) as env:
        seller = await env.invite_seller(501, "Sari")
        with caplog.at_level(logging.INFO):
            reply = await say(seller, "/today")
        assert reply.text == text("id", "error.generic")
    [failure] = [r for r in caplog.records if r.name == "bot.handlers.errors"]
    assert failure.levelno == logging.ERROR
    assert failure.exc_info is not None and "could not be drawn" in str(failure.exc_info[1])
    # The update (names, texts) is not dumped into the log at INFO or above.
    messages = [record.getMessage() for record in caplog.records]
    assert not [message for message in messages if "Sari" in message or "/today" in message]
    assert failure.getMessage() == "Handling update 3 from user 501 failed"
