"""Reconciliation: missed payments found through Pivot, every code reached in bounded time."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

import pivot_client
from bot.ledger import Ledger, payment_dedupe_key
from bot.notifications import Flag, PaymentNotice
from bot.reconcile import Reconciler, worst_case_seconds
from pivot_client.simulator import Simulator, SimulatorConfig, create_app
from storage import Code, CodeKind, Database
from tests.bot import SELLER
from tests.standins import NOW, add_code, assert_paced, serving, wait_for


@pytest.fixture
async def pivot() -> AsyncIterator[tuple[pivot_client.PivotClient, Simulator]]:
    app = create_app(SimulatorConfig(callback_url=None, callback_key="k"))
    async with serving(app) as server:
        client = pivot_client.PivotClient(
            client_id="sim-client-id", client_secret="sim-client-secret", base_url=server.url
        )
        async with client:
            yield client, app.state.simulator


async def deactivate(db: Database, codes: list[Code]) -> None:
    async with db.write() as tx:
        for code in codes:
            assert await tx.codes.deactivate(code.id, now=NOW)


async def notice_of(db: Database, charge_id: str) -> PaymentNotice:
    row = await db.outbox.by_dedupe_key(payment_dedupe_key(charge_id))
    assert row is not None, f"no message for {charge_id}"
    return PaymentNotice.model_validate_json(row.payload)


# Over loopback against the simulator


async def test_a_payment_whose_callback_never_came_is_found_and_flagged_late(
    db: Database, pivot: tuple[pivot_client.PivotClient, Simulator]
) -> None:
    client, simulator = pivot
    session = await client.create_static_payment(client_reference_id="kbrecon1", method="QR")
    await add_code(
        db, SELLER, kind=CodeKind.QRIS, session_id=session.id, client_reference_id="kbrecon1"
    )
    charge = simulator.record_charge(session.id, 42_000, deliver=False)
    reconciler = Reconciler(db, client, Ledger(db, []), interval=1, rate=50)

    first = await reconciler.run_pass()
    second = await reconciler.run_pass()

    assert (first.found, second.found) == (1, 0)
    assert (await notice_of(db, charge.id)).flags == (Flag.LATE,)


async def test_payments_on_deactivated_codes_are_found_through_429s(
    db: Database, pivot: tuple[pivot_client.PivotClient, Simulator]
) -> None:
    client, simulator = pivot
    codes, charges = [], []
    for n in range(6):
        reference = f"kbretired{n}"
        session = await client.create_static_payment(client_reference_id=reference, method="QR")
        codes.append(
            await add_code(
                db,
                SELLER,
                kind=CodeKind.QRIS,
                session_id=session.id,
                client_reference_id=reference,
            )
        )
        # Its callback lost.
        charges.append(simulator.record_charge(session.id, 10_000 + n, deliver=False))
    retired = codes[::2]
    await deactivate(db, retired)
    simulator.fail_next("GET", "/v2/charges", count=3, status=429)
    # A budget of 4 pages a pass, 2 of them for the sweep; 20 ms between requests.
    reconciler = Reconciler(db, client, Ledger(db, []), interval=0.16, rate=50)
    assert reconciler.budget == 4

    for _ in range(math.ceil(len(codes) / 2)):
        await reconciler.run_pass()

    for code, charge in zip(codes, charges, strict=True):
        late = (Flag.DEACTIVATED_CODE, Flag.LATE) if code in retired else (Flag.LATE,)
        assert (await notice_of(db, charge.id)).flags == late


# A fake Pivot, mostly on a fake clock


class VirtualTime:
    """A clock that moves only when the reconciler sleeps: passes alone, no look-ups."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class Request:
    reference: str
    page: int
    at: float
    answered: bool
    task: str  # which task asked: a pass, or the look-ups


