"""Chaos: hundreds of payments while everything that can fail, fails; each is reported once.

The real ``kodebayar run`` process, against the fake Bot API (flood control on, random 429s,
5xx and time-outs, chats that block the bot and come back) and the Pivot simulator, while the
database is locked from outside at random moments and the process is killed with SIGKILL and
started again, twice. At the end every payment must have reached its seller exactly once. The
one allowed exception is the documented crash window: a message Telegram accepted just before
a SIGKILL, before the bot could note it, is sent again after the restart. Such repeats are
counted, printed, and each must straddle a kill.

Seeded (``CHAOS_SEED``) and bounded: about half a minute.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pivot_client import PivotClient
from pivot_client.simulator import SimulatorConfig, create_app
from storage import Database
from tests.standins import (
    BOT_TOKEN,
    CALLBACK_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    TELEGRAM_LIMITS,
    BotProcess,
    FakeTelegram,
    RandomFaults,
    add_code,
    add_seller,
    another_process_writing,
    bot_environment,
    free_port,
    serving,
    wait_for,
)

SEED = int(os.environ.get("CHAOS_SEED", "20261129"))
SELLERS = list(range(5001, 5031))
PAYMENTS = 300
BLOCKED = 3  # sellers who block the bot for a while, then write again
KILLS = 2

# Payment messages start with the money bag. One payment in a message: its title; several: one
# line each (bot/locales/id.py).
_PAYMENT_MARK = "💰"
_AMOUNT = re.compile(r"Pembayaran masuk: Rp ([\d.]+)|^• \S+ · <b>Rp ([\d.]+)</b>", re.MULTILINE)


@dataclass
class Chaos:
    """What the test did, for the checks at the end."""

    rng: random.Random
    start: float = field(default_factory=time.monotonic)
    kill_times: list[float] = field(default_factory=list)
    locks: int = 0

    async def at(self, moment: float) -> None:
        """Sleep until ``moment`` seconds after the start: a fault's schedule, not a wait."""
        await asyncio.sleep(max(0.0, self.start + moment - time.monotonic()))


@pytest.mark.timeout(180)  # about 25 s alone; room for a loaded machine
async def test_every_payment_reaches_its_seller_once_through_chaos(
    tmp_path: Path, database_target: Path | str
) -> None:
    rng = random.Random(SEED)
    port = free_port()
    database = database_target
    telegram = FakeTelegram(token=BOT_TOKEN, flood=TELEGRAM_LIMITS)
    telegram.random_faults = RandomFaults(
        SEED, too_many_requests=0.05, server_error=0.05, timeout=0.005
    )
    simulator_app = create_app(
        SimulatorConfig(
            callback_url=f"http://127.0.0.1:{port}/pivot/callback",
            callback_key=CALLBACK_KEY,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            callback_retry_delays=(0.3, 0.6, 1.0, 2.0, 3.0, 5.0, 8.0),
        )
    )
    simulator = simulator_app.state.simulator
    async with serving(telegram.app) as tg_server, serving(simulator_app) as pivot_server:
        sessions = await _sellers_with_a_code(database, pivot_server.url)
        variables = bot_environment(
            database=database,
            telegram_url=tg_server.url,
            pivot_url=pivot_server.url,
            http_port=port,
            RECONCILE_INTERVAL_SECONDS="5",
            LOG_LEVEL="WARNING",
        )
        bot = BotProcess(variables, tmp_path)
        await bot.start()
        await bot.wait_ready(f"http://127.0.0.1:{port}")
        expected: dict[int, list[int]] = {seller: [] for seller in SELLERS}
        blocked = rng.sample(SELLERS, BLOCKED)
        chaos = Chaos(rng)
        try:

            async def pay() -> None:
                for number in range(PAYMENTS):
                    seller = rng.choice(SELLERS)
                    amount = 10_000 + number  # unique: each payment is found by its amount
                    expected[seller].append(amount)
                    simulator.record_charge(sessions[seller], amount)
                    await asyncio.sleep(rng.uniform(0, 0.1))  # buyers paying over ~15 s

            async def kill_and_restart() -> None:
                nonlocal bot
                for moment in sorted(rng.uniform(2, 12) for _ in range(KILLS)):
                    await chaos.at(moment)
                    chaos.kill_times.append(time.monotonic())
                    await bot.signal(signal.SIGKILL)
                    await bot.wait()
                    bot = BotProcess(variables, tmp_path)
                    await bot.start()
                    await bot.wait_ready(f"http://127.0.0.1:{port}")

            async def lock_the_database() -> None:
                for moment in sorted(rng.uniform(1, 14) for _ in range(3)):
                    await chaos.at(moment)
                    async with another_process_writing(database):
                        await asyncio.sleep(rng.uniform(1.0, 6.5))  # the bot's wait is 5 s
                    chaos.locks += 1

            async def block_for_a_while() -> None:
                await chaos.at(1)
                for seller in blocked:
                    telegram.block_chat(seller)
                await chaos.at(15)
                for seller in blocked:
                    telegram.unblock_chat(seller)

            await asyncio.gather(
                pay(), kill_and_restart(), lock_the_database(), block_for_a_while()
            )
            for seller in blocked:  # back: whatever was held goes out
                await telegram.user(seller).send("/today")

            async with await Database.open(database) as db:
                try:
                    await wait_for(
                        lambda: _all_delivered(telegram, expected),
                        timeout=90,
                        interval=0.2,
                        what="every payment reported",
                    )
                except AssertionError as exc:
                    missing = await _missing(telegram, expected, db)
                    raise AssertionError(f"{exc}: {missing}") from None
                # Then nothing left to go: a repeat sent later by a retry would be counted too.
                await wait_for(
                    lambda: _drained(db), timeout=60, interval=0.2, what="the outbox drained"
                )
        finally:
            await bot.aclose()
            await telegram.aclose()

    reported = {seller: _amounts(telegram, seller) for seller in SELLERS}
    repeats = _repeats(telegram, reported, chaos.kill_times)
    print(
        f"\nchaos seed {SEED}: {PAYMENTS} payments, {len(SELLERS)} sellers, "
        f"{len(chaos.kill_times)} SIGKILLs, {chaos.locks} database locks, "
        f"Telegram faults {telegram.random_faults.drawn}, {telegram.flood_429_count} flood 429s, "
        f"{len(repeats)} repeats from the crash window"
    )
    for seller in SELLERS:
        assert sorted(set(reported[seller])) == sorted(expected[seller]), seller
    assert len(chaos.kill_times) == KILLS


