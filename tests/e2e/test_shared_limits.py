"""What all sellers share: per-seller limits, the VA range warning, no suffix burnt for nothing.

The whole bot over loopback against the simulator (issue 11 §7, docs/money.md rule 14).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import day_bounds, format_datetime, utcnow
from bot.texts import text
from pivot_client.simulator import DEFAULT_VA_PREFIXES
from storage import CodeStatus
from tests.standins import (
    ADMIN_ID,
    SELLER,
    BotEnv,
    Edit,
    FakeUser,
    card_after,
    new_seller,
    say,
    settle,
)
from tests.standins import running_bot as running


async def refused_with(env: BotEnv, user: FakeUser, command: str, reply: str) -> Edit:
    """Send ``command``; the edit that turns the bot's "working" message into ``reply``."""
    mark = user.fake.mark()
    await say(user, command)
    return await env.telegram.wait_for_edit(SELLER, lambda edit: edit.text == reply, after=mark)


async def made(user: FakeUser, command: str) -> None:
    """Send ``command`` and wait for the code's card."""
    mark = user.fake.mark()
    await say(user, command)
    await card_after(user, mark)


async def test_past_the_daily_limit_the_seller_is_told_and_pivot_is_not_asked(
    bot_home: Path | str,
) -> None:
    async with running(bot_home, seller_codes_per_day=2) as env:
        user = await new_seller(env)
        await made(user, "/new qris Budi")
        await made(user, "/new va bca 25000 Ani")
        # Armed: a call to Pivot would take it (and the seller would hear Pivot is down).
        env.simulator.fail_next("POST", "/v2/payments", status=503)

        _, midnight = day_bounds(utcnow(), ZoneInfo("Asia/Jakarta"))
        reply = text(
            "id",
            "error.limit_codes_per_day",
            limit=2,
            resets=format_datetime(midnight, ZoneInfo("Asia/Jakarta")),
        )
        await refused_with(env, user, "/new va bri bebas Citra", reply)

        assert "/codes" in reply and "00:00 WIB" in reply
        assert env.simulator.take_failure("POST", "/v2/payments") is not None  # never taken
        assert len(env.simulator.sessions) == 2
        assert len(await env.codes_of(SELLER)) == 2


async def test_open_vas_are_limited_per_bank_and_the_seller_is_shown_the_way_out(
    bot_home: Path | str,
) -> None:
    async with running(bot_home, seller_open_va_per_bank=1) as env:
        user = await new_seller(env)
        await made(user, "/new va bca bebas Budi")

        reply = text("id", "error.limit_open_va", limit=1, bank="BCA")
        await refused_with(env, user, "/new va bca bebas Ani", reply)

        # What the reply offers instead works: a fixed amount, another bank, QRIS.
        await made(user, "/new va bca 25000 Ani")
        await made(user, "/new va bri bebas Ani")
        await made(user, "/new qris Ani")
        assert [code.bank for code in await env.codes_of(SELLER)] == [None, "BRI", "BCA", "BCA"]
        assert len(env.simulator.sessions) == 4


async def test_the_operator_hears_once_when_a_range_is_80_percent_used(
    bot_home: Path | str,
) -> None:
    async with running(bot_home, pivot_va_ranges="BNI=0000-0004") as env:
        user = await new_seller(env)
        mark = env.telegram.mark()
        for customer in ("A", "B", "C"):
            await made(user, f"/new va bni bebas {customer}")
        warning = text(
            "id", "alert.va_range_filling", used=4, capacity=5, bank="BNI", percent=80, free=1
        )

        await made(user, "/new va bni 25000 D")  # the fourth of five numbers
        await env.telegram.wait_for_message(ADMIN_ID, lambda m: m.text == warning, after=mark)
        await made(user, "/new va bni 30000 E")
        await settle(env)

        to_admin = [m.text for m in env.telegram.sent_messages(ADMIN_ID)[1:]]  # after /invite
        assert to_admin.count(warning) == 1
        assert [code.va_suffix for code in await env.codes_of(SELLER)] == [4, 3, 2, 1, 0]


async def test_a_number_pivot_refused_is_handed_out_again(
    bot_home: Path | str,
) -> None:
    # One number only: were the refused request to burn it, BNI would be used up.
    async with running(bot_home, pivot_va_ranges="BNI=0000-0000") as env:
        user = await new_seller(env)
        env.simulator.fail_next("POST", "/v2/payments", status=400)
        await refused_with(env, user, "/new va bni bebas Budi", text("id", "error.pivot_rejected"))

        await made(user, "/new va bni bebas Budi")

        refused, code = sorted(await env.codes_of(SELLER), key=lambda c: c.id)
        assert refused.status is CodeStatus.FAILED and refused.va_suffix is None
        assert code.status is CodeStatus.ACTIVE
        assert code.va_number == DEFAULT_VA_PREFIXES["BNI"] + "0000"
        assert len(env.simulator.sessions) == 1
