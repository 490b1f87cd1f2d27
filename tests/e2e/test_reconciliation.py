"""Reconciliation through the running bot: a payment whose callback Pivot never delivered is
found by the sweep, on deactivated codes too (Pivot cannot switch a static code off)."""

from __future__ import annotations

from pathlib import Path

from bot.clock import utcnow
from storage import ChargeSource
from tests.e2e.test_payments import SELLER, issued_code
from tests.standins import add_seller, running_bot


async def test_a_lost_payment_on_a_deactivated_code_is_reported_late(bot_home: Path | str) -> None:
    async with running_bot(bot_home, reconcile_interval_seconds=0.3) as env:
        await add_seller(env.services.db, SELLER, language="en")
        await issued_code(env)  # an active code beside it, checked as well
        retired = await issued_code(env)
        async with env.services.db.write() as tx:
            assert await tx.codes.deactivate(retired.id, now=utcnow())

        await env.pay(retired, 17_000, deliver=False)
        message = await env.telegram.wait_for_message(
            SELLER, lambda m: "Rp 17.000" in (m.text or ""), timeout=15, after=0
        )

        assert "Late" in (message.text or "")
        assert "deactivated" in (message.text or "")
        [charge] = await env.services.db.charges.list_for_code(retired.id, offset=0, limit=5)
        assert charge.source is ChargeSource.RECONCILIATION
        assert env.simulator.deliveries == []  # no callback was ever sent
