"""Benchmark 3: a burst of 300 payments on one seller's codes within 10 s, under Telegram's limits.

The whole bot (``bot.app.Runtime``) runs against the fake Bot API enforcing Telegram's flood
limits (``TELEGRAM_LIMITS``: about 1 message a second per chat, 30 overall; a 429 beyond) and
the Pivot simulator. Each run, a new seller's 10 codes receive 300 callbacks evenly spread over
``--seconds``, each with its own amount, so every message can be read back payment by payment:
a single payment message names its amount, a combined one lists one line per payment. A payment
is lost if no message lists it, doubled if two do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections import Counter

import httpx

from bench._common import Outcome, Row, bench_main, median, say
from bench._common import spread as spread_of
from bench._payments import (
    amounts_listed,
    bot_for_bench,
    pay_at_simulator,
    post_payment,
    sent_messages,
    simulator_code,
)
from bot.amounts import format_rupiah
from storage import CodeKind
from tests.standins import BotEnv, add_seller, wait_for

WHAT = "burst: 300 payments on one seller's codes within 10 s"
FIRST_SELLER = 30_000
CODES = 10
REPORT_TARGET_SECONDS = 15.0


class Run:
    """What one burst did."""

    def __init__(self) -> None:
        self.seconds = 0.0  # first callback posted → last payment reported
        self.messages = 0
        self.lost = 0
        self.doubled = 0
        self.floods = 0  # 429s the fake answered


async def burst(env: BotEnv, http: httpx.AsyncClient, run: int, args: argparse.Namespace) -> Run:
    """Post the burst and read back every message the seller got."""
    seller = FIRST_SELLER + run
    await add_seller(env.services.db, seller, language="en")
    codes = [
        await simulator_code(env, seller, kind=CodeKind.VA, customer=f"B{n}") for n in range(CODES)
    ]
    amounts = {format_rupiah(10_001 + number) for number in range(args.payments)}
    floods = env.telegram.flood_429_count
    loop = asyncio.get_running_loop()
    interval = args.seconds / args.payments
    first = time.monotonic()
    start = loop.time()
    posts = []
    for number in range(args.payments):
        await asyncio.sleep(max(0.0, start + number * interval - loop.time()))
        charge_id = pay_at_simulator(env, codes[number % CODES], 10_001 + number)
        posts.append(asyncio.create_task(post_payment(http, env, charge_id)))
    await asyncio.gather(*posts)

    def listed() -> Counter[str]:
        return Counter(
            amount for call in sent_messages(env, seller) for amount in amounts_listed(call)
        )

    # Waits past the target, so that a miss is measured rather than cut off; what is still
    # missing after that counts as lost.
    with contextlib.suppress(AssertionError):
        await wait_for(
            lambda: set(listed()) >= amounts,
            timeout=REPORT_TARGET_SECONDS * 3,
            interval=0.05,
            what="every payment reported",
        )
    result = Run()
    calls = sent_messages(env, seller)
    result.seconds = max((call.at for call in calls), default=first) - first
    result.messages = len(calls)
    counts = listed()
    result.lost = sum(1 for amount in amounts if amount not in counts)
    result.doubled = sum(count - 1 for count in counts.values() if count > 1)
    result.floods = env.telegram.flood_429_count - floods

    async def drained() -> bool:
        return await env.services.db.outbox.pending_count() == 0

    await wait_for(drained, timeout=30, what="the outbox to drain before the next run")
    return result


async def measure(args: argparse.Namespace) -> Outcome:
    """Several bursts through one running bot, each on a new seller."""
    say(f"burst: {args.runs} runs of {args.payments} payments within {args.seconds:.0f} s")
    runs: list[Run] = []
    async with (
        bot_for_bench(flood_control=True) as env,
        httpx.AsyncClient(trust_env=False) as http,
    ):
        for number in range(args.runs):
            found = await burst(env, http, number, args)
            runs.append(found)
            say(
                f"  run {number}: all reported {found.seconds:.1f} s after the first callback,"
                f" in {found.messages} messages; {found.floods} 429s, {found.lost} lost,"
                f" {found.doubled} doubled"
            )
    seconds = [found.seconds for found in runs]
    floods = sum(found.floods for found in runs)
    lost = sum(found.lost for found in runs)
    doubled = sum(found.doubled for found in runs)
    slowest = max(seconds)
    rows = [
        Row(
            WHAT,
            "all reported, from the first callback",
            f"≤ {REPORT_TARGET_SECONDS:.0f} s",
            f"{median(seconds):.1f} s (slowest {slowest:.1f} s)",
            spread_of(seconds, " s"),
            slowest <= REPORT_TARGET_SECONDS,
        ),
        Row(WHAT, "Telegram 429s received", "0", str(floods), f"{len(runs)} runs", floods == 0),
        Row(WHAT, "payments lost", "0", str(lost), f"{len(runs)} runs", lost == 0),
        Row(WHAT, "payments doubled", "0", str(doubled), f"{len(runs)} runs", doubled == 0),
        Row(
            WHAT,
            "messages the seller got",
            "-",
            f"{median([found.messages for found in runs]):.0f}",
            f"{len(runs)} runs",
            None,
        ),
    ]
    return Outcome(
        rows,
        f"burst: all {args.payments} reported in {median(seconds):.1f} s (slowest"
        f" {slowest:.1f} s), {floods} 429s, {lost} lost, {doubled} doubled",
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0, help="the burst's length")


if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__ or "", measure, _arguments))
