"""Reconciliation: active codes compared with Pivot's charges, for callbacks that never came.

Pivot's rate limits are not published and a 429 (``frequency_above_limit``) is all we know,
so each pass is paced at ``rate`` requests a second and checks at most
``budget = interval × rate`` codes: half the most recently paid ones (where a missed payment
is likeliest), half the next ones in id order after a cursor that wraps around. With N active
codes, every code is therefore checked within ``ceil(N / (budget // 2))`` passes; with the
defaults (300 s, 2 requests a second: 300 codes per pass by the cursor) that is every code
within an hour for 3,600 codes. A 429 ends the pass early; the cursor resumes there next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass

import pivot_client
from bot.ledger import Ledger, Recorded
from storage import ChargeSource, Code, Database

__all__ = ["PassReport", "Reconciler"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did."""

    checked: int
    found: int
    complete: bool


class Reconciler:
    """Runs a reconciliation pass every ``interval`` seconds until stopped.

    Args:
        db: The database.
        pivot: The Pivot client.
        ledger: Where found charges are recorded (the callback's own path).
        interval: Seconds between passes.
        rate: Pivot requests a second during a pass.
    """

    def __init__(
        self,
        db: Database,
        pivot: pivot_client.PivotClient,
        ledger: Ledger,
        *,
        interval: float,
        rate: float = 2.0,
    ) -> None:
        self._db = db
        self._pivot = pivot
        self._ledger = ledger
        self._interval = interval
        self._pause = 1.0 / rate
        self.budget = max(2, math.ceil(interval * rate))
        self._cursor = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_pass: PassReport | None = None
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        """Whether the reconciliation loop is alive."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop; the first pass comes one interval from now."""
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="reconciliation")

    async def stop(self) -> None:
        """Stop between two Pivot requests."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

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

    async def run_pass(self) -> PassReport:
        """Check this pass's codes against Pivot and record what was missed."""
        codes = await self._select()
        checked = found = 0
        for index, code in enumerate(codes):
            if index and await self._wait(self._pause):
                break
            try:
                found += await self._check(code)
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

    async def _check(self, code: Code) -> int:
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
            code.pivot_session_id, code.client_reference_id, missed, ChargeSource.RECONCILIATION
        )
        return results.count(Recorded.NEW)
