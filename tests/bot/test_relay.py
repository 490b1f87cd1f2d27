"""The relay against a fake Bot API over loopback: once, in order, paced, and never stopped.

The bot is an ``ExtBot`` with the production ``Sender``, as ``bot.app`` builds it: pacing and
retries happen there, what is left to the relay is what to send and what to record.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import ExtBot

from bot.alerts import alert_operators
from bot.notifications import PAYMENT_KIND, TEXT_KIND, PaymentNotice, TextNotice
from bot.relay import Relay
from bot.sending import Sender
from storage import Database, OutboxStatus, SellerStatus
from tests.standins import (
    BOT_TOKEN,
    TELEGRAM_LIMITS,
    FakeTelegram,
    PostgresServer,
    SentMessage,
    add_seller,
    another_process_writing,
    serving,
    wait_for,
)

SELLER = 2000
OTHER = 3000
ADMIN = 1000


class Setup:
    def __init__(
        self, db: Database, telegram: FakeTelegram, bot: ExtBot[Any], target: Path | str
    ) -> None:
        self.db, self.telegram, self.bot, self.target = db, telegram, bot, target

    def relay(self, **options: Any) -> Relay:
        return Relay(self.db, self.bot, (ADMIN,), base_backoff=0.05, **options)

    async def queue_payment(
        self,
        number: int,
        chat_id: int = SELLER,
        paid_at: datetime | None = None,
        code_id: int | None = None,
    ) -> None:
        notice = PaymentNotice(
            reference=f"c{number}",
            amount=1_000 * number,
            customer=f"Buyer {number}",
            code_id=code_id,
            kind="VA",
            bank="BCA",
            paid_at=paid_at or datetime(2026, 11, 24, 7, 0, number % 60, tzinfo=UTC),
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
async def setup(database_target: Path | str) -> AsyncIterator[Setup]:
    telegram = FakeTelegram(token=BOT_TOKEN, flood=None)
    async with (
        serving(telegram.app) as server,
        await Database.open(database_target) as db,
        ExtBot(
            BOT_TOKEN, base_url=f"{server.url}/bot", rate_limiter=Sender(base_backoff=0.05)
        ) as bot,
    ):
        yield Setup(db, telegram, bot, database_target)
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
    await setup.queue_payment(1)  # its commit wakes the relay
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


async def test_a_chat_that_refuses_the_bot_keeps_its_messages_until_the_person_writes(
    setup: Setup,
) -> None:
    await add_seller(setup.db, SELLER, language="en")
    setup.telegram.block_chat(SELLER)
    await setup.queue_payment(1, chat_id=SELLER)
    await setup.queue_payment(2, chat_id=OTHER)
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 2)  # the other chat's payment and the operators' alert
    await setup.queue_payment(3, chat_id=SELLER)  # paid while the seller is still away
    await wait_for(
        lambda: _count_status(setup.db, OutboxStatus.HELD, 2), timeout=5, what="2 held rows"
    )

    assert relay.holds(SELLER)
    seller = await setup.db.sellers.get(SELLER)
    assert seller is not None and seller.status is SellerStatus.BLOCKED
    # The operator never wrote to the bot: the alert is in the default language.
    assert "memblokir bot" in (setup.telegram.last_message(ADMIN).text or "")
    assert setup.payments_reported(OTHER) == ["2"]
    # The refusal was learnt once: the later payment was held without asking Telegram again.
    assert len(setup.telegram.calls_to("sendMessage")) == 3

    setup.telegram.unblock_chat(SELLER)
    relay.release(SELLER)
    await run_until_sent(setup, relay, 4)
    await relay.stop()

    [combined] = setup.telegram.sent_messages(SELLER)
    assert setup.payments_reported() == ["1", "3"]
    assert "2 payments" in (combined.text or "")
    assert not relay.holds(SELLER)
    assert len(setup.telegram.sent_messages(ADMIN)) == 1  # told once, not per payment


async def test_a_refusal_decided_while_the_release_waits_for_the_database_holds_nothing(
    setup: Setup,
) -> None:
    await add_seller(setup.db, SELLER, language="en")
    setup.telegram.block_chat(SELLER)
    await setup.queue_payment(1)
    relay = setup.relay()
    await relay.start()
    await wait_for(
        lambda: _count_status(setup.db, OutboxStatus.HELD, 1), timeout=5, what="a held row"
    )
    setup.telegram.unblock_chat(SELLER)
    refused_at = time.monotonic()  # a send that began before the person wrote again

    async with setup.db.write():  # the database is busy: the release is written later
        relay.release(SELLER)
        refusal = asyncio.create_task(relay.refused(SELLER, "forbidden", since=refused_at))
        assert await refusal is False  # out of date: the person wrote after that send began

    await run_until_sent(setup, relay, 2)  # the payment and the operators' alert
    await relay.stop()
    assert setup.payments_reported() == ["1"]
    assert not relay.holds(SELLER)


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


async def test_a_chat_that_writes_before_the_relay_has_resumed_gets_its_held_messages(
    setup: Setup,
) -> None:
    """Released while the database could not yet be read (just after a restart): not lost."""
    await setup.queue_payment(1)
    async with setup.db.write() as tx:
        await tx.outbox.hold_chat(SELLER, error="forbidden earlier")
    relay = setup.relay()
    relay.release(SELLER)  # the person wrote; the loop has not read the held chats yet
    await relay.start()
    await run_until_sent(setup, relay, 1)
    await relay.stop()

    assert setup.payments_reported() == ["1"]
    assert not relay.holds(SELLER)


async def test_a_combined_message_telegram_refuses_goes_again_one_payment_at_a_time(
    setup: Setup,
) -> None:
    for number in (1, 2, 3):
        await setup.queue_payment(number, code_id=10 + number)
    setup.telegram.fail_next("sendMessage", status=400)  # as if one row broke the whole message
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 3)
    await relay.stop()

    assert setup.payments_reported() == ["1", "2", "3"]
    messages = setup.telegram.sent_messages(SELLER)
    assert len(messages) == 3
    # Alone, each keeps the button of its own code.
    assert [button_data(message) for message in messages] == [
        ["code:11:open"],
        ["code:12:open"],
        ["code:13:open"],
    ]
    assert await setup.db.outbox.count(OutboxStatus.FAILED) == 0


async def test_a_payment_message_carries_the_buttons_of_its_codes(setup: Setup) -> None:
    await setup.queue_payment(1, code_id=7)
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 1)
    setup.telegram.block_chat(SELLER)  # the next ones wait, then go out combined
    for number, code_id in ((2, 8), (3, 9), (4, 8)):
        await setup.queue_payment(number, code_id=code_id)
    await wait_for(held(setup.db, 3), timeout=10, what="three messages held")
    setup.telegram.unblock_chat(SELLER)
    relay.release(SELLER)
    await run_until_sent(setup, relay, 4)
    await relay.stop()

    alone, combined = setup.telegram.sent_messages(SELLER)
    assert (alone.reply_markup or {})["inline_keyboard"] == [
        [{"text": "🔎 Open the code", "callback_data": "code:7:open"}]
    ]
    assert "3 payments" in (combined.text or "")
    assert (combined.reply_markup or {})["inline_keyboard"] == [
        [{"text": "🔎 Buyer 2 · VA BCA", "callback_data": "code:8:open"}],
        [{"text": "🔎 Buyer 3 · VA BCA", "callback_data": "code:9:open"}],
    ]


async def test_a_payment_queued_before_buttons_existed_goes_out_without_one(
    setup: Setup,
) -> None:
    await setup.queue_payment(1, code_id=7)
    async with setup.db.write() as tx:
        row = (await tx.outbox.by_dedupe_keys(["payment:c1"]))["payment:c1"]
        old = json.loads(row.payload)
        del old["code_id"]
        await tx.outbox.release([(row.id, json.dumps(old))], now=datetime.now(UTC))
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 1)
    await relay.stop()

    [message] = setup.telegram.sent_messages(SELLER)
    assert "Buyer 1" in (message.text or "")
    assert message.reply_markup is None


def held(db: Database, rows: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await db.outbox.count(OutboxStatus.HELD) == rows

    return check


def button_data(message: SentMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


async def test_an_hour_long_retry_after_is_not_retried_in_a_loop(setup: Setup) -> None:
    setup.telegram.fail_next("sendMessage", status=429, retry_after=3600)
    await setup.queue_payment(1)
    relay = setup.relay()
    await relay.start()
    await wait_for(lambda: _rescheduled(setup.db), timeout=5, what="the retry")
    due = await setup.db.outbox.next_due_at()
    # The claim after the reschedule has run: it found the row due later, not "now".
    relay.wake()
    await wait_for(lambda: _count_status(setup.db, OutboxStatus.PENDING, 1), timeout=5)
    await relay.stop()

    assert len(setup.telegram.calls_to("sendMessage")) == 1
    assert due is not None
    assert timedelta(seconds=100) < due - datetime.now(UTC) <= timedelta(seconds=300)


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
    setup.telegram.fail_next("sendMessage", status=429, retry_after=60)
    await setup.queue_payment(1, chat_id=SELLER)
    relay = setup.relay(stop_grace=0.2)
    await relay.start()
    await setup.telegram.wait_for_call("sendMessage")  # refused: now waiting out a minute
    await relay.stop()

    assert await setup.db.outbox.count(OutboxStatus.PENDING) == 1
    assert setup.telegram.sent_messages(SELLER) == []


async def test_rows_that_cannot_be_rendered_are_set_aside_alone_and_the_operators_told(
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
    # Valid, but past year 9999 once in the seller's zone: rendering raises OverflowError.
    await setup.queue_payment(2, paid_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC))
    await setup.queue_payment(3)
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 4)  # payments 1 and 3, and two alerts
    await relay.stop()

    assert relay.running is False
    assert sorted(setup.payments_reported(), key=int) == ["1", "3"]
    broken = await setup.db.outbox.by_dedupe_key("payment:broken")
    far = await setup.db.outbox.by_dedupe_key("payment:c2")
    assert broken is not None and far is not None
    assert broken.status is far.status is OutboxStatus.FAILED
    assert "ValidationError" in (broken.last_error or "")
    assert "OverflowError" in (far.last_error or "")
    alerts = [message.text or "" for message in setup.telegram.sent_messages(ADMIN)]
    assert len(alerts) == 2
    assert all("disisihkan" in alert for alert in alerts)  # "set aside", in the default language


async def test_a_locked_database_pauses_delivery_and_it_resumes_by_itself(setup: Setup) -> None:
    relay = setup.relay()
    await relay.start()
    async with another_process_writing(setup.target):  # and holding it for long
        relay.wake()  # the claim waits out the busy timeout, then fails
        await wait_for(lambda: relay.recovering, timeout=15, what="the relay to notice")
        assert relay.running
    await setup.queue_payment(1)
    await run_until_sent(setup, relay, 1)
    await wait_for(lambda: not relay.recovering, timeout=5, what="the relay to recover")
    await relay.stop()

    assert setup.payments_reported() == ["1"]
    assert relay.last_error == "DatabaseError"


async def test_a_clock_set_back_does_not_hold_messages_back(setup: Setup) -> None:
    await setup.queue_payment(1)
    # As scheduled by a box whose clock ran a day ahead, then corrected.
    async with setup.db.write() as tx:
        [row] = await tx.outbox.claim_due(now=datetime.now(UTC), limit=1)
        await tx.outbox.reschedule(
            [row.id], next_attempt_at=datetime.now(UTC) + timedelta(days=1), error="x"
        )
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 1)
    await relay.stop()

    assert setup.payments_reported() == ["1"]


async def test_an_alert_queued_without_a_wake_is_delivered(setup: Setup) -> None:
    """Whoever queues a message need not wake the relay: its commit does."""
    await setup.queue_payment(1)
    relay = setup.relay()
    await relay.start()
    await run_until_sent(setup, relay, 1)  # the relay has gone idle again

    async with setup.db.write() as tx:
        await alert_operators(
            tx,
            (ADMIN,),
            "alert.dead_letter",
            dedupe="d1",
            now=datetime.now(UTC),
            inbox_id=7,
            reason="unreadable",
        )
    await run_until_sent(setup, relay, 2)
    await relay.stop()

    assert "#7" in (setup.telegram.last_message(ADMIN).text or "")


async def test_a_message_queued_by_another_process_goes_out_within_the_longest_wait(
    setup: Setup,
) -> None:
    """Another process's commit tells this one nothing: the relay still looks, now and then."""
    await setup.queue_payment(1)
    relay = setup.relay(max_backoff=0.5)
    await relay.start()
    await run_until_sent(setup, relay, 1)

    async with await Database.open(setup.target) as other, other.write() as tx:
        await tx.outbox.enqueue(
            dedupe_key="text:other",
            chat_id=SELLER,
            kind=TEXT_KIND,
            payload=TextNotice(text="from the other process").model_dump_json(),
            now=datetime.now(UTC),
        )
    await run_until_sent(setup, relay, 2)
    await relay.stop()

    assert setup.telegram.last_message(SELLER).text == "from the other process"