async def _sellers_with_a_code(database: Path, pivot_url: str) -> dict[int, str]:
    """Each seller with one QRIS code made at the simulator; their session ids."""
    sessions: dict[int, str] = {}
    async with (
        await Database.open(database) as db,
        PivotClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=pivot_url) as pivot,
    ):
        for seller in SELLERS:
            await add_seller(db, seller)
            reference = f"kbchaos{seller}"
            session = await pivot.create_static_payment(client_reference_id=reference, method="QR")
            await add_code(db, seller, session_id=session.id, client_reference_id=reference)
            sessions[seller] = session.id
    return sessions


def _amounts(telegram: FakeTelegram, seller: int) -> list[int]:
    """Every payment amount the seller was told about, in order, repeats included."""
    return [
        amount
        for message in telegram.sent_messages(seller)
        for amount in _amounts_in(message.text or "")
    ]


def _all_delivered(telegram: FakeTelegram, expected: dict[int, list[int]]) -> bool:
    return all(
        set(_amounts(telegram, seller)) >= set(amounts) for seller, amounts in expected.items()
    )


async def _drained(db: Database) -> bool:
    """Whether every outbox row is sent or set aside."""
    left = await db._engine.reader.integer(
        "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending', 'held')"
    )
    return left == 0


async def _missing(telegram: FakeTelegram, expected: dict[int, list[int]], db: Database) -> str:
    """What became of each payment not reported: its charge and outbox rows, if any."""
    lines = []
    for seller, amounts in expected.items():
        for amount in sorted(set(amounts) - set(_amounts(telegram, seller))):
            charge = await db._engine.reader.row(
                "SELECT id, source FROM charges WHERE amount = ?", (amount,)
            )
            rows = await db._engine.reader.rows(
                "SELECT id, status, attempts, last_error FROM outbox WHERE chat_id = ?"
                " AND status != 'sent'",
                (seller,),
            )
            unsent = [tuple(row) for row in rows]
            found = None if charge is None else tuple(charge)
            lines.append(f"seller {seller} Rp {amount}: charge {found}, unsent {unsent}")
    return "\n".join(lines)


def _repeats(
    telegram: FakeTelegram, reported: dict[int, list[int]], kill_times: list[float]
) -> list[int]:
    """Payments told more than once; fails unless a SIGKILL fell between each message about it
    and the next (a restarted bot killed while it resends is a second crash window)."""
    repeats: list[int] = []
    at = {call.seq: call.at for call in telegram.calls}
    for seller, amounts in reported.items():
        for amount, times in Counter(amounts).items():
            if times == 1:
                continue
            told = [
                at[message.seq]
                for message in telegram.sent_messages(seller)
                if amount in _amounts_in(message.text or "")
            ]
            for earlier, later in itertools.pairwise(told):
                assert any(earlier < kill < later for kill in kill_times), (
                    f"Rp {amount} told {times} times, twice without a crash between"
                )
            repeats.extend([amount] * (times - 1))
    return repeats


def _amounts_in(text: str) -> list[int]:
    """The payments a payment message reports (any other message, /today's say, reports none)."""
    if not text.startswith(_PAYMENT_MARK):
        return []
    return [int((single or line).replace(".", "")) for single, line in _AMOUNT.findall(text)]
