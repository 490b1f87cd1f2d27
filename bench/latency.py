"""Benchmark 2: callback → sendMessage latency at a local fake Bot API, under light load.

The whole bot (``bot.app.Runtime``) runs against the fake Bot API without flood limits and the
Pivot simulator. One payment every ``--interval`` seconds is made at the simulator and its
callback posted to ``/pivot/callback``, round ``--sellers`` sellers, so a chat gets one payment
every few seconds and the relay never has to hold one back for pacing. Each payment is
confirmed with the simulator's API before it is announced, so that round trip is included.
Latency is from just before the callback's POST to the moment the fake received the
sendMessage naming that charge (``Call.at``, the same monotonic clock).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import Iterator

import httpx

from bench._common import Outcome, Row, bench_main, median, percentile, say
from bench._common import spread as spread_of
from bench._payments import (
    bot_for_bench,
    pay_at_simulator,
    post_payment,
    reference_of,
    sent_messages,
    simulator_code,
)
from storage import Code, CodeKind
from tests.standins import BotEnv, add_seller, wait_for

WHAT = "callback → sendMessage, light load"
FIRST_SELLER = 20_000


async def one_run(
    env: BotEnv,
    http: httpx.AsyncClient,
    codes: Iterator[Code],
    run: str,
    *,
    payments: int,
    interval: float,
) -> list[float]:
    """Latencies (seconds) of ``payments`` payments, one every ``interval`` seconds."""
    sent: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    start = loop.time()
    posts = []
    for number in range(payments):
        await asyncio.sleep(max(0.0, start + number * interval - loop.time()))
        charge_id = pay_at_simulator(env, next(codes), 25_000)
        sent[charge_id] = time.monotonic()
        posts.append(asyncio.create_task(post_payment(http, env, charge_id)))
    await asyncio.gather(*posts)

    def received() -> dict[str, float]:
        return {
            reference: call.at
            for call in sent_messages(env)
            if (reference := reference_of(call)) in sent
        }

    await wait_for(lambda: len(received()) == len(sent), timeout=30, what="every message")
    arrived = received()
    return [arrived[charge] - at for charge, at in sent.items()]


async def measure(args: argparse.Namespace) -> Outcome:
    """Several runs of paced payments through one running bot."""
    say(
        f"latency: {args.runs} runs of {args.payments} payments, one every"
        f" {args.interval * 1e3:.0f} ms over {args.sellers} chats"
    )
    p50s, p99s, pooled = [], [], []
    async with (
        bot_for_bench(flood_control=False) as env,
        httpx.AsyncClient(trust_env=False) as http,
    ):
        db = env.services.db
        codes: list[Code] = []
        for seller in range(FIRST_SELLER, FIRST_SELLER + args.sellers):
            await add_seller(db, seller, language="en")
            codes.append(await simulator_code(env, seller, kind=CodeKind.VA))
        # One round of the chats across all runs: a chat's next payment is always
        # sellers × interval later, so the relay's 1 s per chat never holds one back.
        chats = itertools.cycle(codes)
        # Connections and caches warm up on a few payments that are not counted.
        await one_run(env, http, chats, "warmup", payments=3, interval=args.interval)
        for run in range(args.runs):
            found = await one_run(
                env, http, chats, str(run), payments=args.payments, interval=args.interval
            )
            latencies = [seconds * 1e3 for seconds in found]
            pooled += latencies
            p50s.append(percentile(latencies, 50))
            p99s.append(percentile(latencies, 99))
            say(
                f"  run {run}: p50 {p50s[-1]:.1f} ms, p99 {p99s[-1]:.1f} ms,"
                f" max {max(latencies):.1f} ms"
            )
    p50, p99 = median(p50s), median(p99s)
    rows = [
        Row(WHAT, "p50", "≤ 100 ms", f"{p50:.1f} ms", spread_of(p50s, " ms"), p50 <= 100),
        Row(WHAT, "p99", "≤ 500 ms", f"{p99:.1f} ms", spread_of(p99s, " ms"), p99 <= 500),
        Row(
            WHAT,
            f"p99 of all {len(pooled)} payments pooled",
            "≤ 500 ms",
            f"{percentile(pooled, 99):.1f} ms (max {max(pooled):.1f} ms)",
            "-",
            percentile(pooled, 99) <= 500,
        ),
    ]
    return Outcome(rows, f"callback → sendMessage latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--payments", type=int, default=50, help="payments per run")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between payments")
    parser.add_argument("--sellers", type=int, default=10, help="chats the payments go round")


if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__ or "", measure, _arguments))
