"""The confirmer against the simulator over loopback and a real database: proof, not trust."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import pivot_client
from bot.confirm import Confirmer
from bot.ledger import Ledger, Unconfirmed, payment_dedupe_key
from bot.notifications import Flag, PaymentNotice, TextNotice
from bot.receipts import receipt_dedupe_key
from pivot_client.simulator import Charge, Simulator, SimulatorConfig, create_app
from storage import ChargeConfirmation, Code, CodeKind, Database, OutboxMessage, OutboxStatus
from tests.standins import (
    add_code,
    add_seller,
    assert_paced,
    buyer_opens,
    serving,
    unrecorded_charge,
    wait_for,
)

ADMIN = 1000
SELLER = 2000


@dataclass
class Bench:
    """A database, a ledger handing its charges to a confirmer, and the simulator."""

    db: Database
    simulator: Simulator
    pivot: pivot_client.PivotClient
    requests: list[tuple[float, httpx.URL]]
    settled: int = 0
    confirmer: Confirmer | None = None
    handed: list[Unconfirmed] = field(default_factory=list)

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.db, [ADMIN], confirm=self.hand_over)

    def start(self, **options: Any) -> Confirmer:
        """A running confirmer (fast, for tests, unless ``options`` say otherwise), given
        what the ledger handed over so far."""
        options = {"grace": 1.0, "max_backoff": 0.2, "rate": 100.0, "burst": 100} | options
        self.confirmer = Confirmer(self.db, self.pivot, [ADMIN], **options)
        self.db.add_outbox_listener(self.wake)
        self.confirmer.request(self.handed)
        self.confirmer.start()
        return self.confirmer

    def wake(self) -> None:
        self.settled += 1

    def hand_over(self, charges: list[Unconfirmed]) -> None:
        if self.confirmer is None:
            self.handed += charges
        else:
            self.confirmer.request(charges)

    def charge_requests(self, reference: str | None = None) -> list[httpx.URL]:
        """The ``GET /v2/charges`` sent: all, or those of one code's charges."""
        return [
            url
            for _, url in self.requests
            if url.path == "/v2/charges"
            and (reference is None or url.params.get("clientReferenceId") == reference)
        ]

    async def code(self, reference: str) -> Code:
        """A QRIS code made at the simulator, recorded as the bot records its codes."""
        session = await self.pivot.create_static_payment(
            client_reference_id=reference, method="QR"
        )
        return await add_code(
            self.db,
            SELLER,
            kind=CodeKind.QRIS,
            session_id=session.id,
            client_reference_id=reference,
        )

    def pay(self, code: Code, amount: int) -> Charge:
        """A payment the simulator made (its callback not delivered)."""
        assert code.pivot_session_id is not None
        return self.simulator.record_charge(code.pivot_session_id, amount, deliver=False)

    async def paid(self, code: Code, amount: int) -> Charge:
        """A payment the simulator made, and its callback recorded by the ledger."""
        charge = self.pay(code, amount)
        await self.ledger.record_callback(self.simulator.callback_body(charge.id))
        return charge

    async def claimed(self, code: Code, charge_id: str, amount: int) -> None:
        """A callback with the right key claiming ``charge_id`` of ``amount`` on ``code``,
        whatever Pivot has."""
        assert code.pivot_session_id is not None
        session = self.simulator.sessions[code.pivot_session_id]
        charge = unrecorded_charge(session, charge_id, amount)
        body = {"event": "CHARGE.SUCCESS", "data": session.to_json([charge])}
        await self.ledger.record_callback(json.dumps(body).encode())

    async def state(self, charge_id: str) -> ChargeConfirmation:
        charge = await self.db.charges.get(charge_id)
        assert charge is not None
        return charge.confirmation

    async def settled_as(
        self, charge_id: str, state: ChargeConfirmation, *, timeout: float = 10
    ) -> None:
        async def reached() -> bool:
            return await self.state(charge_id) is state

        await wait_for(reached, timeout=timeout, what=f"{charge_id} {state}")

    async def message(self, charge_id: str) -> OutboxMessage:
        row = await self.db.outbox.by_dedupe_key(payment_dedupe_key(charge_id))
        assert row is not None
        return row

    async def sent_flagged(self, *charge_ids: str) -> None:
        """The relay sent these charges' messages as they were: flagged not yet confirmed."""
        later = datetime.now(UTC) + timedelta(minutes=5)
        rows = [await self.message(charge_id) for charge_id in charge_ids]
        async with self.db.write() as tx:
            claimed = await tx.outbox.claim_due(now=later, limit=len(rows))
            assert {row.id for row in rows} == {row.id for row in claimed}
            await tx.outbox.mark_sent([row.id for row in rows], telegram_message_id=7, now=later)
        for row in rows:
            notice = PaymentNotice.model_validate_json(row.payload)
            assert notice.flags[0] is Flag.UNCONFIRMED

    async def texts_to(self, chat_id: int) -> list[str]:
        """The text messages queued for a chat (follow-ups, alerts), oldest first."""
        rows = await self.db._engine._reader.execute_fetchall(
            "SELECT payload FROM outbox WHERE chat_id = ? AND kind = 'text' ORDER BY id",
            (chat_id,),
        )
        return [TextNotice.model_validate_json(row[0]).text for row in rows]


