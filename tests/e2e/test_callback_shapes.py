"""Pivot as it really is: any payment event, callbacks without the new charge, bodies that are
not money; through the running bot, the simulator and the fake Bot API over loopback.

Passes run every 300 s here (the default), so whatever arrives within seconds came through the
callback or the look-up it triggered, never through reconciliation.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.clock import utcnow
from storage import ChargeSource, Code, InboxOutcome
from tests.e2e.test_payments import SELLER, issued_code, payment_messages, settled
from tests.standins import (
    ADMIN_ID,
    CALLBACK_KEY,
    BotEnv,
    SentMessage,
    add_seller,
    running_bot,
    unrecorded_charge,
    wait_for,
)


@pytest.fixture
async def env(bot_home: Path | str) -> AsyncIterator[BotEnv]:
    async with running_bot(bot_home) as running:
        await add_seller(running.services.db, SELLER, language="en")
        yield running


async def announced(env: BotEnv, count: int) -> list[SentMessage]:
    """Wait for ``count`` payment messages to the seller; all of them."""
    await wait_for(lambda: len(payment_messages(env)) >= count, timeout=10, what="the messages")
    await settled(env)
    return payment_messages(env)


# 1. Any payment event


@pytest.mark.parametrize("event", ["PAYMENT.PAID", "PAYMENT.SUCCESS", "PAYMENT.EXPIRED"])
async def test_a_payment_under_any_event_name_is_reported_at_once(env: BotEnv, event: str) -> None:
    code = await issued_code(env)
    assert code.pivot_session_id is not None

    env.simulator.record_charge(code.pivot_session_id, 25_000, event=event)
    [message] = await announced(env, 1)

    assert "Rp 25.000" in (message.text or "")
    assert "Late" not in (message.text or "")
    [charge] = await env.services.db.charges.list_for_code(code.id, offset=0, limit=10)
    assert charge.source is ChargeSource.CALLBACK


async def test_a_payment_on_a_deactivated_code_under_payment_paid_is_reported(
    env: BotEnv,
) -> None:
    code = await issued_code(env)
    assert code.pivot_session_id is not None
    async with env.services.db.write() as tx:
        assert await tx.codes.deactivate(code.id, now=utcnow())

    env.simulator.record_charge(code.pivot_session_id, 30_000, event="PAYMENT.PAID")
    [message] = await announced(env, 1)

    assert "Rp 30.000" in (message.text or "")
    assert "deactivated" in (message.text or "")


# 2. A callback that does not carry the new charge


@pytest.mark.parametrize("details", ["none", "older"])
async def test_a_callback_without_the_new_charge_has_its_session_looked_up_at_once(
    env: BotEnv, details: str
) -> None:
    code = await issued_code(env)
    assert code.pivot_session_id is not None
    await env.pay(code, 10_000)
    await announced(env, 1)

    env.simulator.record_charge(code.pivot_session_id, 20_000, charge_details=details)
    _, second = await announced(env, 2)

    assert "Rp 20.000" in (second.text or "")
    assert "Late" not in (second.text or "")
    assert "2 payments · total Rp 30.000" in (second.text or "")
    assert await env.services.db.charges.count() == 2


# 3. What is not money


def forged_body(
    env: BotEnv, code: Code, charge_id: str, value: object, currency: str = "IDR"
) -> bytes:
    """A callback in the simulator's own shape whose one charge has this amount, ``value``
    written verbatim into the JSON (so ``"1e308"`` is a number literal)."""
    assert code.pivot_session_id is not None
    session = env.simulator.sessions[code.pivot_session_id]
    charge = unrecorded_charge(session, charge_id, 1).to_json()
    charge["amount"] = {"value": "@VALUE@", "currency": currency}
    data = session.to_json([]) | {"chargeDetails": [charge]}
    text = json.dumps({"event": "CHARGE.SUCCESS", "data": data})
    return text.replace('"@VALUE@"', str(value)).encode()


async def post(env: BotEnv, body: bytes) -> int:
    # A body that freezes the process for seconds fails here: the answer must come at once.
    async with httpx.AsyncClient(timeout=3) as http:
        response = await http.post(
            env.callback_url,
            content=body,
            headers={"Content-Type": "application/json", "X-API-Key": CALLBACK_KEY},
        )
    return response.status_code


def alerts(env: BotEnv) -> list[SentMessage]:
    return [m for m in env.telegram.sent_messages(ADMIN_ID) if "🚨" in (m.text or "")]


async def test_callbacks_that_are_not_money_are_kept_answered_200_and_told_once(
    env: BotEnv,
) -> None:
    code = await issued_code(env)
    bodies = [
        forged_body(env, code, "forged-negative", -25_000),
        forged_body(env, code, "forged-usd", 25_000, currency="USD"),
        forged_body(env, code, "forged-fraction", 10_000.5),
        forged_body(env, code, "forged-string-exponent", '"1e1000000"'),
        forged_body(env, code, "forged-float", "1e308"),
        forged_body(env, code, "forged-overflow", 2**63 - 1000),
        b'{"event": "CHARGE.SUCCESS", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ]

    statuses = [await post(env, body) for body in bodies for _ in range(2)]  # and a retry
    await wait_for(lambda: len(alerts(env)) >= len(bodies), timeout=10, what="the alerts")
    await settled(env)

    # Stored, so answered 200: Pivot sending the same body again would change nothing.
    assert statuses == [200] * 2 * len(bodies)
    db = env.services.db
    assert await db.inbox.count(InboxOutcome.DEAD_LETTER) == 2 * len(bodies)
    assert await db.charges.count() == 0
    assert payment_messages(env) == []
    assert len(alerts(env)) == len(bodies)  # one each, not one per delivery
    texts = " ".join(m.text or "" for m in alerts(env))
    assert "amount -25000 is not positive" in texts
    assert "currency 'USD' is not IDR" in texts
    assert texts.count("dead letter") == 5

    # The code still takes money, and its total is right.
    await env.pay(code, 10_000)
    [message] = await announced(env, 1)
    assert "Rp 10.000" in (message.text or "")
    assert "total Rp 10.000" in (message.text or "")
