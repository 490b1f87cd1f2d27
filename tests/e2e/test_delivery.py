"""Nothing the bot sends is lost: the real bot, flood control on, Telegram failing on purpose.

Each test runs the bot as ``kodebayar run`` does, with the production ``Sender``, against the
fake Bot API with Telegram's flood limits and the Pivot simulator, over loopback.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.alerts import alert_operators
from bot.clock import utcnow
from bot.texts import text
from storage import OutboxStatus, SellerStatus
from tests.standins import (
    ADMIN_ID,
    CALLBACK_KEY,
    SELLER,
    BotEnv,
    FakeUser,
    SentMessage,
    is_card,
    new_seller,
    running_bot,
    wait_for,
)


@pytest.fixture
async def env(bot_home: Path | str) -> AsyncIterator[BotEnv]:
    async with running_bot(bot_home, flood_control=True) as running:
        yield running


def cards(user: FakeUser) -> list[SentMessage]:
    return [message for message in user.fake.sent_messages(user.chat_id) if is_card(message)]


def payments(env: BotEnv) -> list[str]:
    """The texts of the payment messages the seller got, one or several payments each."""
    return [
        message.text or ""
        for message in env.telegram.sent_messages(SELLER)
        if (message.text or "").startswith("💰")
    ]


async def test_three_new_commands_in_one_second_each_get_their_card_once(env: BotEnv) -> None:
    user = await new_seller(env)
    mark = env.telegram.mark()
    for command in ("/new qris 25rb Bu Ani", "/new va bca 50rb Pak Budi", "/new qris Cici"):
        await user.send(command)

    await wait_for(lambda: len(cards(user)) == 3, timeout=20, what="three cards")
    done = text("id", "new.done")
    await wait_for(
        lambda: [e.text for e in env.telegram.edits(SELLER) if e.text == done] == [done] * 3,
        timeout=10,
        what="three 'ready' lines",
    )
    names = ("Bu Ani", "Pak Budi", "Cici")
    customers = sorted(name for card in cards(user) for name in names if name in (card.text or ""))
    assert customers == ["Bu Ani", "Cici", "Pak Budi"]
    assert len(await env.codes_of(SELLER)) == 3
    assert env.telegram.flood_429_count == 0
    assert all(call.seq > mark for call in env.telegram.calls_to("sendPhoto"))


async def test_a_card_telegram_refuses_several_times_arrives_exactly_once(env: BotEnv) -> None:
    user = await new_seller(env)
    env.telegram.fail_next("sendPhoto", count=2, status=429, retry_after=1)
    env.telegram.fail_next("sendPhoto", count=2, status=502)
    await user.send("/new qris Bu Ani")

    await wait_for(lambda: len(cards(user)) == 1, timeout=20, what="the card")
    await env.services.relay.stop()  # nothing else may still be on its way
    assert len(cards(user)) == 1
    assert len(env.telegram.calls_to("sendPhoto")) == 5


async def test_a_card_that_cannot_be_delivered_is_in_codes_and_the_seller_is_told(
    env: BotEnv,
) -> None:
    user = await new_seller(env)
    env.telegram.fail_next("sendPhoto", count=100, status=500)  # Telegram broken for photos
    await user.send("/new qris Bu Ani")
    await wait_for(
        lambda: env.services.relay.holds(SELLER), timeout=20, what="the card to be given up"
    )
    assert cards(user) == []
    [code] = await env.codes_of(SELLER)
    assert code.customer == "Bu Ani"
    # Only the note waits for the seller: their payments still go out at once.
    await env.pay(code, 25_000)
    await wait_for(lambda: len(payments(env)) == 1, timeout=10, what="the payment message")
    seller = await env.services.db.sellers.get(SELLER)
    assert seller is not None and seller.status is SellerStatus.ACTIVE

    mark = env.telegram.mark()
    await user.send("/codes")
    notice = await user.next_message(
        lambda m: "Bu Ani" in (m.text or "") and "/codes" in (m.text or ""), after=mark
    )
    assert notice.text == text("id", "card.undelivered", customer="Bu Ani")
    title = text("id", "codes.title", page=1, pages=1)
    listing = await user.next_message(lambda m: title in (m.text or ""), after=mark)
    assert "Bu Ani" in (listing.text or "")


async def test_a_seller_who_blocked_the_bot_gets_every_payment_when_back(env: BotEnv) -> None:
    user = await new_seller(env)
    await user.send("/new qris Bu Ani")
    await wait_for(lambda: len(cards(user)) == 1, timeout=10, what="the card")
    [code] = await env.codes_of(SELLER)

    env.telegram.block_chat(SELLER)
    for amount in (10_000, 20_000, 30_000):
        await env.pay(code, amount)
    await wait_for(
        lambda: any("memblokir" in (m.text or "") for m in env.telegram.sent_messages(ADMIN_ID)),
        timeout=10,
        what="the operators to be told",
    )
    await wait_for(_held(env, 3), timeout=10, what="three held payment messages")
    seller = await env.services.db.sellers.get(SELLER)
    assert seller is not None and seller.status is SellerStatus.BLOCKED
    assert payments(env) == []

    env.telegram.unblock_chat(SELLER)
    await user.send("/today")
    await wait_for(lambda: len(payments(env)) == 1, timeout=10, what="the held payments")
    [combined] = payments(env)
    assert "3 pembayaran" in combined and "Rp 60.000" in combined
    seller = await env.services.db.sellers.get(SELLER)
    assert seller is not None and seller.status is SellerStatus.ACTIVE


def _held(env: BotEnv, rows: int):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return await env.services.db.outbox.count(OutboxStatus.HELD) == rows

    return check


async def test_a_payment_message_that_cannot_be_rendered_is_set_aside_and_the_rest_go_out(
    env: BotEnv,
) -> None:
    user = await new_seller(env)
    await user.send("/new qris Bu Ani")
    await wait_for(lambda: len(cards(user)) == 1, timeout=10, what="the card")
    [code] = await env.codes_of(SELLER)
    assert code.pivot_session_id is not None

    far = env.simulator.record_charge(code.pivot_session_id, 15_000, deliver=False)
    body = json.loads(env.simulator.callback_body(far.id))
    for charge in body["data"]["chargeDetails"]:
        charge["paidAt"] = "9999-12-31T23:00:00Z"  # past year 9999 in WIB
    async with httpx.AsyncClient() as http:
        response = await http.post(
            env.callback_url, json=body, headers={"X-API-Key": CALLBACK_KEY}
        )
    assert response.status_code == 200
    await env.pay(code, 25_000)

    await wait_for(lambda: len(payments(env)) == 1, timeout=10, what="the good payment")
    assert "Rp 25.000" in payments(env)[0]
    await wait_for(
        lambda: any("disisihkan" in (m.text or "") for m in env.telegram.sent_messages(ADMIN_ID)),
        timeout=10,
        what="the operators to be told",
    )
    [summary] = await env.services.db.codes.list_for_seller(SELLER, offset=0, limit=10)
    assert summary.payment_count == 2  # both charges recorded, the odd one too
    health = await env.runtime.health()
    assert health[1]["relay"] == "running"
    assert await asyncio.wait_for(env.services.db.outbox.count(OutboxStatus.FAILED), 5) == 1


async def test_a_chat_waiting_out_telegrams_limit_does_not_hold_other_sellers(env: BotEnv) -> None:
    first = await new_seller(env)
    other = await new_seller(env, 2002, "Budi")
    env.telegram.fail_next("sendMessage", status=429, retry_after=5)
    mark = env.telegram.mark()
    await first.send("/help")  # its answer waits five seconds in the sending path
    await env.telegram.wait_for_call("sendMessage", after=mark)
    await other.send("/help")

    await other.next_message(after=mark, timeout=3)
    assert first.fake.sent_messages(SELLER)[-1].seq < mark  # still waiting
    await first.next_message(after=mark, timeout=10)


async def test_an_alert_queued_by_code_that_never_wakes_the_relay_reaches_the_operator(
    env: BotEnv,
) -> None:
    """A feature that queues a message only writes it: the commit wakes delivery."""

    async def alert(inbox_id: int) -> str:
        mark = env.telegram.mark()
        async with env.services.db.write() as tx:
            await alert_operators(
                tx,
                env.settings.admin_telegram_ids,
                "alert.dead_letter",
                dedupe=f"no-wake-{inbox_id}",
                now=utcnow(),
                inbox_id=inbox_id,
                reason="written by a feature that never calls wake",
            )
        return (await env.telegram.wait_for_message(ADMIN_ID, after=mark, timeout=10)).text or ""

    assert "#41" in await alert(41)
    assert "#42" in await alert(42)  # the relay was idle, with nothing due, when it was queued
