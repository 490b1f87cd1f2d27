"""What a callback body may hold: any payment event, no charge at all, or something not money."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import pivot_client
from bot.ledger import Ledger, Recorded, payment_dedupe_key
from storage import ChargeSource, Code, Database, InboxOutcome
from tests.bot import SELLER
from tests.standins import add_code, charge_success_body

ADMIN = 1000


@pytest.fixture
def looked_up() -> list[Code]:
    return []


@pytest.fixture
def ledger(db: Database, looked_up: list[Code]) -> Ledger:
    return Ledger(db, [ADMIN], look_up=looked_up.append)


@pytest.fixture
async def code(db: Database) -> Code:
    return await add_code(db, SELLER)


def body_for(code: Code, charges: list[tuple[str, int]], **kwargs: Any) -> bytes:
    assert code.pivot_session_id is not None
    return charge_success_body(code.pivot_session_id, code.client_reference_id, charges, **kwargs)


def edited(body: bytes, edit: Any) -> bytes:
    data = json.loads(body)
    edit(data)
    return json.dumps(data).encode()


async def outcome_of(db: Database, entry_id: int) -> tuple[InboxOutcome, str | None]:
    entry = await db.inbox.get(entry_id)
    assert entry is not None
    return entry.outcome, entry.detail


@pytest.mark.parametrize(
    "event", ["CHARGE.SUCCESS", "PAYMENT.PAID", "PAYMENT.SUCCESS", "PAYMENT.PROCESSING"]
)
async def test_a_success_charge_is_a_payment_whatever_the_event_is_called(
    db: Database, ledger: Ledger, looked_up: list[Code], code: Code, event: str
) -> None:
    await ledger.record_callback(body_for(code, [("c1", 25_000)], event=event))

    assert await db.outbox.by_dedupe_key(payment_dedupe_key("c1")) is not None
    assert (await outcome_of(db, 1))[0] is InboxOutcome.RECORDED
    assert looked_up == []  # it recorded something: nothing to look up


@pytest.mark.parametrize(
    "edit",
    [
        lambda body: body["data"].update(chargeDetails=None),
        lambda body: body["data"].update(chargeDetails=[]),
        lambda body: body["data"].pop("chargeDetails"),
        lambda body: body["data"]["chargeDetails"][0].update(status="PROCESSING"),
    ],
    ids=["null", "empty", "missing", "not-success"],
)
async def test_a_callback_without_a_success_charge_has_its_session_looked_up(
    db: Database, ledger: Ledger, looked_up: list[Code], code: Code, edit: Any
) -> None:
    await ledger.record_callback(edited(body_for(code, [("c1", 25_000)]), edit))

    assert [c.id for c in looked_up] == [code.id]
    assert await db.charges.count() == 0
    assert await outcome_of(db, 1) == (
        InboxOutcome.IGNORED,
        "ChargeSuccessEvent; session looked up",
    )


async def test_a_callback_with_only_charges_already_recorded_has_its_session_looked_up(
    db: Database, ledger: Ledger, looked_up: list[Code], code: Code
) -> None:
    # Pivot pages chargeDetails: a busy code's callback may carry an older page only.
    await ledger.record_callback(body_for(code, [("c2", 2_000), ("c1", 1_000)]))
    assert looked_up == []

    await ledger.record_callback(body_for(code, [("c2", 2_000), ("c1", 1_000)]))

    assert [c.id for c in looked_up] == [code.id]
    assert (await outcome_of(db, 2))[0] is InboxOutcome.DUPLICATE


async def test_an_unknown_event_on_a_known_session_has_it_looked_up(
    db: Database, ledger: Ledger, looked_up: list[Code], code: Code
) -> None:
    await ledger.record_callback(body_for(code, [("c1", 25_000)], event="PAYMENT.EXPIRED"))

    # Money only from events we know; the look-up asks Pivot what really happened.
    assert await db.charges.count() == 0
    assert [c.id for c in looked_up] == [code.id]
    assert await outcome_of(db, 1) == (InboxOutcome.IGNORED, "PAYMENT.EXPIRED; session looked up")


async def test_a_session_named_only_by_its_reference_is_looked_up(
    db: Database, ledger: Ledger, looked_up: list[Code], code: Code
) -> None:
    body = {"event": "PAYMENT.EXPIRED", "data": {"clientReferenceId": code.client_reference_id}}

    await ledger.record_callback(json.dumps(body).encode())

    assert [c.id for c in looked_up] == [code.id]


async def test_an_unreadable_body_naming_a_known_session_has_it_looked_up(
    db: Database, ledger: Ledger, looked_up: list[Code], code: Code
) -> None:
    def break_amount(body: dict[str, Any]) -> None:
        body["data"]["chargeDetails"][0]["amount"]["value"] = "1e400000"

    await ledger.record_callback(edited(body_for(code, [("c1", 25_000)]), break_amount))

    assert [c.id for c in looked_up] == [code.id]
    outcome, detail = await outcome_of(db, 1)
    assert outcome is InboxOutcome.DEAD_LETTER
    assert detail is not None
    assert "at most 18 digits" in detail


async def test_the_start_of_a_body_over_the_cap_is_kept_and_its_session_looked_up(
    db: Database, ledger: Ledger, looked_up: list[Code], code: Code
) -> None:
    whole = body_for(code, [(f"c{n}", 25_000) for n in range(50)])
    start = whole[: len(whole) // 2]

    await ledger.record_callback(start, truncated=True)

    # Even its complete charges are not money: a number cut short still reads as a number.
    assert await db.charges.count() == 0
    assert [c.id for c in looked_up] == [code.id]
    entry = await db.inbox.get(1)
    assert entry is not None
    assert entry.body == start
    assert (entry.outcome, entry.detail) == (
        InboxOutcome.DEAD_LETTER,
        f"callback body over the size limit, cut at {len(start)} bytes; session looked up",
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": "REFUND.SUCCESS", "data": {"id": "r1", "clientReferenceId": "refund1"}}',
        charge_success_body("someone-elses", "not-ours", []),
        b"{not json",
    ],
)
async def test_nothing_is_looked_up_for_a_session_that_is_not_ours(
    ledger: Ledger, looked_up: list[Code], code: Code, body: bytes
) -> None:
    await ledger.record_callback(body)

    assert looked_up == []


async def test_callbacks_committed_together_look_each_code_up_once(
    db: Database, ledger: Ledger, looked_up: list[Code]
) -> None:
    first, second = await add_code(db, SELLER), await add_code(db, SELLER)
    bodies = [body_for(first, []), body_for(first, []), body_for(second, []), body_for(first, [])]

    # Gathered, they wait for one group commit.
    await asyncio.gather(*(ledger.record_callback(body) for body in bodies))

    assert sorted(code.id for code in looked_up) == [first.id, second.id]
    assert await db.inbox.count(InboxOutcome.IGNORED) == 4


# Only money is money


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda c: c["amount"].update(value=-25_000), "amount -25000 is not positive"),
        (lambda c: c["amount"].update(value=0), "amount 0 is not positive"),
        (lambda c: c["amount"].update(currency="USD"), "currency 'USD' is not IDR"),
        (
            lambda c: c["amount"].update(value=10**13),
            "amount 10000000000000 is over Pivot's per-transaction limit of 9999999999",
        ),
    ],
)
async def test_a_charge_that_is_not_money_is_kept_out_and_told_once(
    db: Database, ledger: Ledger, looked_up: list[Code], code: Code, edit: Any, reason: str
) -> None:
    body = edited(body_for(code, [("bad", 25_000)]), lambda b: edit(b["data"]["chargeDetails"][0]))
    for _ in range(3):
        await ledger.record_callback(body)
    assert code.pivot_session_id is not None
    [charge] = pivot_client.PaymentSession.model_validate(json.loads(body)["data"]).charge_details
    again = await ledger.record_charges(
        code.pivot_session_id, code.client_reference_id, [charge], ChargeSource.RECONCILIATION
    )

    assert again == [Recorded.REFUSED]
    assert await db.charges.count() == 0
    assert await db.outbox.by_dedupe_key(payment_dedupe_key("bad")) is None
    assert await outcome_of(db, 1) == (
        InboxOutcome.DEAD_LETTER,
        f"ChargeSuccessEvent; charge bad: {reason}; session looked up",
    )
    assert await db.outbox.count() == 1  # one alert, not one per delivery
    alert = await db.outbox.by_dedupe_key(f"alert:refused:bad:{ADMIN}")
    assert alert is not None
    assert reason.replace("'", "&#x27;") in alert.payload or reason in alert.payload


async def test_a_huge_charge_never_breaks_the_codes_later_payments(
    db: Database, ledger: Ledger, code: Code
) -> None:
    # One charge of 2^63 - 1000 once overflowed the running total: 503 for ever after.
    await ledger.record_callback(body_for(code, [("huge", 2**63 - 1000)]))
    await ledger.record_callback(body_for(code, [("huge2", 9_999_999_999 + 1)]))
    await ledger.record_callback(body_for(code, [("c1", 10_000)]))
    await ledger.record_callback(body_for(code, [("c2", 9_999_999_999)]))

    assert await db.charges.stats_for_code(code.id) == (2, 10_000 + 9_999_999_999)
    assert (await outcome_of(db, 1))[0] is InboxOutcome.DEAD_LETTER
    assert (await outcome_of(db, 2))[0] is InboxOutcome.DEAD_LETTER
    assert (await outcome_of(db, 4))[0] is InboxOutcome.RECORDED


async def test_money_beside_a_refused_charge_is_still_recorded(
    db: Database, ledger: Ledger, looked_up: list[Code], code: Code
) -> None:
    await ledger.record_callback(body_for(code, [("good", 25_000), ("bad", -1)]))

    assert await db.outbox.by_dedupe_key(payment_dedupe_key("good")) is not None
    assert await db.outbox.by_dedupe_key(f"alert:refused:bad:{ADMIN}") is not None
    assert await outcome_of(db, 1) == (
        InboxOutcome.RECORDED,
        "ChargeSuccessEvent; charge bad: amount -1 is not positive",
    )
    assert looked_up == []


async def test_an_alert_about_a_refused_charge_stays_short_whatever_its_ids(
    db: Database, ledger: Ledger
) -> None:
    long_id = "x" * 100_000

    await ledger.record_callback(charge_success_body(long_id, None, [(long_id, -1)]))

    assert await db.outbox.count() == 1
    alert = await db.outbox.get(1)
    assert alert is not None
    assert len(alert.payload) < 1_000
