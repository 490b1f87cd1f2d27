"""The relay against a fake Bot API over loopback: once, in order, paced, and never lost."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Bot

from bot.notifications import PAYMENT_KIND, TEXT_KIND, PaymentNotice, TextNotice
from bot.relay import Relay
from storage import Database, OutboxStatus
from tests.helpers.fake_telegram import TELEGRAM_LIMITS, FakeTelegram
from tests.helpers.servers import serving, wait_for

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
SELLER = 2000
OTHER = 3000


class Setup:
    def __init__(self, db: Database, telegram: FakeTelegram, bot: Bot) -> None:
        self.db, self.telegram, self.bot = db, telegram, bot

    def relay(self) -> Relay:
        return Relay(self.db, self.bot, base_backoff=0.05)

    async def queue_payment(self, number: int, chat_id: int = SELLER) -> None:
        notice = PaymentNotice(
            reference=f"c{number}",
            amount=1_000 * number,
            customer=f"Buyer {number}",
            kind="VA",
            bank="BCA",
            paid_at=datetime(2026, 11, 24, 7, 0, number % 60, tzinfo=UTC),
            count=number,
            total=1_000 * number,
            language="en",
            timezone="Asia/Jakarta",
        )
        async with self.db.write() as tx:
            await tx.outbox.enqueue(
                dedupe_key=f"payment:c{number}",
                chat_id=chat_id,
                kind=PAYMENT_KIND,
                payload=notice.model_dump_json(),
                now=datetime.now(UTC),
            )

    def payments_reported(self, chat_id: int = SELLER) -> list[str]:
        """Every payment reference or customer a message to ``chat_id`` listed."""
        found: list[str] = []
        for message in self.telegram.sent_messages(chat_id):
            found += re.findall(r"Buyer (\d+)", message.text or "")
        return found


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    telegram = FakeTelegram(token=TOKEN, flood=None)
    async with (
        serving(telegram.app) as server,
        await Database.open(tmp_path / "relay.db") as db,
        Bot(TOKEN, base_url=f"{server.url}/bot") as bot,
    ):
        yield Setup(db, telegram, bot)
        await telegram.aclose()


async def run_until_sent(setup: Setup, relay: Relay, rows: int) -> None:
    await wait_for(
        lambda: _count_sent(setup.db, rows), timeout=15, what=f"{rows} outbox rows sent"
    )


async def _count_sent(db: Database, rows: int) -> bool:
    return await db.outbox.count(OutboxStatus.SENT) == rows


async def test_a_queued_payment_is_sent_once_and_marked_sent(setup: Setup) -> None:
    relay = setup.relay()
    await relay.start()
    await setup.queue_payment(1)
    relay.wake()
    await run_until_sent(setup, relay, 1)
    await relay.stop()

    [message] = setup.telegram.sent_messages(SELLER)
    assert "Rp 1.000" in (message.text or "")
    assert message.parse_mode == "HTML"
    row = await setup.db.outbox.by_dedupe_key("payment:c1")
    assert row is not None
    assert row.telegram_message_id == message.message_id


async def test_telegram_errors_for_a_while_then_the_message_arrives_once(setup: Setup) -> None:
    setup.telegram.fail_next("sendMessage", count=3, status=500)
    setup.telegram.fail_next("sendMessage", count=1, status=429, retry_after=1)
    relay = setup.relay()
    await setup.queue_payment(1)
    await relay.start()
    await run_until_sent(setup, relay, 1)
    await relay.stop()

    assert setup.payments_reported() == ["1"]
    assert len(setup.telegram.calls_to("sendMessage")) == 5


async def test_a_seller_who_blocked_the_bot_keeps_the_record_and_others_get_theirs(
    setup: Setup,
) -> None:
    setup.telegram.block_chat(SELLER)
    await setup.queue_payment(1, chat_id=SELLER)
    await setup.queue_payment(2, chat_id=OTHER)
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 1)
    await wait_for(
        lambda: _count_failed(setup.db), timeout=5, what="the blocked chat's row to fail"
    )
    await relay.stop()

    row = await setup.db.outbox.by_dedupe_key("payment:c1")
    assert row is not None
    assert row.status is OutboxStatus.FAILED
    assert "forbidden" in (row.last_error or "")
    assert setup.payments_reported(OTHER) == ["2"]


async def _count_failed(db: Database) -> bool:
    return await db.outbox.count(OutboxStatus.FAILED) == 1


async def test_a_backlog_goes_out_combined_within_telegram_limits(setup: Setup) -> None:
    setup.telegram.flood = TELEGRAM_LIMITS
    for number in range(1, 61):
        await setup.queue_payment(number)
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 60)
    await relay.stop()

    reported = setup.payments_reported()
    assert sorted(reported, key=int) == [str(number) for number in range(1, 61)]
    assert len(setup.telegram.sent_messages(SELLER)) < 10
    assert setup.telegram.flood_429_count == 0


async def test_rows_left_sending_by_a_crash_are_sent_after_a_restart(setup: Setup) -> None:
    await setup.queue_payment(1)
    async with setup.db.write() as tx:
        [claimed] = await tx.outbox.claim_due(now=datetime.now(UTC), limit=10)
    assert claimed.status is OutboxStatus.SENDING

    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 1)
    await relay.stop()

    assert setup.payments_reported() == ["1"]


async def test_operator_texts_are_sent_as_they_were_rendered(setup: Setup) -> None:
    async with setup.db.write() as tx:
        await tx.outbox.enqueue(
            dedupe_key="alert:x:1000",
            chat_id=1000,
            kind=TEXT_KIND,
            payload=TextNotice(text="🚨 <b>check</b>").model_dump_json(),
            now=datetime.now(UTC),
        )
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 1)
    await relay.stop()

    assert setup.telegram.last_message(1000).text == "🚨 <b>check</b>"


async def test_stop_puts_unsent_rows_back_for_the_next_start(setup: Setup) -> None:
    setup.telegram.flood = TELEGRAM_LIMITS
    await setup.queue_payment(1, chat_id=SELLER)
    relay = Relay(setup.db, setup.bot, chat_interval=60)
    await relay.start()
    await run_until_sent(setup, relay, 1)
    await setup.queue_payment(2, chat_id=SELLER)  # must wait a minute for this chat
    relay.wake()
    await wait_for(
        lambda: _count_status(setup.db, OutboxStatus.SENDING, 1), timeout=5, what="the claim"
    )
    await relay.stop()

    assert await setup.db.outbox.count(OutboxStatus.PENDING) == 1


async def _count_status(db: Database, status: OutboxStatus, rows: int) -> bool:
    return await db.outbox.count(status) == rows


async def test_an_unreadable_row_is_failed_and_the_rows_around_it_still_go_out(
    setup: Setup,
) -> None:
    await setup.queue_payment(1)
    async with setup.db.write() as tx:
        await tx.outbox.enqueue(
            dedupe_key="payment:broken",
            chat_id=SELLER,
            kind=PAYMENT_KIND,
            payload='{"amount": "not a notice"}',
            now=datetime.now(UTC),
        )
    await setup.queue_payment(2)
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 2)
    await wait_for(lambda: _count_failed(setup.db), timeout=5, what="the broken row to fail")
    await relay.stop()

    assert sorted(setup.payments_reported(), key=int) == ["1", "2"]
    broken = await setup.db.outbox.by_dedupe_key("payment:broken")
    assert broken is not None
    assert "unreadable payload" in (broken.last_error or "")