@pytest.fixture
async def bench(tmp_path: Path) -> AsyncIterator[Bench]:
    app = create_app(SimulatorConfig(callback_url=None, callback_key="k"))
    requests: list[tuple[float, httpx.URL]] = []

    async def record(request: httpx.Request) -> None:
        requests.append((time.monotonic(), request.url))

    async with (
        await Database.open(tmp_path / "confirm.db") as db,
        serving(app) as server,
        httpx.AsyncClient(event_hooks={"request": [record]}) as http,
        pivot_client.PivotClient(
            client_id="sim-client-id",
            client_secret="sim-client-secret",
            base_url=server.url,
            http_client=http,
        ) as pivot,
    ):
        await add_seller(db, SELLER, language="en")
        await add_seller(db, ADMIN, language="en")
        running = Bench(db, app.state.simulator, pivot, requests)
        try:
            yield running
        finally:
            if running.confirmer is not None:
                await running.confirmer.stop()


async def test_one_request_confirms_a_burst_of_payments_on_many_codes(bench: Bench) -> None:
    codes = [await bench.code(f"kbburst{n}") for n in range(3)]
    charges = [await bench.paid(codes[n % 3], 10_000 + n) for n in range(30)]
    before = len(bench.charge_requests())
    for charge in charges:
        row = await bench.message(charge.id)
        assert PaymentNotice.model_validate_json(row.payload).flags == (Flag.UNCONFIRMED,)
        assert row.next_attempt_at > datetime.now(UTC)  # held back until confirmed

    bench.start()
    for charge in charges:
        await bench.settled_as(charge.id, ChargeConfirmation.CONFIRMED)

    [sweep] = bench.charge_requests()[before:]
    assert "clientReferenceId" not in sweep.params  # the merchant's charges: one page
    for charge in charges:
        row = await bench.message(charge.id)
        assert PaymentNotice.model_validate_json(row.payload).flags == ()
        assert row.status is OutboxStatus.PENDING
        assert row.next_attempt_at <= datetime.now(UTC)  # due now
    recorded = await bench.db.charges.get(charges[0].id)
    assert recorded is not None
    assert recorded.confirmed_at is not None
    assert bench.settled >= 1
    assert await bench.texts_to(ADMIN) == []
    assert await bench.texts_to(SELLER) == []


async def test_charges_another_process_recorded_are_taken_up_at_its_commit(
    bench: Bench,
) -> None:
    code = await bench.code("kbfollower")
    confirmer = bench.start(take_up_every=3600)  # only commits say when to look
    # A follower records callbacks but has no confirmer to hand its charges to.
    follower = Ledger(bench.db, [ADMIN], confirm=None)
    charges = [bench.pay(code, 10_000 + n) for n in range(3)]
    started = time.monotonic()
    for charge in charges:
        await follower.record_callback(bench.simulator.callback_body(charge.id))

    for charge in charges:
        await bench.settled_as(charge.id, ChargeConfirmation.CONFIRMED, timeout=5)
    assert time.monotonic() - started < 3  # at the commits, not at the next periodic look
    await wait_for(lambda: confirmer.waiting == 0, what="nothing left waiting")
    for charge in charges:
        row = await bench.message(charge.id)
        assert PaymentNotice.model_validate_json(row.payload).flags == ()


