"""The one sending path against the fake Bot API, flood control on, over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ExtBot

from bot.sending import Sender
from tests.standins import BOT_TOKEN, TELEGRAM_LIMITS, FakeTelegram, serving

CHAT = 2000


class Setup:
    def __init__(self, telegram: FakeTelegram, bot: ExtBot[Any], sender: Sender) -> None:
        self.telegram, self.bot, self.sender = telegram, bot, sender


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    telegram = FakeTelegram(token=BOT_TOKEN, flood=TELEGRAM_LIMITS)
    sender = Sender(base_backoff=0.02, max_retry_after=5)
    async with (
        serving(telegram.app) as server,
        ExtBot(BOT_TOKEN, base_url=f"{server.url}/bot", rate_limiter=sender) as bot,
    ):
        yield Setup(telegram, bot, sender)
        await telegram.aclose()


def texts(telegram: FakeTelegram, chat_id: int) -> list[str]:
    return [message.text or "" for message in telegram.sent_messages(chat_id)]


async def test_a_burst_to_one_chat_arrives_whole_in_order_without_a_429(setup: Setup) -> None:
    """Three commands answered in one second, twice over: Telegram's per-chat limit is hit."""
    await asyncio.gather(*(setup.bot.send_message(CHAT, f"reply {n}") for n in range(6)))

    assert texts(setup.telegram, CHAT) == [f"reply {n}" for n in range(6)]
    assert setup.telegram.flood_429_count == 0
    sent = [call.at for call in setup.telegram.calls_to("sendMessage")]
    # Paced: after the burst, about one a second (the fake's clock is the monotonic clock).
    assert sent[-1] - sent[0] >= 3.5


async def test_many_chats_at_once_stay_under_the_overall_limit(setup: Setup) -> None:
    chats = range(10_000, 10_060)
    await asyncio.gather(*(setup.bot.send_message(chat, "hello") for chat in chats))

    assert all(texts(setup.telegram, chat) == ["hello"] for chat in chats)
    assert setup.telegram.flood_429_count == 0


async def test_retry_after_is_waited_out_and_the_message_goes_once(setup: Setup) -> None:
    setup.telegram.fail_next("sendMessage", count=2, status=429, retry_after=1)

    await setup.bot.send_message(CHAT, "card")

    assert texts(setup.telegram, CHAT) == ["card"]
    assert setup.sender.retried_after == 2


async def test_a_chat_waiting_out_retry_after_does_not_hold_other_chats(setup: Setup) -> None:
    setup.telegram.fail_next("sendMessage", status=429, retry_after=3)
    slow = asyncio.create_task(setup.bot.send_message(CHAT, "first"))
    await setup.telegram.wait_for_call("sendMessage")
    await setup.bot.send_message(CHAT + 1, "other chat")

    assert not slow.done()  # still waiting its three seconds
    await slow
    assert texts(setup.telegram, CHAT) == ["first"]


async def test_order_within_a_chat_holds_through_a_retry(setup: Setup) -> None:
    setup.telegram.fail_next("sendMessage", count=2, status=502)
    await asyncio.gather(*(setup.bot.send_message(CHAT, f"m{n}") for n in range(3)))

    assert texts(setup.telegram, CHAT) == ["m0", "m1", "m2"]


async def test_server_errors_are_retried_with_backoff_then_raised(setup: Setup) -> None:
    setup.telegram.fail_next("sendMessage", count=3, status=500)
    await setup.bot.send_message(CHAT, "after three 500s")
    assert texts(setup.telegram, CHAT) == ["after three 500s"]

    setup.telegram.fail_next("sendMessage", count=10, status=500)
    with pytest.raises(NetworkError):
        await setup.bot.send_message(CHAT, "never")
    assert len(setup.telegram.calls_to("sendMessage")) == 4 + 5  # 1 + 4 retries each time


async def test_a_long_retry_after_is_raised_to_the_caller(setup: Setup) -> None:
    setup.telegram.fail_next("sendMessage", status=429, retry_after=60)
    with pytest.raises(RetryAfter):
        await setup.bot.send_message(CHAT, "not now")
    assert len(setup.telegram.calls_to("sendMessage")) == 1


async def test_refusals_that_sending_again_cannot_fix_are_raised_at_once(setup: Setup) -> None:
    setup.telegram.block_chat(CHAT)
    with pytest.raises(Forbidden):
        await setup.bot.send_message(CHAT, "blocked")
    with pytest.raises(BadRequest):
        await setup.bot.send_message(CHAT + 1, "<b>unclosed", parse_mode="HTML")

    assert len(setup.telegram.calls_to("sendMessage")) == 2