async def _rescheduled(db: Database) -> bool:
    row = await db.outbox.by_dedupe_key("payment:c1")
    return row is not None and row.status is OutboxStatus.PENDING and row.last_error is not None


async def _count_status(db: Database, status: OutboxStatus, rows: int) -> bool:
    return await db.outbox.count(status) == rows


async def test_an_abandoned_relay_stops_at_once_and_writes_nothing_more(setup: Setup) -> None:
    # Telegram makes the send wait: it is under way when the relay is abandoned.
    setup.telegram.fail_next("sendMessage", count=100, status=429, retry_after=30)
    relay = setup.relay()
    await relay.start()
    await setup.queue_payment(1)

    async def claimed() -> bool:
        return await setup.db.outbox.count(OutboxStatus.SENDING) == 1

    await wait_for(claimed, timeout=5, what="the row claimed")
    relay.abandon()
    started = time.monotonic()
    await relay.stop()  # after abandon: nothing left to stop, nothing to write

    assert time.monotonic() - started < 0.5
    assert not relay.running
    # Left as claimed, for the next leader's relay to take back (not rescheduled by this one).
    row = await setup.db.outbox.by_dedupe_key("payment:c1")
    assert row is not None and row.status is OutboxStatus.SENDING
    assert setup.telegram.sent_messages(SELLER) == []


