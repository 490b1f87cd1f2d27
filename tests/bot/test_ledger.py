"""The ledger against a real database: once per charge, with its message, whatever the path."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pivot_client
from bot.ledger import Ledger, Recorded, Unconfirmed, payment_dedupe_key
from bot.notifications import Flag, PaymentNotice
from storage import (
    ChargeConfirmation,
    ChargeSource,
    Code,
    CodeKind,
    Database,
    InboxOutcome,
    InboxRepository,
    OutboxRepository,
    OutboxStatus,
)
from tests.bot import SELLER
from tests.standins import add_code, add_seller, charge_success_body

ADMIN = 1000


class Wakes:
    """Stands in for the relay: counts the commits that queued messages."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def wakes(db: Database) -> Wakes:
    wakes = Wakes()
    db.add_outbox_listener(wakes)
    return wakes


@pytest.fixture
def ledger(db: Database) -> Ledger:
    return Ledger(db, [ADMIN])


def session_of(code: Code) -> tuple[str, str]:
    """The (session id, clientReferenceId) Pivot's callbacks name the code by."""
    assert code.pivot_session_id is not None
    return code.pivot_session_id, code.client_reference_id


async def notice_for(db: Database, charge_id: str) -> PaymentNotice:
    row = await db.outbox.by_dedupe_key(payment_dedupe_key(charge_id))
    assert row is not None
    assert row.chat_id == SELLER
    return PaymentNotice.model_validate_json(row.payload)


async def test_a_charge_is_recorded_with_its_message_waiting_for_confirmation(
    db: Database, wakes: Wakes
) -> None:
    handed: list[Unconfirmed] = []
    ledger = Ledger(db, [ADMIN], confirm=handed.extend, confirm_within=45)
    code = await add_code(db, SELLER, kind=CodeKind.VA, bank="BCA", amount=25_000)
    assert code.pivot_session_id is not None
    body = charge_success_body(code.pivot_session_id, code.client_reference_id, [("c1", 25_000)])

    await ledger.record_callback(body)
    await ledger.record_callback(body)  # a duplicate: nothing more to confirm

    charge = await db.charges.get("c1")
    assert charge is not None
    assert charge.confirmation is ChargeConfirmation.PENDING
    notice = await notice_for(db, "c1")
    assert (notice.amount, notice.customer, notice.count, notice.total) == (
        25_000,
        "Budi",
        1,
        25_000,
    )
    # A callback is evidence, not proof: said so, and not due before Pivot's API is asked.
    assert notice.flags == (Flag.UNCONFIRMED,)
    row = await db.outbox.by_dedupe_key(payment_dedupe_key("c1"))
    assert row is not None
    assert row.next_attempt_at == row.created_at + timedelta(seconds=45)
    assert handed == [
        Unconfirmed(
            charge_id="c1",
            code_id=code.id,
            seller_id=SELLER,
            reference=code.client_reference_id,
            session_id=code.pivot_session_id,
            amount=25_000,
            paid_at=charge.paid_at,
            recorded_at=charge.recorded_at,
        )
    ]
    assert wakes.count == 1
    assert await db.inbox.count(InboxOutcome.RECORDED) == 1


async def test_the_same_callback_five_times_sequentially_and_concurrently_is_one_charge(
    db: Database, ledger: Ledger
) -> None:
    code = await add_code(db, SELLER)
    assert code.pivot_session_id is not None
    body = charge_success_body(code.pivot_session_id, code.client_reference_id, [("c1", 10_000)])

    for _ in range(5):
        await ledger.record_callback(body)
    await asyncio.gather(*(ledger.record_callback(body) for _ in range(5)))

    assert await db.charges.count() == 1
    assert await db.outbox.count() == 1
    assert await db.inbox.count() == 10
    assert await db.inbox.count(InboxOutcome.DUPLICATE) == 9


async def test_earlier_charges_sent_along_count_once_and_failed_ones_never(
    db: Database, ledger: Ledger
) -> None:
    code = await add_code(db, SELLER)
    session, reference = session_of(code)
    await ledger.record_callback(charge_success_body(session, reference, [("c1", 10_000)]))
    await ledger.record_callback(
        charge_success_body(session, reference, [("c2", 20_000), ("c1", 10_000)])
    )
    await ledger.record_callback(
        charge_success_body(session, reference, [("c3", 5_000)], status="FAILED")
    )

    assert await db.charges.count() == 2
    second = await notice_for(db, "c2")
    assert (second.count, second.total) == (2, 30_000)


