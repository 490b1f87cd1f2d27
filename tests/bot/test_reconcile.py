"""Reconciliation: missed payments found through Pivot, and every code checked in bounded time."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
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
from tests.helpers.servers import serving, wait_for

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


# Look-ups: one code, now


async def test_a_looked_up_payment_is_recorded_at_once_and_not_flagged_late(
    db: Database, pivot: tuple[pivot_client.PivotClient, Simulator]
) -> None:
    client, simulator = pivot
    session = await client.create_static_payment(client_reference_id="kblook1", method="QR")
    code = await add_code(
        db, SELLER, kind=CodeKind.QRIS, session_id=session.id, client_reference_id="kblook1"
    )
    charge = simulator.record_charge(session.id, 42_000, deliver=False)
    # An hour between passes: only the look-up can find it.
    reconciler = Reconciler(db, client, Ledger(db, [], lambda: None), interval=3600, rate=50)
    reconciler.start()
    try:
        reconciler.lookups.request(code)

        async def recorded() -> bool:
            return await db.outbox.by_dedupe_key(payment_dedupe_key(charge.id)) is not None

        await wait_for(recorded, timeout=5, what="the looked-up payment")
    finally:
        await reconciler.stop()

    row = await db.outbox.by_dedupe_key(payment_dedupe_key(charge.id))
    assert row is not None
    assert PaymentNotice.model_validate_json(row.payload).flags == ()
    assert reconciler.last_pass is None


class TimedPivot:
    """Records when each reference was asked for; holds each answer until released."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, float]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def list_charges(self, client_reference_id: str) -> list[pivot_client.Charge]:
        self.asked.append((client_reference_id, time.monotonic()))
        await self.release.wait()
        return []


def reconciler_for(db: Database, fake: object, *, rate: float) -> Reconciler:
    return Reconciler(
        db,
        fake,  # type: ignore[arg-type]
        Ledger(db, [], lambda: None),
        interval=3600,
        rate=rate,
    )


async def test_a_code_asked_for_many_times_is_looked_up_once_and_once_more_if_asked_meanwhile(
    db: Database,
) -> None:
    code = await add_code(db, SELLER)
    fake = TimedPivot()
    fake.release.clear()
    reconciler = reconciler_for(db, fake, rate=100)
    for _ in range(5):
        reconciler.lookups.request(code)
    assert len(reconciler.lookups) == 1
    reconciler.start()
    try:
        await wait_for(lambda: len(fake.asked) == 1, timeout=5, what="the first look-up")
        for _ in range(3):  # callbacks while Pivot is being asked: one more look-up
            reconciler.lookups.request(code)
        fake.release.set()
        await wait_for(lambda: len(fake.asked) == 2, timeout=5, what="the second look-up")
        await wait_for(lambda: len(reconciler.lookups) == 0, timeout=5, what="an empty line")
    finally:
        await reconciler.stop()

    assert [reference for reference, _ in fake.asked] == [code.client_reference_id] * 2


async def test_look_ups_keep_to_the_rate_and_share_it_with_passes(db: Database) -> None:
    codes = [await add_code(db, SELLER) for _ in range(4)]
    fake = TimedPivot()
    reconciler = reconciler_for(db, fake, rate=20)  # a request every 50 ms at most
    reconciler.start()
    try:
        for code in codes:
            reconciler.lookups.request(code)
        await wait_for(lambda: len(fake.asked) == 4, timeout=5, what="four look-ups")
        await reconciler.run_pass()  # four codes more, in the same slots
    finally:
        await reconciler.stop()

    times = sorted(at for _, at in fake.asked)
    assert len(times) == 8
    assert min(later - earlier for earlier, later in itertools.pairwise(times)) >= 0.045


async def test_a_rate_limited_look_up_waits_and_tries_again(db: Database) -> None:
    code = await add_code(db, SELLER)

    class LimitedOnce(TimedPivot):
        async def list_charges(self, client_reference_id: str) -> list[pivot_client.Charge]:
            await super().list_charges(client_reference_id)
            if len(self.asked) == 1:
                raise pivot_client.RateLimitError("frequency_above_limit")
            return []

    fake = LimitedOnce()
    reconciler = reconciler_for(db, fake, rate=200)  # 20 slots of 5 ms: 100 ms of quiet
    reconciler.start()
    try:
        reconciler.lookups.request(code)
        await wait_for(lambda: len(fake.asked) == 2, timeout=5, what="the second try")
    finally:
        await reconciler.stop()

    (_, first), (_, second) = fake.asked
    assert second - first >= 0.1
