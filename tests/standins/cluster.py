"""Bot processes on one PostgreSQL database behind the shipped nginx config, a seller paid on
them, and the leader killed with SIGKILL: what the failover test and ``bench.postgres`` share.

The proxy always has the shipped config's two replicas; ``started`` says how many of them run
at first (one, for a restart of a single process to compare a failover against).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pivot_client.simulator import Simulator
from storage import Database, OutboxStatus
from tests.standins.botapi.fake import FakeTelegram
from tests.standins.botapi.records import SentMessage
from tests.standins.harness import WEBHOOK_SECRET, simulator_codes, stand_ins
from tests.standins.process import BotProcess, bot_environment
from tests.standins.proxy import running_proxy
from tests.standins.records import add_seller
from tests.standins.servers import free_port, wait_for

CODES = 3

# Payment messages start with the money bag; one payment: its title, several: a line each.
_PAYMENT_MARK = "💰"
_AMOUNT = re.compile(r"Pembayaran masuk: Rp ([\d.]+)|^• \S+ · <b>Rp ([\d.]+)</b>", re.MULTILINE)


def payment_amounts(text: str | None) -> list[int]:
    """The payments a message reports (none for any other message)."""
    if not (text or "").startswith(_PAYMENT_MARK):
        return []
    return [int((one or line).replace(".", "")) for one, line in _AMOUNT.findall(text or "")]


@dataclass(frozen=True)
class Kill:
    """A process killed with SIGKILL: when (``time.monotonic``, the fake Bot API's clock), the
    outbox rows claimed for sending at that moment, and the payments told by then."""

    at: float
    in_flight: int
    told: int


@dataclass
class Cluster:
    """Bot processes on one PostgreSQL database behind the shipped nginx config."""

    telegram: FakeTelegram
    simulator: Simulator
    db: Database
    seller: int
    processes: list[BotProcess]
    urls: list[str]
    sessions: list[str]
    environments: list[dict[str, str]]
    folder: Path

    def told(self) -> list[int]:
        """Every payment amount the seller was told about, repeats included."""
        return [
            amount
            for message in self.telegram.sent_messages(self.seller)
            for amount in payment_amounts(message.text)
        ]

    def spread(self) -> list[int]:
        """How many charges each process recorded from the callbacks nginx gave it."""
        return [process.output.count(" recorded on code ") for process in self.processes]

    async def pay(self, amounts: list[int], *, every: float = 0.05) -> None:
        """Buyers paying one amount ``every`` seconds, on the seller's codes in turn."""
        for number, amount in enumerate(amounts):
            self.simulator.record_charge(self.sessions[number % len(self.sessions)], amount)
            await asyncio.sleep(every)  # the buyers' schedule, not a wait for the bot

    async def start(self, index: int) -> None:
        """Start process ``index`` (again, as a new process, if it ran before)."""
        self.processes[index] = BotProcess(self.environments[index], self.folder)
        await self.processes[index].start()

    async def wait_for_role(self, index: int, role: str, *, timeout: float = 20) -> None:
        """Wait until process ``index`` is ready in ``role`` (``/healthz``)."""
        process, url = self.processes[index], self.urls[index]
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

    async def kill_mid_burst(self, index: int, payments: int) -> Kill:
        """SIGKILL process ``index`` once half of ``payments`` are recorded and some told (not
        at a message's arrival, which would be the crash window itself every time)."""

        async def mid_burst() -> bool:
            return bool(self.told()) and await self.db.charges.count() >= payments // 2

        await wait_for(mid_burst, timeout=30, what="half the burst recorded")
        process = self.processes[index]
        at = time.monotonic()
        await process.signal(signal.SIGKILL)
        in_flight = await self.db.outbox.count(OutboxStatus.SENDING)
        code = await process.wait()
        if code != -signal.SIGKILL:
            raise AssertionError(f"the killed process exited with {code}:\n{process.output}")
        return Kill(at, in_flight, len(set(self.told())))

    def payment_messages(self) -> list[tuple[float, SentMessage]]:
        """The seller's payment messages with when Telegram received each, in order."""
        arrived = {call.seq: call.at for call in self.telegram.calls}
        return [
            (arrived[message.seq], message)
            for message in self.telegram.sent_messages(self.seller)
            if payment_amounts(message.text)
        ]

    def next_payment_after(self, moment: float) -> float:
        """Seconds from ``moment`` to the first payment message Telegram received after it."""
        return min(at for at, _ in self.payment_messages() if at > moment) - moment

    def last_payment_before(self, moment: float) -> SentMessage:
        """The last payment message Telegram received before ``moment``."""
        return [message for at, message in self.payment_messages() if at < moment][-1]

    async def drained(self) -> bool:
        """Whether no outbox row waits or is being sent."""
        return await self.db.outbox.pending_count() == 0

    async def everything_told(self, expected: list[int]) -> None:
        """Wait until every amount in ``expected`` was told and the outbox drained; fail
        after a minute for each."""
        await wait_for(
            lambda: set(self.told()) >= set(expected),
            timeout=60,
            interval=0.1,
            what="every payment told",
        )
        await wait_for(self.drained, timeout=60, what="the outbox drained")


@contextlib.asynccontextmanager
async def running_cluster(
    folder: Path,
    database_url: str,
    *,
    seller: int,
    webhook: bool = False,
    started: int = 2,
    simulator_config: Mapping[str, Any] | None = None,
) -> AsyncIterator[Cluster]:
    """The first process leading, the next (if ``started`` is 2) following, the seller with
    their QRIS codes; Pivot's callbacks (and Telegram's updates, with ``webhook``) reach them
    through nginx. ``simulator_config`` as ``stand_ins`` takes it."""
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    async with (
        running_proxy(ports, folder / "nginx") as proxy,
        stand_ins(proxy.port, simulator_config=simulator_config) as served,
        await Database.open(database_url) as db,
    ):
        telegram, telegram_url, simulator, pivot_url = served
        hook = (
            {
                "TELEGRAM_WEBHOOK_URL": f"{proxy.url}/telegram/webhook",
                "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
            if webhook
            else {}
        )
        environments = [
            bot_environment(
                database=database_url,
                telegram_url=telegram_url,
                pivot_url=pivot_url,
                http_port=port,
                **hook,
            )
            for port in ports
        ]
        processes = [BotProcess(variables, folder) for variables in environments]
        cluster = Cluster(
            telegram, simulator, db, seller, processes, urls, [], environments, folder
        )
        try:
            for index, role in enumerate(("leader", "follower")[:started]):
                await cluster.start(index)
                await cluster.wait_for_role(index, role)
            await add_seller(db, seller)
            cluster.sessions = await simulator_codes(
                db, seller, pivot_url, count=CODES, prefix="kbfail"
            )
            yield cluster
        finally:
            for process in cluster.processes:
                await process.aclose()
