"""Benchmark: fan-out, 1,000 sellers receiving 3 payments each within 10 s.

The whole bot (``bot.app.Runtime``, with the production ``Sender``) runs against the fake Bot
API enforcing Telegram's flood limits (about 1 message a second per chat, 30 overall; a 429
beyond) and takes 3,000 callbacks, each seller's three at random moments of the 10 s. Telegram's
30 messages a second overall is then the bottleneck: 1,000 chats need at least 1,000 / 30 =
33.3 s however well messages are combined. That physical limit is the baseline; the figure is
the time from the first callback to the last payment message, as a ratio of it. Each payment
has its own amount, so every message is read back payment by payment: a payment is lost if no
message to its seller lists it, doubled if two do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections import Counter

import httpx

from bench._common import Outcome, Row, bench_main, say
from bench._payments import (
    amounts_listed,
    bot_for_bench,
    pay_at_simulator,
    post_payment,
    sent_messages,
    simulator_code,
)
from bot.amounts import format_rupiah
from storage import Code
from tests.standins import TELEGRAM_LIMITS, BotEnv, Call, add_seller, wait_for

WHAT = "fan-out: 1,000 sellers, 3 payments each within 10 s"
FIRST_SELLER = 40_000
TARGET_RATIO = 1.2
MAX_POSTS_IN_FLIGHT = 64


async def fan_out(env: BotEnv, http: httpx.AsyncClient, args: argparse.Namespace) -> Outcome:
    """Post every seller's payments at their random moments; read every message back."""
    rng = random.Random(args.seed)
    sellers = range(FIRST_SELLER, FIRST_SELLER + args.sellers)
    codes: dict[int, Code] = {}
    for seller in sellers:
        await add_seller(env.services.db, seller, language="en")
        codes[seller] = await simulator_code(env, seller, customer=f"B{seller}")
    schedule = sorted(
        (rng.uniform(0, args.seconds), seller) for seller in sellers for _ in range(args.each)
    )
    expected = {seller: set[str]() for seller in sellers}
    say(f"fan-out: {len(schedule)} payments to {args.sellers} sellers over {args.seconds:.0f} s")
    loop = asyncio.get_running_loop()
    start, first = loop.time(), time.monotonic()
    posts = []
    # Pivot posts over a bounded number of connections too. Thousands of requests queued in
    # one httpx pool cost it time quadratic in their number, on this process's event loop:
    # seconds-long stalls of the bot being measured, and callbacks timing out.
    in_flight = asyncio.Semaphore(MAX_POSTS_IN_FLIGHT)

    async def post(charge_id: str) -> None:
        async with in_flight:
            await post_payment(http, env, charge_id)

    for number, (moment, seller) in enumerate(schedule):
        amount = 10_001 + number
        expected[seller].add(format_rupiah(amount))
        await asyncio.sleep(max(0.0, start + moment - loop.time()))
        charge_id = pay_at_simulator(env, codes[seller], amount)
        posts.append(asyncio.create_task(post(charge_id)))
    await asyncio.gather(*posts)
    physical = args.sellers / TELEGRAM_LIMITS.global_per_second

    counts = {seller: Counter[str]() for seller in sellers}
    calls: list[Call] = []

    def tally() -> bool:
        """Read the messages sent since the last look; whether every payment is listed.

        Once over the messages, not once per seller: the check must not take the event loop
        (the bot's, in this same process) away from what it measures."""
        new = sent_messages(env)[len(calls) :]
        calls.extend(new)
        for call in new:
            seller = call.params.get("chat_id")
            if isinstance(seller, int) and seller in counts:
                counts[seller].update(amounts_listed(call))
        return all(set(counts[seller]) >= expected[seller] for seller in sellers)

    # Waits well past the target, so that a miss is measured rather than cut off.
    with contextlib.suppress(AssertionError):
        await wait_for(tally, timeout=physical * 3, interval=0.2, what="every payment reported")
    tally()
    calls = [call for call in calls if call.params.get("chat_id") in counts]
    seconds = max((call.at for call in calls), default=first) - first
    lost = sum(len(expected[seller] - set(counts[seller])) for seller in sellers)
    doubled = sum(n - 1 for seller in sellers for n in counts[seller].values() if n > 1)
    floods = env.telegram.flood_429_count
    ratio = seconds / physical
    say(
        f"  last message {seconds:.1f} s after the first callback ({ratio:.2f}x the"
        f" {physical:.1f} s physical limit), {len(calls)} messages, {floods} 429s,"
        f" {lost} lost, {doubled} doubled"
    )
    rows = [
        Row(
            WHAT,
            f"last message, as a ratio of {args.sellers:,} chats at 30/s",
            f"≤ {TARGET_RATIO}×",
            f"{ratio:.2f}× ({seconds:.1f} s vs {physical:.1f} s)",
            f"{len(calls)} messages",
            ratio <= TARGET_RATIO,
        ),
        Row(WHAT, "Telegram 429s received", "0", str(floods), "1 run", floods == 0),
        Row(WHAT, "payments lost", "0", str(lost), "1 run", lost == 0),
        Row(WHAT, "payments doubled", "0", str(doubled), "1 run", doubled == 0),
    ]
    return Outcome(
        rows,
        f"fan-out: {ratio:.2f}x the physical limit, {floods} 429s, {lost} lost, {doubled} doubled",
    )


async def measure(args: argparse.Namespace) -> Outcome:
    """One fan-out through a running bot with Telegram's flood control on."""
    async with (
        bot_for_bench(flood_control=True) as env,
        # Generous: a callback answered late still counts, as Pivot would wait for it too.
        httpx.AsyncClient(
            trust_env=False,
            timeout=30,
            limits=httpx.Limits(max_connections=MAX_POSTS_IN_FLIGHT),
        ) as http,
    ):
        return await fan_out(env, http, args)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sellers", type=int, default=1_000)
    parser.add_argument("--each", type=int, default=3, help="payments per seller")
    parser.add_argument("--seconds", type=float, default=10.0, help="over how long")
    parser.add_argument("--seed", type=int, default=20261129)


if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__ or "", measure, _arguments))
