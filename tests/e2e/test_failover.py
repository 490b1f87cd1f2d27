"""Two real bot processes on one PostgreSQL database behind nginx (the shipped
``deploy/nginx.conf``): the leader is killed with SIGKILL in the middle of a burst of payments,
and the follower takes over, by long polling or by the webhook.

Every payment must reach the seller, exactly once but for the crash window: the message
Telegram accepted just before the SIGKILL, before the dead leader could note it, goes out again
from the new leader. Repeats are counted and printed; each must be in the last message sent
before the kill (one chat has one message in flight at a time), and they are no more than the
rows the dead leader had claimed. A seller's guided ``/new``, half answered on the old leader,
is finished on the new one. The time from the SIGKILL to the next message Telegram receives is
printed (bench/ reports it).

Without a kill, the leader confirms and reports what either process recorded; a leader whose
lease session ends under it (terminated at the server) steps down and exits with code 3.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bot.leadership import EXIT_LEASE_LOST
from bot.texts import text
from pivot_client.simulator import Simulator
from storage import CodeKind, Database, OutboxStatus
from tests.standins import (
    BotProcess,
    FakeTelegram,
    PostgresServer,
    add_code,
    add_seller,
    bot_environment,
    card_after,
    free_port,
    qris_session,
    running_proxy,
    say,
    stand_ins,
    to_amount,
    wait_for,
)
from tests.standins.harness import WEBHOOK_SECRET

SELLER = 2001
PAYMENTS = 60
CODES = 3

# Payment messages start with the money bag; one payment: its title, several: a line each.
_PAYMENT_MARK = "💰"
_AMOUNT = re.compile(r"Pembayaran masuk: Rp ([\d.]+)|^• \S+ · <b>Rp ([\d.]+)</b>", re.MULTILINE)


@dataclass
class Cluster:
    """Two bot processes on one PostgreSQL database behind the shipped nginx config."""

    telegram: FakeTelegram
    simulator: Simulator
    db: Database
    processes: list[BotProcess]
    urls: list[str]
    sessions: list[str]

    def told(self) -> list[int]:
        """Every payment amount the seller was told about, repeats included."""
        return [
            amount
            for message in self.telegram.sent_messages(SELLER)
            for amount in _amounts_in(message.text)
        ]

    def spread(self) -> list[int]:
        """How many charges each process recorded from the callbacks nginx gave it."""
        return [process.output.count(" recorded on code ") for process in self.processes]


@contextlib.asynccontextmanager
async def _cluster(
    tmp_path: Path, database_url: str, *, webhook: bool = False
) -> AsyncIterator[Cluster]:
    """The first process leading, the second following, the seller with their codes; Pivot's
    callbacks (and Telegram's updates, with ``webhook``) reach them through nginx."""
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    async with (
        running_proxy(ports, tmp_path / "nginx") as proxy,
        stand_ins(proxy.port) as (telegram, telegram_url, simulator, pivot_url),
        await Database.open(database_url) as db,
    ):
        hook = (
            {
                "TELEGRAM_WEBHOOK_URL": f"{proxy.url}/telegram/webhook",
                "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
            if webhook
            else {}
        )
        processes = [
            BotProcess(
                bot_environment(
                    database=database_url,
                    telegram_url=telegram_url,
                    pivot_url=pivot_url,
                    http_port=port,
                    **hook,
                ),
                tmp_path,
            )
            for port in ports
        ]
        try:
            for process, url, role in zip(processes, urls, ("leader", "follower"), strict=True):
                await process.start()
                await _role(process, url, role)
            sessions = await _seller_with_codes(db, pivot_url)
            yield Cluster(telegram, simulator, db, processes, urls, sessions)
        finally:
            for process in processes:
                await process.aclose()


@pytest.mark.timeout(120)
async def test_payments_either_process_takes_are_confirmed_and_told_by_the_leader(
    tmp_path: Path, postgres_url: str
) -> None:
    async with _cluster(tmp_path, postgres_url) as cluster:
        expected = [20_000 + n for n in range(20)]
        await _pay(cluster.simulator, cluster.sessions, expected)
        # Well within the minute after which an unconfirmed payment goes out flagged.
        await wait_for(
            lambda: set(cluster.told()) >= set(expected),
            timeout=20,
            interval=0.1,
            what="every payment told",
        )
        messages = cluster.telegram.sent_messages(SELLER)

    assert sorted(cluster.told()) == expected
    assert all(cluster.spread())  # nginx gave both processes callbacks
    unconfirmed = text("id", "payment.title.unconfirmed", amount="").split("<b>")[0]
    assert not any(unconfirmed in (m.text or "") for m in messages)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_the_leader_killed_mid_burst_is_replaced_and_every_payment_is_told_once(
    tmp_path: Path, postgres_url: str, webhook: bool
) -> None:
    async with _cluster(tmp_path, postgres_url, webhook=webhook) as cluster:
        telegram, db = cluster.telegram, cluster.db
        leader, follower = cluster.processes
        seller = telegram.user(SELLER)
        asked = await to_amount(seller, "VA", "Bu Ani", "BCA")
        await wait_for(lambda: _asking_amount(db), timeout=5, what="/new kept")
        await wait_for(lambda: telegram.unconfirmed_updates == 0, what="updates taken")

        expected = [10_000 + n for n in range(PAYMENTS)]
        burst = asyncio.create_task(_pay(cluster.simulator, cluster.sessions, expected))
        # Mid-burst: half the callbacks recorded, some payments already told. Not at a
        # message's arrival, which would be the crash window itself every time.
        await wait_for(lambda: _mid_burst(cluster), timeout=30, what="half the burst recorded")
        killed_at = time.monotonic()
        await leader.signal(signal.SIGKILL)
        in_flight = await db.outbox.count(OutboxStatus.SENDING)
        assert await leader.wait() == -signal.SIGKILL
        told_at_kill = len(set(cluster.told()))
        await _role(follower, cluster.urls[1], "leader")
        took_over = time.monotonic() - killed_at
        await burst

        await wait_for(
            lambda: set(cluster.told()) >= set(expected),
            timeout=60,
            interval=0.1,
            what="every payment told",
        )
        await wait_for(lambda: _drained(db), timeout=60, what="the outbox drained")
        mark = telegram.mark()
        working = await say(seller, "25rb")
        card = await card_after(seller, mark)
        [summary] = await db.codes.list_for_seller(SELLER, offset=0, limit=1)

    told = Counter(cluster.told())
    repeated = {amount for amount, times in told.items() if times > 1}
    repeats = sum(times - 1 for times in told.values())
    arrived = {call.seq: call.at for call in telegram.calls}
    payments = [m for m in telegram.sent_messages(SELLER) if _amounts_in(m.text)]
    last_before = [m for m in payments if arrived[m.seq] < killed_at][-1]
    next_message = min(arrived[m.seq] for m in payments if arrived[m.seq] > killed_at) - killed_at
    print(
        f"\nfailover ({'webhook' if webhook else 'polling'}): {PAYMENTS} payments, "
        f"leader killed after {told_at_kill} were told, "
        f"{in_flight} messages claimed by it at the kill; the follower led "
        f"{took_over:.2f} s after the SIGKILL, the next message came {next_message:.2f} s "
        f"after it; {repeats} repeats from the crash window; callbacks per process "
        f"{cluster.spread()}"
    )
    assert sorted(told) == expected  # each one told
    assert all(times <= 2 for times in told.values())
    # Only the crash window: what Telegram took from the dead leader as it died.
    assert repeated <= set(_amounts_in(last_before.text))
    assert repeats <= in_flight
    assert all(cluster.spread())  # nginx gave both processes callbacks
    assert took_over < 5
    assert asked.text == text("id", "new.ask_amount.va")
    assert working.text == text("id", "new.working")
    assert "Bu Ani" in (card.text or "")
    code = summary.code
    assert (code.kind, code.bank, code.customer, code.amount) == (
        CodeKind.VA,
        "BCA",
        "Bu Ani",
        25_000,
    )
    assert "Traceback" not in follower.output


@pytest.mark.timeout(120)
async def test_a_leader_whose_lease_session_dies_steps_down_exits_3_and_another_leads(
    tmp_path: Path, postgres_server: PostgresServer, postgres_url: str
) -> None:
    async with _cluster(tmp_path, postgres_url) as cluster:
        leader, follower = cluster.processes
        # The lease's session ends under the leader (a network cut, an operator, a restart of
        # its connection): its process must stop leading at once.
        killed = postgres_server.end_lease_sessions(urlsplit(postgres_url).path.lstrip("/"))
        code = await leader.wait(timeout=20)
        await _role(follower, cluster.urls[1], "leader")
        expected = [30_000 + n for n in range(5)]
        await _pay(cluster.simulator, cluster.sessions, expected)
        await wait_for(
            lambda: set(cluster.told()) >= set(expected), timeout=20, what="every payment told"
        )

    assert killed == 1  # one session: the lease's
    assert code == EXIT_LEASE_LOST
    assert "lost the lease" in leader.output
    assert sorted(cluster.told()) == expected


async def _role(process: BotProcess, url: str, role: str, *, timeout: float = 20) -> None:
    """Wait until the process is ready in ``role``."""
    async with httpx.AsyncClient() as http:

        async def there() -> bool:
            if process.returncode is not None:
                raise AssertionError(f"the bot exited early:\n{process.output}")
            try:
                answer = await http.get(f"{url}/healthz")
            except httpx.TransportError:
                return False
            return answer.status_code == 200 and answer.json().get("role") == role

        await wait_for(there, timeout=timeout, interval=0.05, what=f"{url} to be {role}")


async def _seller_with_codes(db: Database, pivot_url: str) -> list[str]:
    """The seller and their QRIS codes, made at the simulator; the codes' session ids."""
    await add_seller(db, SELLER)
    sessions = []
    for number in range(CODES):
        reference = f"kbfail{number}"
        session = await qris_session(pivot_url, reference)
        await add_code(db, SELLER, session_id=session, client_reference_id=reference)
        sessions.append(session)
    return sessions


async def _asking_amount(db: Database) -> bool:
    """Whether the database has the seller's /new at the amount."""
    conversation = await db.bot_state.of_kind("conversation:new")
    state = conversation.get(f"[{SELLER},{SELLER}]")
    return state is not None and state.data == '"amount"'


async def _pay(simulator: Simulator, sessions: list[str], amounts: list[int]) -> None:
    """Buyers paying over about three seconds, each amount once."""
    for number, amount in enumerate(amounts):
        simulator.record_charge(sessions[number % len(sessions)], amount)
        await asyncio.sleep(0.05)  # the buyers' schedule, not a wait for the bot


def _amounts(telegram: FakeTelegram) -> list[int]:
    """Every payment amount the seller was told about, repeats included."""
    return [
        amount
        for message in telegram.sent_messages(SELLER)
        for amount in _amounts_in(message.text)
    ]


def _amounts_in(text: str | None) -> list[int]:
    """The payments a message reports (none for any other message)."""
    if not (text or "").startswith(_PAYMENT_MARK):
        return []
    return [int((one or line).replace(".", "")) for one, line in _AMOUNT.findall(text or "")]


async def _mid_burst(cluster: Cluster) -> bool:
    """Whether half the payments are recorded and some already told."""
    return bool(cluster.told()) and await cluster.db.charges.count() >= PAYMENTS // 2


async def _drained(db: Database) -> bool:
    """Whether no outbox row waits or is being sent."""
    return await db.outbox.pending_count() == 0