class FakePivot:
    """Charges per reference, 100 a page; every request recorded with its time.

    ``refuse(n)`` says what to raise at the n-th request (from 1) instead of answering.
    Charges here are FAILED, so nothing is recorded and the sweep reads every page.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.charges: dict[str, list[pivot_client.Charge]] = defaultdict(list)
        self.requests: list[Request] = []
        self.refuse: Callable[[int], Exception | None] = lambda n: None
        self.release = asyncio.Event()
        self.release.set()
        self._clock = clock

    def with_options(self, **_: object) -> FakePivot:
        return self

    def busy(self, code: Code, pages: int) -> None:
        reference = code.client_reference_id
        self.charges[reference] = [
            pivot_client.Charge.model_validate(
                {"id": f"{reference}-{n}", "amount": {"value": 1000}, "status": "FAILED"}
            )
            for n in range(pages * 100)
        ]

    async def list_charges_page(
        self, client_reference_id: str, page: int = 1
    ) -> pivot_client.Page[pivot_client.Charge]:
        refusal = self.refuse(len(self.requests) + 1)
        task = asyncio.current_task()
        self.requests.append(
            Request(
                client_reference_id,
                page,
                self._clock(),
                refusal is None,
                task.get_name() if task else "",
            )
        )
        await self.release.wait()
        if refusal is not None:
            raise refusal
        charges = self.charges[client_reference_id]
        pages = max(1, math.ceil(len(charges) / 100))
        return pivot_client.Page(charges[(page - 1) * 100 : page * 100], page, pages)

    def answered(self, code: Code) -> list[Request]:
        return [r for r in self.requests if r.answered and r.reference == code.client_reference_id]


def reconciler_for(
    db: Database,
    fake: FakePivot,
    *,
    interval: float = 3600,
    rate: float,
    virtual: VirtualTime | None = None,
) -> Reconciler:
    reconciler = Reconciler(
        db,
        fake,  # type: ignore[arg-type]
        Ledger(db, []),
        interval=interval,
        rate=rate,
    )
    if virtual is not None:
        reconciler._clock = virtual.clock
        reconciler._sleep = virtual.sleep
    return reconciler


def rate_limited() -> pivot_client.RateLimitError:
    return pivot_client.RateLimitError("frequency_above_limit")


# Fairness


async def test_every_code_retired_ones_too_is_checked_within_ceil_n_over_share_passes_despite_429s(
    db: Database,
) -> None:
    codes = [await add_code(db, SELLER) for _ in range(24)]
    await deactivate(db, codes[1::2])
    pending = await add_code(db, SELLER, activate=False)  # Pivot never made it
    virtual = VirtualTime()
    fake = FakePivot(virtual.clock)
    fake.refuse = lambda n: rate_limited() if n % 3 == 0 else None
    # A budget of 12 pages a pass: 6 for the recently paid, 6 for the sweep.
    reconciler = reconciler_for(db, fake, interval=24, rate=1, virtual=virtual)
    assert reconciler.budget - reconciler.budget // 2 == 6

    for _ in range(math.ceil(24 / 6)):
        report = await reconciler.run_pass()
        assert report.failed == 0

    assert all(fake.answered(code) for code in codes)
    assert not fake.answered(pending)
    assert sum(not r.answered for r in fake.requests) >= 10  # Pivot did say 429, often


@pytest.mark.parametrize(
    ("active", "retired"), [(1, 0), (3, 0), (20, 0), (0, 20), (10, 10), (3, 40)]
)
async def test_no_code_waits_longer_than_the_stated_worst_case_between_two_checks(
    db: Database, active: int, retired: int
) -> None:
    codes = [await add_code(db, SELLER) for _ in range(active + retired)]
    await deactivate(db, codes[active:])
    virtual = VirtualTime()
    fake = FakePivot(virtual.clock)
    interval, rate = 10.0, 1.0  # a budget of 5 pages a pass: 2 recent, 3 for the sweep
    reconciler = reconciler_for(db, fake, interval=interval, rate=rate, virtual=virtual)
    bound = worst_case_seconds(len(codes), interval=interval, rate=rate)

    reconciler.start()
    try:
        await wait_for(lambda: virtual.now >= 3 * bound, timeout=30, what="three rounds")
    finally:
        await reconciler.stop()

    # From the start, or from one check, to the next: a payment made just after a check waits
    # that long.
    waits = [
        later - earlier
        for code in codes
        for earlier, later in itertools.pairwise([0.0, *(r.at for r in fake.answered(code))])
    ]
    assert max(waits) <= bound
    assert max(waits) > bound - 2 * interval  # and the bound is not loose


def test_the_worst_case_stated_in_the_docs() -> None:
    # README.md and docs/reconciliation.md: defaults of 300 s and 2 requests a second.
    minutes = {n: worst_case_seconds(n, interval=300, rate=2) / 60 for n in (100, 1000, 10_000)}
    assert minutes == {100: 7.5, 1000: 37.5, 10_000: 337.5}


# Pages, pace and Pivot's refusals


async def test_a_busy_codes_pages_each_take_a_slot_and_a_429_asks_for_the_same_page_again(
    db: Database,
) -> None:
    busy = await add_code(db, SELLER)
    await deactivate(db, [busy])  # the sweep alone reads it
    virtual = VirtualTime()
    fake = FakePivot(virtual.clock)
    fake.busy(busy, pages=5)
    fake.refuse = lambda n: rate_limited() if n in (3, 4) else None
    reconciler = reconciler_for(db, fake, rate=2, virtual=virtual)  # a slot every 0.5 s

    report = await reconciler.run_pass()

    assert [(r.page, r.answered) for r in fake.requests] == [
        (1, True),
        (2, True),
        (3, False),
        (3, False),
        (3, True),
        (4, True),
        (5, True),
    ]
    gaps = [b.at - a.at for a, b in itertools.pairwise(fake.requests)]
    assert gaps == [0.5, 0.5, 10.0, 20.0, 0.5, 0.5]  # the pause doubles while Pivot refuses
    assert (report.checked, report.pages) == (1, 5)


@pytest.mark.parametrize(
    "refusal",
    [
        rate_limited(),
        pivot_client.InternalServerError("bad_gateway", status_code=502),
        pivot_client.APIConnectionError(),
        pivot_client.APITimeoutError(),
    ],
    ids=["429", "502", "unreachable", "timeout"],
)
async def test_pivot_busy_or_down_pauses_without_losing_the_place(
    db: Database, refusal: Exception
) -> None:
    codes = [await add_code(db, SELLER) for _ in range(4)]
    await deactivate(db, codes)
    virtual = VirtualTime()
    fake = FakePivot(virtual.clock)
    fake.refuse = lambda n: refusal if 2 <= n <= 4 else None
    reconciler = reconciler_for(db, fake, interval=8, rate=1, virtual=virtual)  # sweep: 2

    first = await reconciler.run_pass()
    second = await reconciler.run_pass()

    answered = [r.reference for r in fake.requests if r.answered]
    assert answered == [code.client_reference_id for code in codes]
    assert (first.checked, second.checked, first.failed) == (2, 2, 0)


async def test_a_code_pivot_answers_wrongly_about_is_passed_and_tried_again_next_round(
    db: Database,
) -> None:
    codes = [await add_code(db, SELLER) for _ in range(3)]
    await deactivate(db, codes)
    virtual = VirtualTime()
    fake = FakePivot(virtual.clock)
    fake.refuse = lambda n: pivot_client.NotFoundError("resource_missing") if n == 1 else None
    reconciler = reconciler_for(db, fake, interval=12, rate=1, virtual=virtual)  # sweep: 3

    first = await reconciler.run_pass()
    second = await reconciler.run_pass()

    assert (first.checked, first.failed, second.checked, second.failed) == (2, 1, 3, 0)
    assert [r.at for r in fake.requests[:2]] == [0.0, 1.0]  # no pause: Pivot is fine


async def test_a_restart_resumes_the_sweep_where_it_stopped(db: Database) -> None:
    codes = [await add_code(db, SELLER) for _ in range(6)]
    await deactivate(db, codes)
    virtual = VirtualTime()
    fake = FakePivot(virtual.clock)
    await reconciler_for(db, fake, interval=8, rate=1, virtual=virtual).run_pass()  # sweep: 2

    await reconciler_for(db, fake, interval=8, rate=1, virtual=virtual).run_pass()

    assert [r.reference for r in fake.requests] == [c.client_reference_id for c in codes[:4]]


async def test_stopped_while_pivot_makes_it_wait_the_next_start_asks_for_the_same_code(
    db: Database,
) -> None:
    codes = [await add_code(db, SELLER) for _ in range(8)]
    await deactivate(db, codes)
    virtual = VirtualTime()
    fake = FakePivot(virtual.clock)
    fake.refuse = lambda n: rate_limited() if n == 1 else None
    first = reconciler_for(db, fake, interval=8, rate=1, virtual=virtual)  # sweep: 2
    stopping = []

    async def stopped_in_the_pause(seconds: float) -> None:
        if seconds >= 10:  # Pivot's pause, not a slot: the process is told to stop now
            stopping.append(asyncio.create_task(first.stop()))
        await virtual.sleep(seconds)

    first._sleep = stopped_in_the_pause
    report = await first.run_pass()
    await asyncio.gather(*stopping)
    assert (report.complete, report.checked) == (False, 0)

    await reconciler_for(db, fake, interval=8, rate=1, virtual=virtual).run_pass()

    answered = [r.reference for r in fake.requests if r.answered]
    assert answered == [code.client_reference_id for code in codes[:2]]


async def test_recent_codes_are_read_until_a_page_brings_nothing_new_the_sweep_reads_all(
    db: Database,
) -> None:
    busy = await add_code(db, SELLER)
    fake = FakePivot()
    fake.busy(busy, pages=3)
    reconciler = reconciler_for(db, fake, rate=1000)

    await reconciler.run_pass()

    assert [r.page for r in fake.requests] == [1, 1, 2, 3]


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
    reconciler = Reconciler(db, client, Ledger(db, []), interval=3600, rate=50)
    reconciler.start()
    try:
        reconciler.lookups.request(code)

        async def recorded() -> bool:
            return await db.outbox.by_dedupe_key(payment_dedupe_key(charge.id)) is not None

        await wait_for(recorded, timeout=5, what="the looked-up payment")
    finally:
        await reconciler.stop()

    assert (await notice_of(db, charge.id)).flags == ()
    assert reconciler.last_pass is None


async def test_a_code_asked_for_many_times_is_looked_up_once_and_once_more_if_asked_meanwhile(
    db: Database,
) -> None:
    code = await add_code(db, SELLER)
    fake = FakePivot()
    fake.release.clear()
    reconciler = reconciler_for(db, fake, rate=100)
    for _ in range(5):
        reconciler.lookups.request(code)
    assert len(reconciler.lookups) == 1
    reconciler.start()
    try:
        await wait_for(lambda: len(fake.requests) == 1, timeout=5, what="the first look-up")
        for _ in range(3):  # callbacks while Pivot is being asked: one more look-up
            reconciler.lookups.request(code)
        fake.release.set()
        await wait_for(lambda: len(fake.requests) == 2, timeout=5, what="the second look-up")
        await wait_for(lambda: len(reconciler.lookups) == 0, timeout=5, what="an empty line")
    finally:
        await reconciler.stop()

    assert [r.reference for r in fake.requests] == [code.client_reference_id] * 2


async def test_look_ups_and_every_page_of_a_pass_keep_to_the_rate_together(
    db: Database,
) -> None:
    codes = [await add_code(db, SELLER) for _ in range(4)]
    await deactivate(db, codes[:1])
    fake = FakePivot()
    fake.busy(codes[0], pages=3)
    reconciler = reconciler_for(db, fake, rate=20)  # a request every 50 ms at most
    reconciler.start()
    try:
        for code in codes[1:]:
            reconciler.lookups.request(code)
        await reconciler.run_pass()  # 3 pages of one code, then the others, in the same slots
        await wait_for(lambda: not reconciler.lookups, timeout=5, what="the look-ups")
    finally:
        await reconciler.stop()

    times = sorted(r.at for r in fake.requests)
    assert len(times) == 3 + 3 + 3
    assert_paced(times, 0.05)  # two paces kept apart would let the 9 through in 0.2 s


async def test_a_flood_of_look_ups_gets_every_other_slot_and_the_pass_the_rest(
    db: Database,
) -> None:
    codes = [await add_code(db, SELLER) for _ in range(30)]
    fake = FakePivot()
    reconciler = reconciler_for(db, fake, interval=0.8, rate=50)  # 20 ms slots, 20 a pass
    reconciler.start()
    try:
        for code in codes:
            reconciler.lookups.request(code)
        await wait_for(lambda: len(fake.requests) >= 2, timeout=5, what="the first look-ups")
        report = await asyncio.create_task(reconciler.run_pass(), name="pass")
    finally:
        await reconciler.stop()

    assert report.pages == 20
    asked = [r.task for r in fake.requests]
    start = asked.index("pass")
    # While both want slots they take turns: the pass's 20 requests within about 40 slots
    # (a slot or two lost to the pass's own queries between batches).
    assert asked[start : start + 42].count("pass") == 20


async def test_a_rate_limited_look_up_waits_and_tries_again(db: Database) -> None:
    code = await add_code(db, SELLER)
    fake = FakePivot()
    fake.refuse = lambda n: rate_limited() if n == 1 else None
    reconciler = reconciler_for(db, fake, rate=200)  # 20 slots of 5 ms: 100 ms of quiet
    reconciler.start()
    try:
        reconciler.lookups.request(code)
        await wait_for(lambda: len(fake.requests) == 2, timeout=5, what="the second try")
    finally:
        await reconciler.stop()

    first, second = fake.requests
    assert second.at - first.at >= 0.1