async def test_charges_recorded_unseen_are_taken_up_within_take_up_every(
    bench: Bench, tmp_path: Path
) -> None:
    code = await bench.code("kbunseen")
    confirmer = bench.start(take_up_every=0.5)
    charge = bench.pay(code, 15_000)
    # Another connection to the file: its commits call no listener here, like a notice that
    # was missed.
    async with await Database.open(tmp_path / "confirm.db") as elsewhere:
        await Ledger(elsewhere, [ADMIN], confirm=None).record_callback(
            bench.simulator.callback_body(charge.id)
        )

    await bench.settled_as(charge.id, ChargeConfirmation.CONFIRMED, timeout=5)
    await wait_for(lambda: confirmer.waiting == 0, what="nothing left waiting")


async def test_a_charge_pivot_never_made_is_kept_never_announced_and_reported_once(
    bench: Bench,
) -> None:
    code = await bench.code("kbforged")
    real = await bench.paid(code, 25_000)
    confirmer = bench.start(grace=0.5)
    await bench.settled_as(real.id, ChargeConfirmation.CONFIRMED)

    await bench.claimed(code, "forged-1", 500_000)
    await bench.settled_as("forged-1", ChargeConfirmation.UNKNOWN)

    row = await bench.message("forged-1")
    assert (row.status, row.last_error) == (OutboxStatus.FAILED, "not confirmed by Pivot's API")
    forged = await bench.db.charges.get("forged-1")
    assert forged is not None
    assert (forged.code_id, forged.seller_id, forged.amount) == (None, None, 500_000)
    assert await bench.db.charges.stats_for_code(code.id) == (1, 25_000)
    [alert] = await bench.texts_to(ADMIN)
    assert "Possible forgery" in alert
    assert "forged-1" in alert
    assert "does not list it" in alert
    assert "the seller was not told" in alert
    assert await bench.texts_to(SELLER) == []
    # The verdict came from the code's own charges, read to their end.
    assert bench.charge_requests(code.client_reference_id)
    assert confirmer.waiting == 0


async def test_another_amount_or_another_codes_charge_is_refused_at_once(bench: Bench) -> None:
    code = await bench.code("kbmismatch")
    other = await bench.code("kbother")
    cheap = bench.pay(code, 10_000)
    elsewhere = bench.pay(other, 10_000)
    await bench.claimed(code, cheap.id, 900_000)  # Pivot has it at 10,000
    await bench.claimed(code, elsewhere.id, 10_000)  # Pivot has it on the other code
    bench.start(grace=60)  # no waiting for Pivot to list them: it did, otherwise

    await bench.settled_as(cheap.id, ChargeConfirmation.MISMATCH, timeout=5)
    await bench.settled_as(elsewhere.id, ChargeConfirmation.MISMATCH, timeout=5)

    alerts = await bench.texts_to(ADMIN)
    assert any(cheap.id in a and "lists it with amount 10000 IDR" in a for a in alerts)
    assert any(elsewhere.id in a and "lists it on session" in a for a in alerts)
    assert len(alerts) == 2
    for charge in (cheap, elsewhere):
        assert (await bench.message(charge.id)).status is OutboxStatus.FAILED
    assert await bench.db.charges.stats_for_code(code.id) == (0, 0)


async def test_a_charge_pivot_lists_as_not_paid_is_refused_after_the_grace(
    bench: Bench,
) -> None:
    code = await bench.code("kbfailed")
    charge = await bench.paid(code, 10_000)
    bench.simulator.charges[charge.id].status = "FAILED"
    bench.start(grace=0.5)

    await bench.settled_as(charge.id, ChargeConfirmation.MISMATCH)

    [alert] = await bench.texts_to(ADMIN)
    assert "lists it as FAILED" in alert


