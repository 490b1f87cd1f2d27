"""Never lost, never doubled, never forged: the simulator's callbacks through the running bot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from storage import Code, CodeKind, InboxOutcome
from tests.standins import (
    ADMIN_ID,
    CALLBACK_KEY,
    BotEnv,
    SentMessage,
    add_code,
    add_seller,
    another_process_writing,
    running_bot,
    wait_for,
)

SELLER = 2000


@pytest.fixture
async def env(bot_home: Path | str) -> AsyncIterator[BotEnv]:
    async with running_bot(bot_home) as running:
        await add_seller(running.services.db, SELLER, language="en")
        yield running


async def issued_code(
    env: BotEnv, *, kind: CodeKind = CodeKind.QRIS, amount: int | None = None
) -> Code:
    """A code issued by the simulator and recorded as the bot records its codes."""
    reference = f"kbe2e{len(env.simulator.sessions)}x0000000000"
    if kind is CodeKind.QRIS:
        session = await env.services.pivot.create_static_payment(
            client_reference_id=reference, method="QR"
        )
    else:
        session = await env.services.pivot.create_static_payment(
            client_reference_id=reference,
            method="VIRTUAL_ACCOUNT",
            channel="BCA",
            virtual_account_number=f"{len(env.simulator.sessions) + 1:06d}",
            amount=amount,
        )
    return await add_code(
        env.services.db,
        SELLER,
        kind=kind,
        amount=amount,
        session_id=session.id,
        client_reference_id=reference,
    )


def payment_messages(env: BotEnv) -> list[SentMessage]:
    return [
        message
        for message in env.telegram.sent_messages(SELLER)
        if "Payment received" in (message.text or "")
        or "payments received" in (message.text or "")
    ]


async def settled(env: BotEnv) -> None:
    """Wait until the simulator delivered everything and the relay drained the outbox."""

    async def idle() -> bool:
        return (
            env.simulator.pending_deliveries == 0
            and await env.services.db.outbox.pending_count() == 0
        )

    await wait_for(idle, timeout=10, what="callbacks delivered and the outbox drained")


async def post_callback(env: BotEnv, body: bytes, key: str | None = CALLBACK_KEY) -> int:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-API-Key"] = key
    async with httpx.AsyncClient() as http:
        response = await http.post(env.callback_url, content=body, headers=headers)
    return response.status_code


async def test_the_same_callback_five_times_sequentially_and_concurrently_is_one_message(
    env: BotEnv,
) -> None:
    code = await issued_code(env)
    charge = await env.pay(code, 25_000)
    await wait_for(lambda: len(payment_messages(env)) == 1, timeout=10, what="the message")
    body = env.simulator.callback_body(charge)

    for _ in range(4):
        env.simulator.redeliver(charge)
    statuses = await asyncio.gather(*(post_callback(env, body) for _ in range(5)))
    await settled(env)

    assert statuses == [200] * 5
    assert await env.services.db.charges.count() == 1
    assert await env.services.db.outbox.count() == 1
    [message] = payment_messages(env)
    assert "Rp 25.000" in (message.text or "")
    assert await env.services.db.inbox.count(InboxOutcome.DUPLICATE) >= 9


async def test_bad_callbacks_get_the_right_status_and_change_nothing(env: BotEnv) -> None:
    code = await issued_code(env)
    charge = env.simulator.record_charge(code.pivot_session_id or "", 10_000, deliver=False)
    body = env.simulator.callback_body(charge.id)
    unknown_event = json.dumps({"event": "PAYMENT.REFUNDED", "data": {"id": "x"}}).encode()

    results = [
        await post_callback(env, body, key=None),
        await post_callback(env, body, key="not-the-key"),
        await post_callback(env, b"x" * (2 * 1024 * 1024)),
        await post_callback(env, unknown_event),
        await post_callback(env, b'{"event": "CHARGE.SUCCESS", "data": '),
    ]
    await settled(env)

    assert results == [401, 401, 200, 200, 200]
    assert await env.services.db.charges.count() == 0
    assert payment_messages(env) == []
    # The unreadable ones (the one over 1 MiB cut at that) are kept, the operator hears of them.
    assert await env.services.db.inbox.count(InboxOutcome.DEAD_LETTER) == 2
    assert any("dead letter" in (m.text or "") for m in env.telegram.sent_messages(ADMIN_ID))
    async with httpx.AsyncClient() as http:
        health = await http.get(f"{env.runtime.http_url}/healthz")
    assert health.status_code == 200
    report = health.json()
    assert report["database"] == "ok"
    assert (
        report["relay"],
        report["reconciliation"],
        report["confirmation"],
        report["telegram"],
    ) == ("running", "running", "running", "ok")
    assert report["awaiting_confirmation"] == 0
    assert report["pending_outbox"] == 0
    assert report["last_callback_at"] is not None


async def test_telegram_failing_for_a_while_delays_the_message_but_sends_it_once(
    env: BotEnv,
) -> None:
    env.telegram.fail_next("sendMessage", count=2, status=500)
    env.telegram.fail_next("sendMessage", count=1, status=429, retry_after=1)
    code = await issued_code(env, kind=CodeKind.VA, amount=50_000)

    await env.pay(code, 50_000)
    await wait_for(lambda: len(payment_messages(env)) == 1, timeout=15, what="the message")
    await settled(env)

    assert len(payment_messages(env)) == 1
    assert "Rp 50.000" in (payment_messages(env)[0].text or "")


async def test_a_payment_whose_callback_never_came_is_reported_late(bot_home: Path | str) -> None:
    async with running_bot(bot_home, reconcile_interval_seconds=0.3) as env:
        await add_seller(env.services.db, SELLER, language="en")
        code = await issued_code(env)

        await env.pay(code, 15_000, deliver=False)
        message = await env.telegram.wait_for_message(
            SELLER, lambda m: "Late" in (m.text or ""), timeout=15, after=0
        )

        assert "Rp 15.000" in (message.text or "")
        assert await env.services.db.charges.count() == 1


async def test_a_storage_failure_answers_5xx_and_pivots_retry_records_it(env: BotEnv) -> None:
    code = await issued_code(env)
    # Another process holding the write lock: the bot's transaction times out.
    async with another_process_writing(env.settings.database_target):
        charge = await env.pay(code, 30_000)
        await wait_for(
            lambda: any(attempt.status_code == 503 for attempt in env.simulator.deliveries),
            timeout=15,
            what="a 503 for the first delivery",
        )
        assert await env.services.db.charges.count() == 0

    await wait_for(lambda: len(payment_messages(env)) == 1, timeout=15, what="the retried one")
    assert await env.services.db.charges.count() == 1
    assert [a.status_code for a in env.simulator.deliveries if a.charge_id == charge][-1] == 200
