"""Reconciliation: every code Pivot may take payments on, compared with Pivot's charges.

Pivot's rate limits are not published and a 429 (``frequency_above_limit``) is all we know,
so every request (each page of a code's charges, retries too) takes its own slot in one pace
of ``rate`` requests a second, shared by passes and look-ups. A 429, a 5xx or Pivot out of
reach pauses that pace (10 s at 2 a second, doubling while it goes on, at most 320 s) and the
same page is asked for again: no code is skipped because Pivot was busy.

A pass starts every ``interval`` seconds and reads at most ``budget = interval × rate / 2``
pages, so passes use at most half the pace and look-ups always find room. Half of them go to
the most recently paid ACTIVE codes, newest charges first, until a page brings nothing new;
the other half to a sweep over every code Pivot may take payments on (DEACTIVATED codes too:
Pivot cannot switch a static code off), in id order from a cursor kept in the database that
moves only past codes actually checked, reading every page of each. ``worst_case_seconds``
says how long the sweep takes to come back to a code; docs/reconciliation.md explains why.

Between passes, a callback on one of our codes that recorded nothing new (no SUCCESS charge in
it, only charges already recorded, an event we do not know, a body we could not read) has that
one code looked up at once (``LookupQueue``): in line at most once, in the same pace, and
never inside the callback's own HTTP request. What a look-up finds is recorded as the
callback's, not flagged late: it is minutes earlier than a pass would be.

With several processes (``bot.leadership``), only the leader runs passes; every process looks
up what its own callbacks ask for (``start_lookups``), since the ledger's hand-over is within
one process. Each process keeps its own pace.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import pivot_client
from bot.ledger import Ledger, Recorded
from storage import ChargeSource, Code, Database

__all__ = ["LookupQueue", "PassReport", "Reconciler", "worst_case_seconds"]

logger = logging.getLogger(__name__)

# After Pivot asked us to slow down or could not answer, requests pause for this many slots
# (10 s at 2 a second), twice as long each time in a row, up to _MAX_PAUSE_SLOTS (320 s).
_PAUSE_SLOTS = 20
_MAX_PAUSE_SLOTS = 640

# Answers about one code rather than about Pivot's state: asking again soon would get the
# same one, so the code is passed (and tried again next round) instead of holding the rest.
_ABOUT_THE_CODE = (
    pivot_client.BadRequestError,
    pivot_client.NotFoundError,
    pivot_client.UnprocessableEntityError,
    pivot_client.APIResponseValidationError,
)


def _pass_budget(interval: float, rate: float) -> int:
    """Pages a pass reads: half of what the pace allows in an interval, at least 2."""
    return max(2, math.floor(interval * rate / 2))


def worst_case_seconds(pages: int, *, interval: float, rate: float) -> float:
    """The longest a missed payment waits for the sweep, with ``pages`` pages in all.

    A code with up to 100 charges is one page, each further 100 one more. The sweep reads
    ``budget - budget // 2`` pages a pass, so it comes back to a code within
    ``ceil(pages / that)`` passes, one every ``interval``, and finds the payment before that
    pass ends (a pass's own requests take ``budget / rate``). Pivot's pauses (a 429, an outage)
    come on top, and a flood of look-ups (every other slot at most) can add ``budget / rate``.
    """
    budget = _pass_budget(interval, rate)
    passes = math.ceil(max(pages, 1) / (budget - budget // 2))
    return passes * interval + budget / rate


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did."""

    checked: int  # codes Pivot answered about
    found: int  # payments recorded that no callback had brought
    failed: int  # codes passed: Pivot's answer about them was unusable, or recording failed
    pages: int  # pages of charges read
    complete: bool  # False when stopped before the end


@dataclass(slots=True)
class _Tally:
    checked: int = 0
    found: int = 0
    failed: int = 0
    pages: int = 0

    def report(self, *, complete: bool) -> PassReport:
        return PassReport(self.checked, self.found, self.failed, self.pages, complete)


@dataclass(frozen=True, slots=True)
class _Checked:
    found: int  # payments recorded
    pages: int  # pages read
    whole: bool  # every page read


class _Stopped(Exception):
    """The reconciler was stopped while waiting for a slot."""


class LookupQueue:
    """Codes whose sessions are to be looked up at Pivot now, each in line at most once.

    A code asked for again while in line keeps its place; one asked for while it is being
    looked up goes back in line, so a payment made during that look-up is not missed. The
    line is never longer than the number of codes.
    """

    def __init__(self) -> None:
        self._codes: dict[int, Code] = {}
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._codes)

    def request(self, code: Code) -> None:
        """Ask for ``code`` to be looked up (the ledger calls this after a commit)."""
        self._codes.setdefault(code.id, code)
        self._ready.set()

    async def wait(self) -> None:
        """Return once a code is in line."""
        while not self._codes:
            self._ready.clear()
            await self._ready.wait()

    def take(self) -> Code:
        """The code first in line, out of the line (``wait`` first)."""
        code_id = next(iter(self._codes))
        return self._codes.pop(code_id)