async def test_pivot_failing_holds_the_message_back_until_it_answers(bench: Bench) -> None:
    code = await bench.code("kbdown")
    bench.simulator.fail_next("GET", "/v2/charges", count=10_000, status=503)
    charge = await bench.paid(code, 10_000)
    confirmer = bench.start()

    await wait_for(lambda: len(bench.charge_requests()) >= 4, what="several tries")
    assert await bench.state(charge.id) is ChargeConfirmation.PENDING
    row = await bench.message(charge.id)
    assert row.next_attempt_at > datetime.now(UTC)  # still waiting for its deadline
    assert confirmer.last_error == "InternalServerError"

    bench.simulator.clear_failures()
    await bench.settled_as(charge.id, ChargeConfirmation.CONFIRMED)
    assert confirmer.last_error is None


async def test_a_late_confirmation_follows_the_flagged_message_once(bench: Bench) -> None:
    code = await bench.code("kblate")
    bench.simulator.fail_next("GET", "/v2/charges", count=10_000, status=503)
    first = await bench.paid(code, 10_000)
    second = await bench.paid(code, 20_000)
    waiting = await bench.paid(code, 30_000)
    await bench.sent_flagged(first.id, second.id)  # the deadline passed before Pivot answered
    bench.start()
    await wait_for(lambda: len(bench.charge_requests()) >= 2, what="a failing try")

    bench.simulator.clear_failures()
    for charge in (first, second, waiting):
        await bench.settled_as(charge.id, ChargeConfirmation.CONFIRMED)

    [follow_up] = await bench.texts_to(SELLER)
    assert "Confirmed by Pivot: 2 payments" in follow_up
    assert "Rp 10.000" in follow_up
    assert "Rp 20.000" in follow_up
    assert "Rp 30.000" not in follow_up  # its own message was still waiting: it lost its flag
    notice = PaymentNotice.model_validate_json((await bench.message(waiting.id)).payload)
    assert notice.flags == ()


async def test_a_forgery_told_as_unconfirmed_is_followed_by_not_paid(bench: Bench) -> None:
    code = await bench.code("kbtold")
    await bench.claimed(code, "forged-told", 75_000)
    await bench.sent_flagged("forged-told")
    bench.start(grace=0.3)

    await bench.settled_as("forged-told", ChargeConfirmation.UNKNOWN)

    [follow_up] = await bench.texts_to(SELLER)
    assert "Not confirmed: Rp 75.000" in follow_up
    assert "does not know this payment" in follow_up
    [alert] = await bench.texts_to(ADMIN)
    assert "had been told of it as not yet confirmed" in alert


async def test_without_the_merchants_list_each_code_is_looked_up(bench: Bench) -> None:
    code = await bench.code("kbnolist")
    bench.simulator.fail_next("GET", "/v2/charges", count=1, status=400)
    first = await bench.paid(code, 10_000)
    bench.start()
    await bench.settled_as(first.id, ChargeConfirmation.CONFIRMED)
    second = await bench.paid(code, 20_000)
    await bench.settled_as(second.id, ChargeConfirmation.CONFIRMED)

    merchant_wide = [
        url for url in bench.charge_requests() if "clientReferenceId" not in url.params
    ]
    assert len(merchant_wide) == 1  # refused once, never asked again
    assert len(bench.charge_requests(code.client_reference_id)) == 2


async def test_an_old_charge_beyond_the_sweep_is_found_in_its_codes_pages(bench: Bench) -> None:
    code = await bench.code("kbbusy")
    old = bench.pay(code, 1_000)
    for n in range(250):
        bench.pay(code, 2_000 + n)
    await bench.ledger.record_callback(bench.simulator.callback_body(old.id))  # a late retry
    bench.start(grace=60, sweep_pages=3, sweep_patience=0)  # then straight to the code's

    await bench.settled_as(old.id, ChargeConfirmation.CONFIRMED)

    walked = bench.charge_requests(code.client_reference_id)
    assert [url.params["page"] for url in walked] == ["1", "2", "3"]
    assert len(bench.charge_requests()) == 3 + 3  # three sweep pages, then the code's