async def test_a_session_not_yet_stored_is_found_by_its_reference_and_only_by_it(
    db: Database, ledger: Ledger
) -> None:
    # Pivot's answer to the create call was lost: the code has no session id yet.
    code = await add_code(db, SELLER, activate=False)
    paid = charge_success_body("s-new", code.client_reference_id, [("c1", 5_000)])
    stranger = charge_success_body("s-new", "someone-else", [("c2", 7_000)])

    await asyncio.gather(ledger.record_callback(paid), ledger.record_callback(stranger))

    assert (await notice_for(db, "c1")).customer == code.customer
    # The same session id with another reference is not this code's, batch or no batch.
    assert await db.outbox.by_dedupe_key(payment_dedupe_key("c2")) is None
    assert await db.inbox.count(InboxOutcome.UNKNOWN_SESSION) == 1


async def test_new_charges_count_on_from_the_codes_history_in_one_batch(
    db: Database, ledger: Ledger
) -> None:
    code = await add_code(db, SELLER)
    session, reference = session_of(code)
    await ledger.record_callback(charge_success_body(session, reference, [("c1", 1_000)]))

    await asyncio.gather(
        # A new charge sent along with one already recorded, the same charge twice in one
        # body, and another callback on the same code, all in one batch.
        ledger.record_callback(
            charge_success_body(session, reference, [("c2", 2_000), ("c1", 1_000)])
        ),
        ledger.record_callback(
            charge_success_body(session, reference, [("c3", 3_000), ("c3", 3_000)])
        ),
    )

    assert await db.charges.count() == 3
    assert await db.outbox.count() == 3
    assert [
        ((n := await notice_for(db, charge)).count, n.total) for charge in ("c1", "c2", "c3")
    ] == [(1, 1_000), (2, 3_000), (3, 6_000)]


async def test_amount_mismatch_and_deactivated_code_are_flagged(
    db: Database, ledger: Ledger
) -> None:
    code = await add_code(db, SELLER, kind=CodeKind.QRIS, amount=25_000)
    assert code.pivot_session_id is not None
    async with db.write() as tx:
        assert await tx.codes.deactivate(code.id, now=code.created_at)

    await ledger.record_callback(
        charge_success_body(code.pivot_session_id, code.client_reference_id, [("c1", 20_000)])
    )

    notice = await notice_for(db, "c1")
    assert notice.flags == (Flag.UNCONFIRMED, Flag.AMOUNT_MISMATCH, Flag.DEACTIVATED_CODE)
    assert notice.expected_amount == 25_000


async def test_a_charge_on_an_unknown_session_is_kept_and_reported(db: Database) -> None:
    handed: list[Unconfirmed] = []
    ledger = Ledger(db, [ADMIN], confirm=handed.extend)
    await ledger.record_callback(charge_success_body("no-such-session", "kbx", [("c9", 7_000)]))

    assert handed == []  # no seller is told of it, so there is nothing to confirm
    charge_rows = await db.charges.count()
    alert = await db.outbox.by_dedupe_key(f"alert:unknown:c9:{ADMIN}")
    assert charge_rows == 1
    assert alert is not None
    assert alert.chat_id == ADMIN
    assert "c9" in alert.payload
    assert await db.inbox.count(InboxOutcome.UNKNOWN_SESSION) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"event": "CHARGE.SUCCESS"}',
        # The stdlib parser raised RecursionError: rolled back, never stored, nobody told.
        b"[" * 100_000 + b"]" * 100_000,
        b'{"event": "PAYMENT.PAID", "data": {"chargeDetails": [{"amount": {"value": "1e9999"}}]}}',
    ],
)
async def test_an_unreadable_body_is_a_dead_letter_and_operators_hear_of_it_once(
    db: Database, ledger: Ledger, wakes: Wakes, body: bytes
) -> None:
    for _ in range(3):  # Pivot's retries, or a manual resend
        await ledger.record_callback(body)

    assert await db.charges.count() == 0
    assert await db.inbox.count(InboxOutcome.DEAD_LETTER) == 3
    entry = await db.inbox.get(1)
    assert entry is not None
    assert entry.body == body
    assert entry.detail
    assert await db.outbox.count() == 1
    alert = await db.outbox.by_dedupe_key(
        f"alert:dead:{hashlib.sha256(body).hexdigest()[:32]}:{ADMIN}"
    )
    assert alert is not None
    assert "#1" in alert.payload
    assert wakes.count == 1  # the retries queued nothing more


async def test_a_body_that_breaks_the_parser_is_kept_all_the_same(
    db: Database, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(raw: bytes, *, truncated: bool = False) -> pivot_client.CallbackEvent:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pivot_client, "parse_callback", broken)

    await ledger.record_callback(b'{"event": "CHARGE.SUCCESS"}')

    entry = await db.inbox.get(1)
    assert entry is not None
    assert (entry.outcome, entry.detail) == (
        InboxOutcome.DEAD_LETTER,
        "could not be read (RecursionError)",
    )