async def test_a_leader_whose_lease_passed_on_claims_nothing_the_new_one_then_sends(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    # The old leader's lease session ended (the server freed the lock) before it noticed; its
    # pool still works. A row it claimed now would stay SENDING for good: the new leader took
    # SENDING rows back at its start. Its relay checks the lease in the claiming transaction.
    telegram = FakeTelegram(token=BOT_TOKEN, flood=None)
    async with (
        serving(telegram.app) as server,
        await Database.open(postgres_url) as old,
        await Database.open(postgres_url) as new,
        ExtBot(
            BOT_TOKEN, base_url=f"{server.url}/bot", rate_limiter=Sender(base_backoff=0.05)
        ) as bot,
    ):
        old_lease, new_lease = old.lease(), new.lease()
        await asyncio.wait_for(old_lease.acquire(), 10)
        taking_over = asyncio.create_task(new_lease.acquire())
        assert postgres_server.end_lease_sessions(postgres_url.rsplit("/", 1)[1]) == 1
        await asyncio.wait_for(taking_over, 10)
        setup = Setup(new, telegram, bot, postgres_url)
        relay = setup.relay(lease=new_lease)
        stale = Relay(old, bot, (ADMIN,), base_backoff=0.05, lease=old_lease)
        await relay.start()
        await setup.queue_payment(1)
        await run_until_sent(setup, relay, 1)  # the new leader's relay runs (and has resumed)
        await stale.start()
        await Setup(old, telegram, bot, postgres_url).queue_payment(2)
        try:
            await run_until_sent(setup, relay, 2)
        finally:
            await stale.stop()
            await relay.stop()
            await telegram.aclose()
        assert stale.sent == 0