class Reconciler:
    """Runs a reconciliation pass every ``interval`` seconds, and look-ups, until stopped.

    Args:
        db: The database.
        pivot: The Pivot client; its own retries are switched off, so that every request,
            a retry too, waits for its slot here.
        ledger: Where found charges are recorded (the callback's own path).
        interval: Seconds from the start of one pass to the start of the next.
        rate: Pivot requests a second, passes and look-ups together.
        lookups: The codes to look up now (the ledger fills it).
    """

    def __init__(
        self,
        db: Database,
        pivot: pivot_client.PivotClient,
        ledger: Ledger,
        *,
        interval: float,
        rate: float = 2.0,
        lookups: LookupQueue | None = None,
    ) -> None:
        self._db = db
        self._pivot = pivot.with_options(max_retries=0)
        self._ledger = ledger
        self._interval = interval
        self._pause = 1.0 / rate
        self.budget = _pass_budget(interval, rate)
        self.lookups = lookups if lookups is not None else LookupQueue()
        self._cursor: int | None = None  # the sweep's, read from the database at first use
        self._next_slot = 0.0  # clock time of the next free request slot
        self._paused_until = 0.0  # no request before this clock time (Pivot said to wait)
        self._strikes = 0  # Pivot's refusals in a row
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lookup_task: asyncio.Task[None] | None = None
        self.last_pass: PassReport | None = None
        self.last_error: str | None = None
        # Seams for tests: the clock and sleeping.
        self._clock: Callable[[], float] = time.monotonic
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @property
    def running(self) -> bool:
        """Whether the reconciliation loop and the look-ups are alive."""
        return self.passing and self.looking_up

    @property
    def passing(self) -> bool:
        """Whether the reconciliation loop is alive."""
        return self._task is not None and not self._task.done()

    @property
    def looking_up(self) -> bool:
        """Whether the look-ups are served."""
        return self._lookup_task is not None and not self._lookup_task.done()

    @property
    def _tasks(self) -> tuple[asyncio.Task[None] | None, ...]:
        return self._task, self._lookup_task

    def start(self) -> None:
        """Start the loop (its first pass one interval from now) and the look-ups."""
        self.start_lookups()
        self.start_passes()

    def start_lookups(self) -> None:
        """Look up the codes the ledger asks for, until stopped."""
        self._stop.clear()
        self._lookup_task = asyncio.create_task(self._serve_lookups(), name="look-ups")

    def start_passes(self) -> None:
        """Start the loop, its first pass one interval from now (the leader's part)."""
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="reconciliation")

    async def stop(self) -> None:
        """Stop between two Pivot requests; look-ups still in line are left to the passes."""
        self._stop.set()
        for task in self._tasks:
            if task is not None:
                await task
        self._task = self._lookup_task = None

    async def _run(self) -> None:
        due = self._clock() + self._interval
        while not await self._wait(due - self._clock()):
            due = self._clock() + self._interval
            try:
                self.last_pass = await self.run_pass()
                self.last_error = None
            except Exception as exc:
                # The next pass tries again; a broken pass must not end reconciliation.
                self.last_error = type(exc).__name__
                logger.exception("reconciliation pass failed")

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; True when stopped."""
        if seconds > 0 and not self._stop.is_set():
            sleeping = asyncio.ensure_future(self._sleep(seconds))
            stopping = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
            sleeping.cancel()
            stopping.cancel()
        return self._stop.is_set()

    async def _turn(self) -> None:
        """Wait for the next free slot for a Pivot request; ``_Stopped`` when stopped first.

        Passes and look-ups take their slots here, in the order they ask, so together they
        keep to ``rate``; a slot that comes up while Pivot's pause lasts is given up.
        """
        while True:
            now = self._clock()
            start = max(now, self._next_slot, self._paused_until)
            self._next_slot = start + self._pause
            if await self._wait(start - now):
                raise _Stopped
            if self._clock() >= self._paused_until:
                return

    def _slow_down(self, error: pivot_client.APIError) -> None:
        """Pause every request after Pivot refused or failed one."""
        self._strikes += 1
        slots = min(_PAUSE_SLOTS * 2 ** (self._strikes - 1), _MAX_PAUSE_SLOTS)
        self._paused_until = self._clock() + slots * self._pause
        logger.warning(
            "Pivot refused or failed a request (%s); the next waits %.0f s",
            error,
            slots * self._pause,
        )

    async def _serve_lookups(self) -> None:
        """Look up the codes the ledger asks for, until stopped."""
        while True:
            waiting = asyncio.ensure_future(self.lookups.wait())
            stopping = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            stopping.cancel()
            if self._stop.is_set():
                return
            try:
                await self._look_up(self.lookups.take())
            except _Stopped:
                return

    async def _look_up(self, code: Code) -> None:
        """Record what Pivot has on ``code`` that we lack; a failure leaves it to the passes."""
        try:
            checked = await self._check(code, ChargeSource.CALLBACK, every_page=False)
        except _Stopped:
            raise
        except Exception:
            # The loop must outlive a failure; the passes check the code again later.
            logger.exception("could not look code %d up at Pivot", code.id)
            return
        logger.info("looked code %d up at Pivot: %d payments found", code.id, checked.found)

    async def run_pass(self) -> PassReport:
        """Check this pass's codes against Pivot and record what was missed."""
        tally = _Tally()
        complete = True
        try:
            checked = await self._check_recent(tally)
            await self._sweep(tally, checked)
        except _Stopped:
            complete = False
        if tally.found:
            logger.warning("reconciliation found %d payments missed by callbacks", tally.found)
        logger.info(
            "reconciliation pass: %d codes checked, %d payments found, %d codes failed",
            tally.checked,
            tally.found,
            tally.failed,
        )
        return tally.report(complete=complete)

    async def _check_recent(self, tally: _Tally) -> set[int]:
        """The newest charges of the most recently paid codes, in half the budget; the ids of
        those read to the last page, which the sweep need not read again in this pass."""
        share = self.budget // 2
        whole: set[int] = set()
        for code in await self._db.codes.recently_active(limit=share):
            if tally.pages >= share:
                break
            if await self._check_in_pass(code, tally, every_page=False):
                whole.add(code.id)
        return whole

    async def _sweep(self, tally: _Tally, whole: set[int]) -> None:
        """Every page of the next codes after the cursor, in the rest of the budget.

        The cursor moves past a code only once it has been checked (or passed for an answer
        that would not change); at the last code it wraps around, at most once a pass.
        """
        if self._cursor is None:
            self._cursor = await self._db.codes.sweep_cursor()
        start = self._cursor
        share = self.budget - self.budget // 2
        spent = 0
        wrapped = False
        try:
            while spent < share:
                codes = await self._db.codes.reconcilable_after(self._cursor, limit=share)
                if wrapped:
                    codes = [code for code in codes if code.id <= start]
                if not codes:
                    if wrapped or start == 0:
                        return
                    wrapped, self._cursor = True, 0
                    continue
                for code in codes:
                    if code.id not in whole:  # not twice in one pass
                        before = tally.pages
                        await self._check_in_pass(code, tally, every_page=True)
                        spent += tally.pages - before
                    self._cursor = code.id
                    if spent >= share:
                        return
        finally:
            await self._save_cursor(start)

    async def _save_cursor(self, start: int) -> None:
        """Keep the sweep's position for the next start; losing it costs one pass's work."""
        if self._cursor is None or self._cursor == start:
            return
        try:
            async with self._db.write() as tx:
                await tx.codes.move_sweep_cursor(self._cursor)
        except Exception:
            logger.exception("could not save reconciliation's position")

    async def _check_in_pass(self, code: Code, tally: _Tally, *, every_page: bool) -> bool:
        """Check one code for a pass; whether every page was read. A failure is counted and
        logged, never raised."""
        try:
            checked = await self._check(code, ChargeSource.RECONCILIATION, every_page=every_page)
        except _Stopped:
            raise
        except Exception:
            # Passed, not retried: one code whose answer is broken must not hold the others.
            logger.exception("could not check code %d against Pivot", code.id)
            tally.failed += 1
            tally.pages += 1  # its request took a slot like any page
            return False
        tally.checked += 1
        tally.found += checked.found
        tally.pages += checked.pages
        return checked.whole

    async def _check(self, code: Code, source: ChargeSource, *, every_page: bool) -> _Checked:
        """Record the SUCCESS charges of ``code`` we have no row for.

        Pages come newest first. Without ``every_page``, reading stops after the first page
        that recorded nothing new: a payment missed minutes ago is on the first page, and the
        sweep reads all of them.
        """
        found = 0
        number = 1
        while True:
            page = await self._charges_page(code, number)
            new = await self._record_missed(code, page.items, source)
            found += new
            if page.last or (not new and not every_page):
                return _Checked(found, number, whole=page.last)
            number += 1

    async def _charges_page(
        self, code: Code, number: int
    ) -> pivot_client.Page[pivot_client.Charge]:
        """One page of ``code``'s charges, in its own slot; after a refusal or failure that
        is Pivot's, the same page again once the pause is over."""
        while True:
            await self._turn()
            try:
                page = await self._pivot.list_charges_page(code.client_reference_id, page=number)
            except _ABOUT_THE_CODE:
                raise
            except pivot_client.APIError as exc:
                self._slow_down(exc)
                continue
            self._strikes = 0
            return page

    async def _record_missed(
        self, code: Code, charges: Sequence[pivot_client.Charge], source: ChargeSource
    ) -> int:
        """Record the SUCCESS ones among ``charges`` we have no row for; how many."""
        missed = [
            charge
            for charge in charges
            if charge.status is pivot_client.ChargeStatus.SUCCESS
            and not await self._db.charges.exists(charge.id)
        ]
        if not missed or code.pivot_session_id is None:
            return 0
        results = await self._ledger.record_charges(
            code.pivot_session_id, code.client_reference_id, missed, source
        )
        return results.count(Recorded.NEW)
