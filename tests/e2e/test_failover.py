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
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.leadership import EXIT_LEASE_LOST
from bot.texts import text
from storage import CodeKind, Database
from tests.standins import (
    PostgresServer,
    card_after,
    payment_amounts,
    running_cluster,
    say,
    to_amount,
    wait_for,
)

SELLER = 2001
PAYMENTS = 60


@pytest.mark.timeout(120)
async def test_payments_either_process_takes_are_confirmed_and_told_by_the_leader(
    tmp_path: Path, postgres_url: str
) -> None:
    async with running_cluster(tmp_path, postgres_url, seller=SELLER) as cluster:
        expected = [20_000 + n for n in range(20)]
        await cluster.pay(expected)
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
    async with running_cluster(tmp_path, postgres_url, seller=SELLER, webhook=webhook) as cluster:
        telegram, db = cluster.telegram, cluster.db
        follower = cluster.processes[1]
        seller = telegram.user(SELLER)
        asked = await to_amount(seller, "VA", "Bu Ani", "BCA")
        await wait_for(lambda: _asking_amount(db), timeout=5, what="/new kept")
        await wait_for(lambda: telegram.unconfirmed_updates == 0, what="updates taken")

        expected = [10_000 + n for n in range(PAYMENTS)]
        burst = asyncio.create_task(cluster.pay(expected))
        kill = await cluster.kill_mid_burst(0, PAYMENTS)
        await cluster.wait_for_role(1, "leader")
        took_over = time.monotonic() - kill.at
        await burst

        await cluster.everything_told(expected)
        mark = telegram.mark()
        working = await say(seller, "25rb")
        card = await card_after(seller, mark)
        [summary] = await db.codes.list_for_seller(SELLER, offset=0, limit=1)

    told = Counter(cluster.told())
    repeated = {amount for amount, times in told.items() if times > 1}
    repeats = sum(times - 1 for times in told.values())
    last_before = cluster.last_payment_before(kill.at)
    next_message = cluster.next_payment_after(kill.at)
    print(
        f"\nfailover ({'webhook' if webhook else 'polling'}): {PAYMENTS} payments, "
        f"leader killed after {kill.told} were told, "
        f"{kill.in_flight} messages claimed by it at the kill; the follower led "
        f"{took_over:.2f} s after the SIGKILL, the next message came {next_message:.2f} s "
        f"after it; {repeats} repeats from the crash window; callbacks per process "
        f"{cluster.spread()}"
    )
    assert sorted(told) == expected  # each one told
    assert all(times <= 2 for times in told.values())
    # Only the crash window: what Telegram took from the dead leader as it died.
    assert repeated <= set(payment_amounts(last_before.text))
    assert repeats <= kill.in_flight
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
    async with running_cluster(tmp_path, postgres_url, seller=SELLER) as cluster:
        leader = cluster.processes[0]
        # The lease's session ends under the leader (a network cut, an operator, a restart of
        # its connection): its process must stop leading at once.
        killed = postgres_server.end_lease_sessions(urlsplit(postgres_url).path.lstrip("/"))
        code = await leader.wait(timeout=20)
        await cluster.wait_for_role(1, "leader")
        expected = [30_000 + n for n in range(5)]
        await cluster.pay(expected)
        await wait_for(
            lambda: set(cluster.told()) >= set(expected), timeout=20, what="every payment told"
        )

    assert killed == 1  # one session: the lease's
    assert code == EXIT_LEASE_LOST
    assert "lost the lease" in leader.output
    assert sorted(cluster.told()) == expected


async def _asking_amount(db: Database) -> bool:
    """Whether the database has the seller's /new at the amount."""
    conversation = await db.bot_state.of_kind("conversation:new")
    state = conversation.get(f"[{SELLER},{SELLER}]")
    return state is not None and state.data == '"amount"'
