"""Proof, not trust: payments confirmed with Pivot's API before they are announced, through the
running bot, the simulator and the fake Bot API over loopback (docs/money.md rule 6)."""

from __future__ import annotations

from pathlib import Path

from storage import ChargeConfirmation, OutboxStatus
from tests.e2e.test_payments import SELLER, issued_code, payment_messages, post_callback, settled
from tests.standins import (
    ADMIN_ID,
    BotEnv,
    SentMessage,
    add_seller,
    charge_success_body,
    running_bot,
    wait_for,
)

UNCONFIRMED = "not yet confirmed"


def forgery_alerts(env: BotEnv) -> list[SentMessage]:
    # The operator never wrote to the bot: alerts come in the default language, Indonesian.
    return [
        m
        for m in env.telegram.sent_messages(ADMIN_ID)
        if "Kemungkinan pemalsuan" in (m.text or "")
    ]


def texts_to_seller(env: BotEnv) -> list[str]:
    return [message.text or "" for message in env.telegram.sent_messages(SELLER)]


async def test_a_payment_is_confirmed_and_reported_without_waiting_for_the_deadline(
    bot_home: Path | str,
) -> None:
    # The deadline is the real one, a minute: a message within seconds was confirmed.
    async with running_bot(bot_home) as env:
        await add_seller(env.services.db, SELLER, language="en")
        code = await issued_code(env)

        charge_id = await env.pay(code, 25_000)
        await wait_for(lambda: len(payment_messages(env)) == 1, timeout=10, what="the message")
        await settled(env)

        [message] = payment_messages(env)
        assert "Payment received: Rp 25.000" in (message.text or "")
        assert UNCONFIRMED not in (message.text or "")
        charge = await env.services.db.charges.get(charge_id)
        assert charge is not None
        assert charge.confirmation is ChargeConfirmation.CONFIRMED
        requests = [a for a in env.simulator.deliveries if a.charge_id == charge_id]
        assert [a.status_code for a in requests] == [200]


async def test_a_forged_callback_is_recorded_never_announced_and_reported_once(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home, confirm_grace=1.0) as env:
        await add_seller(env.services.db, SELLER, language="en")
        code = await issued_code(env)
        assert code.pivot_session_id is not None
        # The right key, one of our codes, a charge id the simulator never made.
        body = charge_success_body(
            code.pivot_session_id, code.client_reference_id, [("forged-charge-1", 2_500_000)]
        )

        assert [await post_callback(env, body) for _ in range(2)] == [200, 200]  # and a retry
        await wait_for(lambda: bool(forgery_alerts(env)), timeout=15, what="the forgery alert")
        await settled(env)
        await env.pay(code, 10_000)  # the code still works, its total untouched by the forgery
        await wait_for(lambda: bool(payment_messages(env)), timeout=10, what="the real payment")
        await settled(env)

        db = env.services.db
        forged = await db.charges.get("forged-charge-1")
        assert forged is not None
        assert (forged.confirmation, forged.amount, forged.code_id) == (
            ChargeConfirmation.UNKNOWN,
            2_500_000,
            None,
        )
        assert await db.charges.count() == 2
        [message] = payment_messages(env)
        assert "Rp 10.000" in (message.text or "")
        assert "1 payments · total Rp 10.000" in (message.text or "")
        assert not any("2.500.000" in text for text in texts_to_seller(env))
        [alert] = forgery_alerts(env)
        assert "forged-charge-1" in (alert.text or "")
        row = await db.outbox.by_dedupe_key("payment:forged-charge-1")
        assert row is not None
        assert row.status is OutboxStatus.FAILED


async def test_pivot_failing_past_the_deadline_sends_it_unconfirmed_then_confirms_it_once(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home, confirm_within=1.5, confirm_grace=0.5) as env:
        await add_seller(env.services.db, SELLER, language="en")
        code = await issued_code(env)
        env.simulator.fail_next("GET", "/v2/charges", count=100_000, status=503)

        charge_id = await env.pay(code, 40_000)
        flagged = await env.telegram.wait_for_message(
            SELLER, lambda m: UNCONFIRMED in (m.text or ""), timeout=15, after=0
        )
        assert "Rp 40.000" in (flagged.text or "")
        assert "Do not hand over goods" in (flagged.text or "")
        charge = await env.services.db.charges.get(charge_id)
        assert charge is not None
        assert charge.confirmation is ChargeConfirmation.PENDING

        env.simulator.clear_failures()
        confirmed = await env.telegram.wait_for_message(
            SELLER, lambda m: "Confirmed by Pivot" in (m.text or ""), timeout=15, after=0
        )
        await settled(env)

        assert "Rp 40.000" in (confirmed.text or "")
        assert texts_to_seller(env) == [flagged.text, confirmed.text]  # once each
        charge = await env.services.db.charges.get(charge_id)
        assert charge is not None
        assert charge.confirmation is ChargeConfirmation.CONFIRMED
        assert forgery_alerts(env) == []


async def test_a_forgery_sent_unconfirmed_while_pivot_was_down_is_then_called_not_paid(
    bot_home: Path | str,
) -> None:
    async with running_bot(bot_home, confirm_within=1.0, confirm_grace=0.5) as env:
        await add_seller(env.services.db, SELLER, language="en")
        code = await issued_code(env)
        assert code.pivot_session_id is not None
        env.simulator.fail_next("GET", "/v2/charges", count=100_000, status=503)
        body = charge_success_body(
            code.pivot_session_id, code.client_reference_id, [("forged-charge-2", 90_000)]
        )

        assert await post_callback(env, body) == 200
        await env.telegram.wait_for_message(
            SELLER, lambda m: UNCONFIRMED in (m.text or ""), timeout=15, after=0
        )
        env.simulator.clear_failures()
        refuted = await env.telegram.wait_for_message(
            SELLER, lambda m: "Not confirmed" in (m.text or ""), timeout=15, after=0
        )
        await wait_for(lambda: bool(forgery_alerts(env)), timeout=10, what="the forgery alert")
        await settled(env)

        assert "Rp 90.000" in (refuted.text or "")
        assert "does not know this payment" in (refuted.text or "")
        assert len(texts_to_seller(env)) == 2
        [alert] = forgery_alerts(env)
        assert "penjual sudah diberi tahu sebagai belum dikonfirmasi" in (alert.text or "")