async def test_a_late_callback_is_looked_up_in_its_codes_pages_without_a_sweep(
    bench: Bench,
) -> None:
    code = await bench.code("kblate")
    assert code.pivot_session_id is not None
    old = bench.pay(code, 1_000)
    old.created_at -= timedelta(hours=3)  # paid three hours ago; Pivot retries its callback
    for n in range(150):
        bench.pay(code, 2_000 + n)
    session = bench.simulator.sessions[code.pivot_session_id]
    retry = {"event": "CHARGE.SUCCESS", "data": session.to_json([old])}
    await bench.ledger.record_callback(json.dumps(retry).encode())
    bench.start(grace=60)

    await bench.settled_as(old.id, ChargeConfirmation.CONFIRMED)

    assert [url.params["page"] for url in bench.charge_requests()] == ["1", "2"]
    assert len(bench.charge_requests(code.client_reference_id)) == 2


async def test_charges_left_waiting_by_a_previous_run_are_taken_up(bench: Bench) -> None:
    code = await bench.code("kbrestart")
    charge = await bench.paid(code, 10_000)
    bench.handed.clear()  # the process stopped before the confirmer heard of it

    bench.start()

    await bench.settled_as(charge.id, ChargeConfirmation.CONFIRMED)


async def test_a_429_pauses_every_request(bench: Bench) -> None:
    code = await bench.code("kbslow")
    bench.simulator.fail_next("GET", "/v2/charges", count=1, status=429)
    charge = await bench.paid(code, 10_000)
    bench.start(rate_limit_pause=0.5)

    await bench.settled_as(charge.id, ChargeConfirmation.CONFIRMED)

    [(refused, _), (answered, _)] = [
        (at, url) for at, url in bench.requests if url.path == "/v2/charges"
    ]
    assert answered - refused >= 0.5


async def test_requests_keep_to_the_rate_after_the_burst(bench: Bench) -> None:
    codes = [await bench.code(f"kbpace{n}") for n in range(4)]
    for n, code in enumerate(codes):
        await bench.claimed(code, f"unknown-{n}", 10_000)
    bench.start(rate=4.0, burst=1, grace=60)

    await wait_for(lambda: len(bench.charge_requests()) >= 5, what="a sweep and 4 look-ups")

    moments = [at for at, url in bench.requests if url.path == "/v2/charges"][:5]
    assert_paced(moments, 0.25)


async def test_a_message_held_for_a_blocked_chat_loses_its_flag_without_a_follow_up(
    bench: Bench,
) -> None:
    code = await bench.code("kbheld")
    charge = await bench.paid(code, 10_000)
    async with bench.db.write() as tx:
        assert await tx.outbox.hold_chat(SELLER, error="blocked") == 1
    bench.start()

    await bench.settled_as(charge.id, ChargeConfirmation.CONFIRMED)

    row = await bench.message(charge.id)
    assert row.status is OutboxStatus.HELD  # still waits for the seller to write again
    assert PaymentNotice.model_validate_json(row.payload).flags == ()
    assert await bench.texts_to(SELLER) == []


async def test_buyers_receipts_go_out_with_pivots_confirmation_and_never_for_a_forgery(
    bench: Bench,
) -> None:
    code = await bench.code("kbreceipts")
    buyer = 3001
    async with bench.db.write() as tx:
        await tx.codes.set_receipts(code.id, True)
        link = await tx.buyer_links.create(code_id=code.id, token="b_live", now=datetime.now(UTC))
        await buyer_opens(tx, buyer, code.id, link.id, language="en", now=datetime.now(UTC))
    real = await bench.paid(code, 25_000)
    await bench.claimed(code, "forged-7", 700_000)
    for charge_id in (real.id, "forged-7"):
        row = await bench.db.outbox.by_dedupe_key(receipt_dedupe_key(charge_id, buyer))
        assert row is not None and row.status is OutboxStatus.AWAITING

    bench.start(grace=0.5)
    await bench.settled_as(real.id, ChargeConfirmation.CONFIRMED)
    await bench.settled_as("forged-7", ChargeConfirmation.UNKNOWN)

    released = await bench.db.outbox.by_dedupe_key(receipt_dedupe_key(real.id, buyer))
    refused = await bench.db.outbox.by_dedupe_key(receipt_dedupe_key("forged-7", buyer))
    assert released is not None and released.status is OutboxStatus.PENDING
    assert refused is not None
    assert (refused.status, refused.last_error) == (
        OutboxStatus.FAILED,
        "not confirmed by Pivot's API",
    )
