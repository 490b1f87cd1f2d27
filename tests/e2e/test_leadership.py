"""One process through the roles, with a lease the test grants and takes away: a follower
takes callbacks and nothing of Telegram's; the leader reports what the follower recorded; a
leader that loses the lease drops its Telegram side at once."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.app import Runtime
from bot.leadership import Role
from storage import ChargeConfirmation, Database, OutboxStatus
from tests.standins import (
    SECRET_HEADER,
    FakeLease,
    add_code,
    add_seller,
    free_port,
    qris_session,
    stand_ins,
    wait_for,
)
from tests.standins.harness import WEBHOOK_SECRET, make_settings, unpaced_sender

SELLER = 2000


async def test_a_follower_takes_callbacks_the_leader_reports_them_and_a_lost_lease_stops_it(
    bot_home: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = FakeLease()
    monkeypatch.setattr(Database, "lease", lambda _db, _name="leader": lease)
    port = free_port()
    async with stand_ins(port) as (telegram, telegram_url, simulator, pivot_url):
        settings = make_settings(
            home=bot_home,
            telegram_url=telegram_url,
            pivot_url=pivot_url,
            http_port=port,
            webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        )
        runtime = Runtime(settings, sender=unpaced_sender(), confirm_grace=1.0)
        try:
            await runtime.start()
            db = runtime.services.db
            await add_seller(db, SELLER, language="en")
            session = await qris_session(pivot_url, "kblead1")
            code = await add_code(db, SELLER, session_id=session, client_reference_id="kblead1")
            async with httpx.AsyncClient(base_url=runtime.http_url) as http:
                # A follower: callbacks recorded, healthy, not a word to Telegram.
                first = simulator.record_charge(session, 20_000)
                await _recorded(db, first.id)
                follower_health = (await http.get("/healthz")).json()
                update = await http.post(
                    "/telegram/webhook",
                    json={"update_id": 1},
                    headers={SECRET_HEADER: WEBHOOK_SECRET},
                )
                assert telegram.calls == []
                charge = await db.charges.get(first.id)
                assert charge is not None
                assert charge.confirmation is ChargeConfirmation.PENDING

                # The leader: confirms and reports what the follower recorded.
                lease.granted.set()
                await runtime.leading()
                message = await telegram.wait_for_message(
                    SELLER, lambda m: "Rp 20.000" in (m.text or ""), timeout=10
                )
                leader_health = (await http.get("/healthz")).json()
                confirmed = await db.charges.get(first.id)

                # The lease lost: the Telegram side stops at once, callbacks go on.
                lease.gone.set()
                await runtime.lease_lost()
                after_health = (await http.get("/healthz")).json()
                refused = await http.post(
                    "/telegram/webhook",
                    json={"update_id": 2},
                    headers={SECRET_HEADER: WEBHOOK_SECRET},
                )
                second = simulator.record_charge(session, 30_000)
                await _recorded(db, second.id)
        finally:
            await runtime.stop()

    assert follower_health["role"] == "follower"
    assert (follower_health["status"], follower_health["database"]) == ("ok", "ok")
    assert "telegram" not in follower_health  # the leader's to report
    assert update.status_code == 503
    assert "not yet confirmed" not in (message.text or "").lower()  # confirmed first
    assert confirmed is not None and confirmed.confirmation is ChargeConfirmation.CONFIRMED
    assert (leader_health["role"], leader_health["status"]) == ("leader", "ok")
    assert (leader_health["relay"], leader_health["telegram"]) == ("running", "ok")
    assert runtime.role is Role.FOLLOWER
    assert (after_health["role"], after_health["status"]) == ("follower", "ok")
    assert refused.status_code == 503
    assert len(telegram.sent_messages(SELLER)) == 1
    assert code.id


async def _recorded(db: Database, charge_id: str) -> None:
    """Wait until the callback of ``charge_id`` is recorded, with its payment message."""

    async def found() -> bool:
        row = await db.outbox.by_dedupe_key(f"payment:{charge_id}")
        return row is not None and row.status is not OutboxStatus.SENT

    await wait_for(found, timeout=10, what=f"{charge_id} recorded")
