"""Reconciliation: active codes compared with Pivot's charges, for callbacks that never came.

Pivot's rate limits are not published and a 429 (``frequency_above_limit``) is all we know,
so each pass is paced at ``rate`` requests a second and checks at most
``budget = interval × rate`` codes: half the most recently paid ones (where a missed payment
is likeliest), half the next ones in id order after a cursor that wraps around. With N active
codes, every code is therefore checked within ``ceil(N / (budget // 2))`` passes; with the
defaults (300 s, 2 requests a second: 300 codes per pass by the cursor) that is every code
within an hour for 3,600 codes. A 429 ends the pass early; the cursor resumes there next time.

Between passes, a callback on one of our codes that recorded nothing new (no SUCCESS charge in
it, only charges already recorded, an event we do not know, a body we could not read) has that
one code looked up at once (``LookupQueue``): in line at most once, at the same pace as the
passes and sharing it, and never inside the callback's own HTTP request. What a look-up finds
is recorded as the callback's, not flagged late: it is minutes earlier than a pass would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass

import pivot_client
from bot.ledger import Ledger, Recorded
from storage import ChargeSource, Code, Database

__all__ = ["LookupQueue", "PassReport", "Reconciler"]

logger = logging.getLogger(__name__)

# After a 429 during a look-up, requests pause for this many of their slots (10 s at 2 a second).
_RATE_LIMIT_SLOTS = 20


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did."""

    checked: int
    found: int
    complete: bool


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
        pivot: The Pivot client.
        ledger: Where found charges are recorded (the callback's own path).
        interval: Seconds between passes.
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
        self._pivot = pivot
        self._ledger = ledger
        self._interval = interval
        self._pause = 1.0 / rate
        self.budget = max(2, math.ceil(interval * rate))
        self.lookups = lookups if lookups is not None else LookupQueue()
        self._cursor = 0
        self._next_request = 0.0  # time.monotonic() of the next free request slot
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lookup_task: asyncio.Task[None] | None = None
        self.last_pass: PassReport | None = None
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        """Whether the reconciliation loop and the look-ups are alive."""
        return all(task is not None and not task.done() for task in self._tasks)

    @property
    def _tasks(self) -> tuple[asyncio.Task[None] | None, ...]:
        return self._task, self._lookup_task

    def start(self) -> None:
        """Start the loop (its first pass one interval from now) and the look-ups."""
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="reconciliation")
        self._lookup_task = asyncio.create_task(self._serve_lookups(), name="look-ups")

    async def stop(self) -> None:
        """Stop between two Pivot requests; look-ups still in line are left to the passes."""
        self._stop.set()
        for task in self._tasks:
            if task is not None:
                await task
        self._task = self._lookup_task = None

    async def _run(self) -> None:
        while not await self._wait(self._interval):
            try:
                self.last_pass = await self.run_pass()
                self.last_error = None
            except Exception as exc:
                # The next pass tries again; a broken pass must not end reconciliation.
                self.last_error = type(exc).__name__
                logger.exception("reconciliation pass failed")

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; True when stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    async def _turn(self) -> bool:
        """Wait for the next free slot for a Pivot request; True when stopped first.

        Passes and look-ups take their slots here, so together they keep to ``rate``.
        """
        now = time.monotonic()
        start = max(now, self._next_request)
        self._next_request = start + self._pause
        return await self._wait(start - now)

    async def _serve_lookups(self) -> None:
        """Look up the codes the ledger asks for, one slot each, until stopped."""
        while True:
            waiting = asyncio.ensure_future(self.lookups.wait())
            stopping = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            stopping.cancel()
            if self._stop.is_set() or await self._turn():
                return
            await self._look_up(self.lookups.take())

    async def _look_up(self, code: Code) -> None:
        """Record what Pivot has on ``code`` that we lack; a failure leaves it to the passes."""
        try:
            found = await self._check(code, ChargeSource.CALLBACK)
        except pivot_client.RateLimitError:
            logger.warning("Pivot asked to slow down; code %d will be looked up again", code.id)
            self.lookups.request(code)
            self._next_request += _RATE_LIMIT_SLOTS * self._pause
            return
        except Exception:
            # The loop must outlive a failure; the passes check the code again later.
            logger.exception("could not look code %d up at Pivot", code.id)
            return
        logger.info("looked code %d up at Pivot: %d payments found", code.id, found)

    async def run_pass(self) -> PassReport:
        """Check this pass's codes against Pivot and record what was missed."""
        codes = await self._select()
        checked = found = 0
        for code in codes:
            if await self._turn():
                break
            try:
                found += await self._check(code, ChargeSource.RECONCILIATION)
            except pivot_client.RateLimitError:
                logger.warning("Pivot asked to slow down; reconciliation resumes next pass")
                return PassReport(checked, found, complete=False)
            except pivot_client.PivotError as exc:
                logger.warning("could not check code %d against Pivot: %s", code.id, exc)
            checked += 1
        if found:
            logger.warning("reconciliation found %d payments missed by callbacks", found)
        logger.info("reconciliation pass: %d codes checked, %d payments found", checked, found)
        return PassReport(checked, found, complete=checked == len(codes))

    async def _select(self) -> list[Code]:
        """Half the budget to recent activity, half to a cursor over every active code."""
        half = self.budget // 2
        recent = await self._db.codes.recently_active(limit=half)
        chosen = {code.id: code for code in recent}
        sweep = await self._db.codes.active_after(self._cursor, limit=half)
        if len(sweep) < half:  # reached the end: wrap around
            sweep += await self._db.codes.active_after(0, limit=half - len(sweep))
        for code in sweep:
            chosen.setdefault(code.id, code)
        self._cursor = sweep[-1].id if sweep else 0
        return list(chosen.values())

    async def _check(self, code: Code, source: ChargeSource) -> int:
        """Record the SUCCESS charges of ``code`` we have no row for; how many."""
        charges = await self._pivot.list_charges(code.client_reference_id)
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