async def test_an_unknown_event_changes_nothing_but_the_inbox(
    db: Database, ledger: Ledger, wakes: Wakes
) -> None:
    await ledger.record_callback(b'{"event": "REFUND.SUCCESS", "data": {"id": "r1"}}')

    assert await db.charges.count() == 0
    assert await db.outbox.count() == 0
    assert await db.inbox.count(InboxOutcome.IGNORED) == 1
    assert wakes.count == 0


async def test_a_storage_failure_leaves_nothing_half_written(
    db: Database, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = await add_code(db, SELLER)
    assert code.pivot_session_id is not None
    body = charge_success_body(code.pivot_session_id, code.client_reference_id, [("c1", 1_000)])
    storage_error = RuntimeError("disk full")

    async def broken_enqueue(*args: object, **kwargs: object) -> int:
        raise storage_error

    monkeypatch.setattr(OutboxRepository, "enqueue_all", broken_enqueue)
    with pytest.raises(RuntimeError):
        await ledger.record_callback(body)
    assert (await db.charges.count(), await db.inbox.count()) == (0, 0)

    monkeypatch.undo()
    await ledger.record_callback(body)
    assert (await db.charges.count(), await db.outbox.count()) == (1, 1)


async def test_the_log_says_recorded_only_once_committed(
    db: Database, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    code = await add_code(db, SELLER)
    assert code.pivot_session_id is not None
    body = charge_success_body(code.pivot_session_id, code.client_reference_id, [("c1", 1_000)])

    async def broken_outcomes(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")  # the last write of the transaction

    monkeypatch.setattr(InboxRepository, "set_outcomes", broken_outcomes)
    with caplog.at_level(logging.INFO, logger="bot.ledger"), pytest.raises(RuntimeError):
        await ledger.record_callback(body)
    assert await db.charges.count() == 0
    assert "c1 recorded" not in caplog.text

    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="bot.ledger"):
        await ledger.record_callback(body)
    assert "charge c1 recorded on code" in caplog.text


async def test_reconciliation_flags_late_and_a_later_callback_is_a_duplicate(
    db: Database, ledger: Ledger
) -> None:
    code = await add_code(db, SELLER)
    session, reference = session_of(code)
    body = charge_success_body(session, reference, [("c1", 10_000)])
    charges = pivot_client.parse_callback(body)
    assert isinstance(charges, pivot_client.ChargeSuccessEvent)

    found = await ledger.record_charges(
        session, reference, charges.charges, ChargeSource.RECONCILIATION
    )
    await ledger.record_callback(body)

    assert found == [Recorded.NEW]
    # Found through Pivot's API: confirmed as it is recorded, and its message due at once.
    assert (await notice_for(db, "c1")).flags == (Flag.LATE,)
    charge = await db.charges.get("c1")
    assert charge is not None
    assert (charge.confirmation, charge.confirmed_at) == (
        ChargeConfirmation.CONFIRMED,
        charge.recorded_at,
    )
    row = await db.outbox.by_dedupe_key(payment_dedupe_key("c1"))
    assert row is not None
    assert row.next_attempt_at == row.created_at
    assert await db.charges.count() == 1


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    plan=st.lists(
        st.tuples(st.sampled_from(["callback", "reconcile"]), st.integers(0, 3)),
        min_size=1,
        max_size=12,
    ),
    concurrent=st.booleans(),
)
async def test_any_interleaving_yields_one_charge_and_one_message_per_charge(
    new_database: Callable[[], Path | str], plan: list[tuple[str, int]], concurrent: bool
) -> None:
    async with await Database.open(new_database()) as db:
        await add_seller(db, SELLER)
        code = await add_code(db, SELLER)
        session, reference = session_of(code)
        ledger = Ledger(db, [ADMIN])

        async def deliver(source: str, charge: int) -> None:
            body = charge_success_body(session, reference, [(f"c{charge}", 1_000 + charge)])
            if source == "callback":
                await ledger.record_callback(body)
                return
            event = pivot_client.parse_callback(body)
            assert isinstance(event, pivot_client.ChargeSuccessEvent)
            await ledger.record_charges(
                session, reference, event.charges, ChargeSource.RECONCILIATION
            )

        if concurrent:
            await asyncio.gather(*(deliver(source, charge) for source, charge in plan))
        else:
            for source, charge in plan:
                await deliver(source, charge)

        distinct = {charge for _, charge in plan}
        assert await db.charges.count() == len(distinct)
        assert await db.outbox.count(OutboxStatus.PENDING) == len(distinct)
        for charge in distinct:
            assert await db.outbox.by_dedupe_key(payment_dedupe_key(f"c{charge}")) is not None
