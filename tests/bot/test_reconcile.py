"""Reconciliation: missed payments found through Pivot, and every code checked in bounded time."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import pivot_client
from bot.ledger import Ledger, payment_dedupe_key
from bot.notifications import Flag, PaymentNotice
from bot.reconcile import Reconciler
from pivot_client.simulator import Simulator, SimulatorConfig, create_app
from storage import CodeKind, Database
from tests.helpers.records import add_code, add_seller
from tests.helpers.servers import serving

SELLER = 2000


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with await Database.open(tmp_path / "reconcile.db") as database:
        await add_seller(database, SELLER)
        yield database


@pytest.fixture
async def pivot() -> AsyncIterator[tuple[pivot_client.PivotClient, Simulator]]:
    app = create_app(SimulatorConfig(callback_url=None, callback_key="k"))
    async with serving(app) as server:
        client = pivot_client.PivotClient(
            client_id="sim-client-id", client_secret="sim-client-secret", base_url=server.url
        )
        async with client:
            yield client, app.state.simulator


async def test_a_payment_whose_callback_never_came_is_found_and_flagged_late(
    db: Database, pivot: tuple[pivot_client.PivotClient, Simulator]
) -> None:
    client, simulator = pivot
    session = await client.create_static_payment(client_reference_id="kbrecon1", method="QR")
    await add_code(
        db, SELLER, kind=CodeKind.QRIS, session_id=session.id, client_reference_id="kbrecon1"
    )
    charge = simulator.record_charge(session.id, 42_000, deliver=False)
    reconciler = Reconciler(db, client, Ledger(db, [], lambda: None), interval=1, rate=50)

    first = await reconciler.run_pass()
    second = await reconciler.run_pass()

    assert (first.found, second.found) == (1, 0)
    row = await db.outbox.by_dedupe_key(payment_dedupe_key(charge.id))
    assert row is not None
    assert PaymentNotice.model_validate_json(row.payload).flags == (Flag.LATE,)


class CountingPivot:
    """Records which references were checked; no charges anywhere."""

    def __init__(self) -> None:
        self.checked: list[str] = []

    async def list_charges(self, client_reference_id: str) -> list[pivot_client.Charge]:
        self.checked.append(client_reference_id)
        return []


@pytest.mark.parametrize("codes", [1, 7, 40])
async def test_every_active_code_is_checked_within_the_stated_number_of_passes(
    db: Database, codes: int
) -> None:
    made = [await add_code(db, SELLER) for _ in range(codes)]
    fake = CountingPivot()
    reconciler = Reconciler(
        db,
        fake,  # type: ignore[arg-type]
        Ledger(db, [], lambda: None),
        interval=0.03,
        rate=200,  # a budget of 6 codes a pass, with 5 ms between requests
    )
    bound = math.ceil(codes / (reconciler.budget // 2))

    for _ in range(bound):
        report = await reconciler.run_pass()
        assert report.checked <= reconciler.budget

    assert {code.client_reference_id for code in made} <= set(fake.checked)


async def test_a_rate_limit_ends_the_pass_early(db: Database) -> None:
    await add_code(db, SELLER)
    await add_code(db, SELLER)

    class LimitedPivot:
        async def list_charges(self, client_reference_id: str) -> list[pivot_client.Charge]:
            raise pivot_client.RateLimitError("frequency_above_limit")

    reconciler = Reconciler(
        db,
        LimitedPivot(),  # type: ignore[arg-type]
        Ledger(db, [], lambda: None),
        interval=10,
        rate=100,
    )

    report = await reconciler.run_pass()

    assert (report.checked, report.complete) == (0, False)
