"""Closed VAs' expiry: when a code counts as expired, and the one warning its seller gets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ExtBot

from bot.expiry import (
    WARNING_LEAD,
    ExpiryWatch,
    expires_soon,
    is_expired,
    render_warning,
    renewable,
)
from bot.notifications import TEXT_KIND, TextNotice
from bot.relay import Relay
from bot.sending import Sender
from storage import Code, CodeKind, Database, OutboxStatus, Role
from tests.standins import BOT_TOKEN, NOW, FakeTelegram, add_code, add_seller, serving, wait_for

SELLER = 100
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def db_seller() -> dict[str, Any]:
    return {"telegram_id": SELLER, "language": "en"}


async def closed_va(db: Database, suffix: int, expires_in: timedelta | None, **extra: Any) -> Code:
    return await add_code(
        db,
        SELLER,
        kind=CodeKind.VA,
        bank="BCA",
        va_suffix=suffix,
        amount=50_000,
        customer=f"Buyer {suffix}",
        expires_at=None if expires_in is None else NOW + expires_in,
        **extra,
    )


class Wakes:
    """Stands in for the relay: counts the commits that queued messages."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


async def warnings(db: Database) -> dict[str, TextNotice]:
    """Every expiry warning in the outbox, by dedupe key."""
    rows = await db._engine.reader.rows(
        "SELECT dedupe_key, kind, payload, chat_id FROM outbox WHERE dedupe_key LIKE 'expiry:%'"
    )
    assert all(row["kind"] == TEXT_KIND and row["chat_id"] == SELLER for row in rows)
    return {row["dedupe_key"]: TextNotice.model_validate_json(row["payload"]) for row in rows}


async def test_a_code_is_expired_from_its_date_and_expires_soon_three_days_before(
    db: Database,
) -> None:
    code = await closed_va(db, 1, timedelta(days=30))
    until = NOW + timedelta(days=30)
    forever = await add_code(db, SELLER)

    assert WARNING_LEAD.days == 3
    assert not expires_soon(code, until - timedelta(days=3, seconds=1))
    assert expires_soon(code, until - timedelta(days=3))
    assert renewable(code, until - timedelta(days=3))
    assert not is_expired(code, until - timedelta(seconds=1))
    assert is_expired(code, until) and expires_soon(code, until) and renewable(code, until)
    never = NOW + timedelta(days=10_000)
    assert not (is_expired(forever, never) or expires_soon(forever, never))
    assert not renewable(forever, never)


async def test_the_warning_names_the_code_and_its_end_in_the_sellers_zone(db: Database) -> None:
    code = await closed_va(db, 1, timedelta(days=2))  # NOW + 2 days = 26/11/2026 14:00 WIB

    english = render_warning(code, "en", WIB, NOW)
    indonesian = render_warning(code, "id", ZoneInfo("Asia/Jayapura"), NOW)
    expired = render_warning(code, "en", WIB, NOW + timedelta(days=2))

    assert english.startswith(
        "⏳ The fixed-amount VA BCA for <b>Buyer 1</b> (Rp 50.000) is valid until "
        "<b>26/11/2026 14:00 WIB</b>."
    )
    assert "<code>12341</code>" in english
    assert "berlaku sampai <b>26/11/2026 16:00 WIT</b>" in indonesian
    assert expired.startswith("⌛ The fixed-amount VA BCA for <b>Buyer 1</b> (Rp 50.000) expired")


async def test_each_expiring_code_is_warned_once_with_a_renew_button(db: Database) -> None:
    soon = await closed_va(db, 1, timedelta(days=2))
    gone = await closed_va(db, 2, timedelta(hours=-1))  # the bot was down when it expired
    later = await closed_va(db, 3, timedelta(days=10))
    await closed_va(db, 4, None)  # an open VA never expires
    retired = await closed_va(db, 5, timedelta(days=1))
    async with db.write() as tx:
        await tx.codes.deactivate(retired.id, now=NOW)
    wakes = Wakes()
    db.add_outbox_listener(wakes)
    watch = ExpiryWatch(db, interval=60)

    assert await watch.queue_due(NOW) == 2
    assert await watch.queue_due(NOW) == 0  # looked again: nothing twice
    assert wakes.count == 1

    queued = await warnings(db)
    assert set(queued) == {f"expiry:{soon.id}", f"expiry:{gone.id}"}
    assert "valid until" in queued[f"expiry:{soon.id}"].text
    assert "expired on" in queued[f"expiry:{gone.id}"].text
    [button] = queued[f"expiry:{soon.id}"].buttons
    assert (button.text, button.data) == ("🔁 Make a new code", f"code:{soon.id}:renew")

    # A week later the next one is due, and only it.
    assert await watch.queue_due(NOW + timedelta(days=7, seconds=1)) == 1
    assert set(await warnings(db)) == {f"expiry:{c.id}" for c in (soon, gone, later)}


async def test_a_look_that_finds_nothing_takes_no_turn_at_the_writer(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await closed_va(db, 1, timedelta(days=10))

    def no_writes(self: Database) -> None:
        raise AssertionError("a look with nothing due opened a write transaction")

    monkeypatch.setattr(Database, "write", no_writes)
    assert await ExpiryWatch(db, interval=60).queue_due(NOW) == 0


async def test_many_due_warnings_are_all_queued_in_batches(db: Database) -> None:
    codes = [await closed_va(db, suffix, timedelta(days=1)) for suffix in range(1, 131)]

    assert await ExpiryWatch(db, interval=60).queue_due(NOW) == len(codes)
    assert len(await warnings(db)) == len(codes)


async def test_the_watch_looks_when_it_starts_and_then_every_interval(db: Database) -> None:
    await closed_va(db, 1, timedelta(days=1))
    watch = ExpiryWatch(db, interval=0.05)
    watch.start()
    try:
        assert watch.running
        await wait_for(lambda: _count(db, 1), timeout=5, what="the first warning")
        # A code that becomes due while the watch runs is found at its next look.
        await closed_va(db, 2, timedelta(days=1))
        await wait_for(lambda: _count(db, 2), timeout=5, what="the second warning")
    finally:
        await watch.stop()
    assert not watch.running


async def _count(db: Database, expected: int) -> bool:
    return len(await warnings(db)) == expected


async def test_the_relay_sends_the_warning_with_its_button(db: Database) -> None:
    code = await closed_va(db, 1, timedelta(days=2))
    await add_seller(db, 1000, role=Role.OPERATOR)
    telegram = FakeTelegram(token=BOT_TOKEN, flood=None)
    async with (
        serving(telegram.app) as server,
        ExtBot(BOT_TOKEN, base_url=f"{server.url}/bot", rate_limiter=Sender()) as bot,
    ):
        relay = Relay(db, bot, (1000,))
        await relay.start()
        try:
            await ExpiryWatch(db, interval=60).queue_due(NOW)
            await wait_for(lambda: _sent(db), timeout=10, what="the warning to be sent")
        finally:
            await relay.stop()
            await telegram.aclose()

    [message] = telegram.sent_messages(SELLER)
    assert "valid until" in (message.text or "")
    assert [(b["text"], b["callback_data"]) for b in message.buttons()] == [
        ("🔁 Make a new code", f"code:{code.id}:renew")
    ]


async def _sent(db: Database) -> bool:
    return await db.outbox.count(OutboxStatus.SENT) == 1
