"""Proof, not trust: a charge a callback reports is confirmed with Pivot's API before its message
says that money arrived (docs/money.md rule 6; docs/confirmation.md has the whole story).

The ledger records such a charge PENDING, with its message flagged "not yet confirmed" and due
only ``CONFIRM_WITHIN`` seconds later, and hands it here after the commit. The ``Confirmer``
asks Pivot in batches:

* a **sweep** reads the newest page or few of the merchant's charges (``GET /v2/charges``,
  newest first): one request confirms every waiting charge on it, whatever its code, so a
  burst of payments costs a request every ``1 / rate`` seconds, not one per payment;
* a charge the sweep does not show is looked up in its own code's charges
  (``GET /v2/charges?clientReferenceId=``), page after page until it is found or the pages
  reach back past the time it claims to have been paid: only that can show Pivot does not
  know it. Several codes are looked up at once (``concurrency``).

Pivot's word is recorded in one transaction (``_settle``): a confirmed charge's message loses
its flag and is due at once (its commit wakes the relay), and its buyers' receipts go out; one
Pivot lists otherwise (another amount, another code, not paid) or does not list within
``grace`` seconds of being recorded is kept but taken off its code, its message and receipts
set aside unsent, and the operators told once of a possible forgery. If the message already
went out flagged (Pivot could not be asked in time), the seller gets one follow-up instead:
confirmed, or not paid.

Pivot publishes no rate limits. Requests are paced at ``rate`` a second after a burst of
``burst`` (a payment at light load is confirmed at once), a 429 pauses them, and any other
failure is retried with a backoff per charge, for as long as the charge waits.

Only the leader confirms (``bot.leadership``), but every process records callbacks, and a
follower cannot hand its charges over: the confirmer takes up what the database has waiting
at start, whenever a commit queues outbox messages (every recorded charge queues its
message, in any process sharing the database), and at least every ``take_up_every``
seconds. A charge is never asked about twice at once, whoever found it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pivot_client
from bot.alerts import alert_operators
from bot.amounts import format_rupiah
from bot.clock import utcnow
from bot.ledger import Unconfirmed, payment_dedupe_key
from bot.notifications import PAYMENT_KIND, TEXT_KIND, Flag, PaymentNotice, TextNotice
from bot.texts import text
from storage import (
    ChargeConfirmation,
    Database,
    NewMessage,
    OutboxMessage,
    OutboxStatus,
    Transaction,
)

__all__ = ["CONFIRM_GRACE", "TAKE_UP_EVERY", "Confirmer"]

logger = logging.getLogger(__name__)

# Seconds Pivot may take to list a charge it has just reported: not listed after that, the
# charge is unknown to Pivot. Shorter than the ledger's CONFIRM_WITHIN, so that a forgery is
# set aside before its message would go out flagged.
CONFIRM_GRACE = 20.0
# A page of the merchant's charges is read back this far before the earliest time a waiting
# charge claims, for charges Pivot lists a little out of order.
_CUTOFF_MARGIN = timedelta(minutes=5)
# A callback this long after the payment it reports is a retry (Pivot's first is after 5 min).
_LATE_CALLBACK = timedelta(minutes=5)
# Charges a sweep page asks for at least (Pivot's default page) and, per waiting charge, more.
_MIN_PAGE = 20
# Outbox statuses of a message that went out, or is going out, as it stands; a PENDING or
# HELD one can still be changed before it is sent.
_GONE_OUT = frozenset({OutboxStatus.SENDING, OutboxStatus.SENT})
_UNSENT = frozenset({OutboxStatus.PENDING, OutboxStatus.HELD})
# Seconds between two looks at the charges waiting in the database, when no commit said to:
# a follower's charge is taken up within this even if its commit's notice was missed.
TAKE_UP_EVERY = 10.0
# Answers of the merchant-wide list that say Pivot does not offer it: look up codes instead.
_NO_SWEEP = (
    pivot_client.BadRequestError,
    pivot_client.NotFoundError,
    pivot_client.UnprocessableEntityError,
)


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What one answer of Pivot's says of a waiting charge."""

    state: ChargeConfirmation  # PENDING: nothing final yet (not listed, or not paid yet)
    reason: str = ""  # confirm.reason.<reason> for the seller: unknown, amount, status, session
    detail: str = ""  # for the operators and the log, in plain words
    values: tuple[tuple[str, str], ...] = ()  # for the seller's text


_CONFIRMED = _Verdict(ChargeConfirmation.CONFIRMED)
_NOT_LISTED = _Verdict(ChargeConfirmation.PENDING, "unknown", "does not list it")


@dataclass(slots=True)
class _Waiting:
    """A charge waiting for Pivot's word, and when to ask next."""

    charge: Unconfirmed
    due: float  # time.monotonic() of the next check
    since: float  # time.monotonic() when it was handed over
    failures: int = 0  # checks in a row that got no answer from Pivot
    misses: int = 0  # answers in a row that did not list it as paid
    look_up: bool = False  # ask its code's charges next, not the merchant's


class _Stopped(Exception):
    """The confirmer stopped while a request waited for its turn."""


class Confirmer:
    """Confirms with Pivot's API the charges the ledger hands over; ``start()``/``stop()``.

    Args:
        db: The database.
        pivot: The Pivot client.
        admin_ids: The operators, told of every possible forgery.
        rate: Pivot requests a second, after a burst of ``burst``.
        burst: Requests that may go at once after a quiet spell.
        concurrency: Codes looked up at once.
        grace: Seconds after it was recorded before a charge Pivot does not list is unknown.
        sweep_pages: Pages of the merchant's charges a sweep reads at most.
        sweep_patience: Seconds sweeps may miss a charge before its code's charges are read.
        timeout: Seconds one request may take.
        max_backoff: Longest wait before asking again after Pivot failed to answer.
        rate_limit_pause: Seconds requests pause after a 429.
        take_up_every: Longest time between two looks at the charges the database has waiting.
    """

    def __init__(
        self,
        db: Database,
        pivot: pivot_client.PivotClient,
        admin_ids: Iterable[int],
        *,
        rate: float = 5.0,
        burst: int = 5,
        concurrency: int = 4,
        grace: float = CONFIRM_GRACE,
        sweep_pages: int = 50,
        sweep_patience: float = 20.0,
        timeout: float = 10.0,
        max_backoff: float = 30.0,
        rate_limit_pause: float = 10.0,
        take_up_every: float = TAKE_UP_EVERY,
    ) -> None:
        self._db = db
        # Retries are ours (per charge, with the deadline in view), not the client's.
        self._pivot = pivot.with_options(max_retries=0, timeout=timeout)
        self._admin_ids = tuple(admin_ids)
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._concurrency = concurrency
        self._grace = timedelta(seconds=grace)
        self._sweep_pages = sweep_pages
        self._sweep_patience = sweep_patience
        self._max_backoff = max_backoff
        self._rate_limit_pause = rate_limit_pause
        self._take_up_every = take_up_every
        self._take_up_wanted = False  # a commit queued messages: charges may be waiting
        self._taken_up_at = 0.0  # time.monotonic() of the last look at the database
        self._waiting: dict[str, _Waiting] = {}
        self._checking: set[str] = set()  # charge ids a request is asking about now
        self._sweeping = True  # False once Pivot refused the merchant-wide list
        self._theoretical = 0.0  # pacing: when the next request would be due at ``rate``
        self._paused_until = 0.0  # no request before this (after a 429)
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        """Whether the confirmer's tasks are alive."""
        return bool(self._tasks) and all(not task.done() for task in self._tasks)

    @property
    def waiting(self) -> int:
        """How many charges wait for Pivot's word."""
        return len(self._waiting)

    def request(self, charges: Iterable[Unconfirmed]) -> None:
        """Confirm these charges (the ledger calls this after a commit)."""
        now = time.monotonic()
        for charge in charges:
            # A callback long after the payment (one of Pivot's retries) is for a charge far
            # down the merchant's list: straight to its code's.
            late = charge.recorded_at - charge.paid_at > _LATE_CALLBACK
            self._waiting.setdefault(charge.charge_id, _Waiting(charge, now, now, look_up=late))
        self._changed.set()

    def start(self) -> None:
        """Take up the charges still waiting in the database, then confirm as they come."""
        self._stop.clear()
        self._db.add_outbox_listener(self._committed)
        self._tasks = [asyncio.create_task(self._run(), name="confirmation")]

    def _committed(self) -> None:
        """A commit queued outbox messages (here or in another process): look for charges."""
        self._take_up_wanted = True
        self._changed.set()

    async def stop(self) -> None:
        """Stop between two requests (a request under way is given a moment, then cancelled)."""
        self._stop.set()
        self._changed.set()
        if self._tasks:
            self._db.remove_outbox_listener(self._committed)
            _, late = await asyncio.wait(self._tasks, timeout=2.0)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _run(self) -> None:
        if not await self._resume():
            return
        lookups: asyncio.Queue[list[_Waiting]] = asyncio.Queue()
        workers = [
            asyncio.create_task(self._look_up_codes(lookups), name=f"confirmation-{n}")
            for n in range(self._concurrency)
        ]
        try:
            await self._sweep_loop(lookups)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _resume(self) -> bool:
        """Load the charges a previous run left waiting; False when stopped first."""
        delay = 0.5
        while not self._stop.is_set():
            if await self._take_up():
                return True
            if await self._sleep(delay):
                return False
            delay = min(delay * 2, self._max_backoff)
        return False

    async def _take_up(self) -> bool:
        """Ask about every charge the database has waiting that is not asked about yet
        (recorded by a previous run, or by another process); False if it could not be read."""
        self._take_up_wanted = False
        self._taken_up_at = time.monotonic()
        try:
            stored = await self._db.charges.awaiting_confirmation()
            fresh = [charge for charge in stored if charge.pivot_charge_id not in self._waiting]
            codes = {}
            for code_id in {charge.code_id for charge in fresh if charge.code_id}:
                code = await self._db.codes.get(code_id)
                if code is not None:
                    codes[code_id] = code
        except Exception:
            logger.exception("could not read the charges waiting for confirmation")
            return False
        self.request(
            Unconfirmed.of(charge, codes[charge.code_id])
            for charge in fresh
            if charge.code_id in codes
        )
        if fresh:
            logger.info("%d more charges wait for Pivot's confirmation", len(fresh))
        return True

    async def _sweep_loop(self, lookups: asyncio.Queue[list[_Waiting]]) -> None:
        """Sweep for the charges due; hand what a sweep does not show to the look-ups."""
        while not self._stop.is_set():
            self._changed.clear()
            if self._take_up_wanted or (
                time.monotonic() - self._taken_up_at >= self._take_up_every
            ):
                await self._take_up()
            now = time.monotonic()
            due = [
                waiting
                for waiting in self._waiting.values()
                if waiting.due <= now and waiting.charge.charge_id not in self._checking
            ]
            if not due:
                await self._sleep_until_due()
                continue
            sweep: list[_Waiting] = []
            by_code: dict[int, list[_Waiting]] = {}
            for waiting in due:
                if self._sweeping and not waiting.look_up:
                    sweep.append(waiting)
                else:
                    by_code.setdefault(waiting.charge.code_id, []).append(waiting)
            for group in by_code.values():
                self._checking.update(waiting.charge.charge_id for waiting in group)
                lookups.put_nowait(group)
            if sweep:
                try:
                    await self._check(sweep, None)
                except _Stopped:
                    return

    async def _look_up_codes(self, lookups: asyncio.Queue[list[_Waiting]]) -> None:
        """Look up, one code at a time, the charges a sweep did not show."""
        while True:
            group = await lookups.get()
            try:
                await self._check(group, group[0].charge.reference)
            except _Stopped:
                return
            finally:
                self._checking.difference_update(waiting.charge.charge_id for waiting in group)
                self._changed.set()

    async def _check(self, group: Sequence[_Waiting], reference: str | None) -> None:
        """Ask Pivot about ``group`` (in ``reference``'s charges, or the merchant's) and
        record what it says; a failure to ask leaves them waiting, with a backoff."""
        self._checking.update(waiting.charge.charge_id for waiting in group)
        try:
            if reference is None:
                found, reach = await self._sweep(group)
            else:
                found, reach = await self._walk(group, reference), None
        except _Stopped:
            raise
        except pivot_client.RateLimitError:
            logger.warning("Pivot asked to slow down; confirmations pause")
            self._paused_until = time.monotonic() + self._rate_limit_pause
            return
        except _NO_SWEEP as exc:
            if reference is not None:
                self._failed(group, exc)
                return
            logger.warning(
                "Pivot does not list the merchant's charges (%s); codes are looked up", exc
            )
            self._sweeping = False
            return
        except pivot_client.PivotError as exc:
            self._failed(group, exc)
            return
        except Exception as exc:
            # Anything else is a bug; the charges must still be asked about again.
            logger.exception("confirming %d charges failed", len(group))
            self._failed(group, exc)
            return
        finally:
            if reference is None:
                self._checking.difference_update(waiting.charge.charge_id for waiting in group)
        self.last_error = None
        if reference is None:
            group = self._not_swept(group, found, reach)
        await self._judge(group, found)

    async def _sweep(
        self, group: Sequence[_Waiting]
    ) -> tuple[dict[str, pivot_client.Charge], datetime | None]:
        """Read the merchant's newest charges until every one of ``group`` is seen, or the
        pages reach back past the time each claims, or enough pages were read; what was
        seen of them, and how far back the pages went (None: to the end of the list)."""
        wanted = {waiting.charge.charge_id: waiting.charge for waiting in group}
        found: dict[str, pivot_client.Charge] = {}
        # A page big enough for the group and what comes in while it is read; Pivot's own
        # default (20) at light load, where it is cheaper to read.
        per_page = min(pivot_client.MAX_PAGE_SIZE, max(_MIN_PAGE, 4 * len(group)))
        listed = None
        # Down to the oldest charge waiting, however many came in since: a sweep that stopped
        # short would leave it deeper still for the next one, which would read everything
        # above it again. Callbacks that come late (Pivot's retries) are not swept at all,
        # so this reaches back minutes at most; ``sweep_pages`` only bounds a forged time.
        for page in range(1, self._sweep_pages + 1):
            listed = await self._read(None, page, per_page)
            found.update((charge.id, charge) for charge in listed.items if charge.id in wanted)
            if not self._read_on(listed, wanted, found, timedelta(0)):
                break
        if listed is None or listed.last:
            return found, None
        return found, _oldest(listed.items)

    def _not_swept(
        self,
        group: Sequence[_Waiting],
        found: Mapping[str, pivot_client.Charge],
        reach: datetime | None,
    ) -> list[_Waiting]:
        """Of ``group``, those a sweep showed; the others go to their codes' charges if the
        pages reached back past their time (only those can say a charge is not there), or if
        sweeps have missed them for ``sweep_patience`` seconds. Otherwise the next sweep
        looks again: while payments pour in, the pages shift under a sweep as it reads them,
        and the next one, with the charges that came in since, is cheaper than a look-up per
        code."""
        now = time.monotonic()
        shown = []
        for waiting in group:
            if waiting.charge.charge_id in found:
                shown.append(waiting)
                continue
            waiting.failures = 0
            passed = reach is None or reach < waiting.charge.paid_at
            if passed or now - waiting.since >= self._sweep_patience:
                waiting.look_up = True
        return shown

    async def _walk(
        self, group: Sequence[_Waiting], reference: str
    ) -> dict[str, pivot_client.Charge]:
        """Read a code's charges, newest first, until every one of ``group`` is seen, the
        list ends, or it reaches well past the time each claims: then those not seen are
        not there."""
        wanted = {waiting.charge.charge_id: waiting.charge for waiting in group}
        found: dict[str, pivot_client.Charge] = {}
        page = 1
        while True:
            listed = await self._read(reference, page, pivot_client.MAX_PAGE_SIZE)
            found.update((charge.id, charge) for charge in listed.items if charge.id in wanted)
            if not self._read_on(listed, wanted, found, _CUTOFF_MARGIN):
                return found
            page += 1

    async def _read(
        self, reference: str | None, page: int, per_page: int
    ) -> pivot_client.Page[pivot_client.Charge]:
        """One page of charges, when it is this request's turn."""
        if await self._turn():
            raise _Stopped
        return await self._pivot.list_charges_page(reference, page=page, per_page=per_page)

    @staticmethod
    def _read_on(
        listed: pivot_client.Page[pivot_client.Charge],
        wanted: Mapping[str, Unconfirmed],
        found: Mapping[str, pivot_client.Charge],
        margin: timedelta,
    ) -> bool:
        """Whether a charge of ``wanted`` may still be on the next page."""
        missing = [charge.paid_at for key, charge in wanted.items() if key not in found]
        if not missing or listed.last:
            return False
        oldest = _oldest(listed.items)
        return oldest is None or oldest >= min(missing) - margin

    def _failed(self, group: Sequence[_Waiting], exc: Exception) -> None:
        """Pivot did not answer: ask again later, later each time."""
        self.last_error = type(exc).__name__
        now = time.monotonic()
        # One jitter for the group: charges asked about together stay together.
        jitter = random.uniform(0.5, 1.0)  # noqa: S311 - not for security
        for waiting in group:
            waiting.failures += 1
            waiting.due = now + min(self._max_backoff, 2.0 ** (waiting.failures - 1)) * jitter
        logger.warning("could not confirm %d charges with Pivot: %s", len(group), exc)

    async def _judge(
        self, group: Sequence[_Waiting], found: Mapping[str, pivot_client.Charge]
    ) -> None:
        """Settle what Pivot's answer decides (one not in ``found`` is not listed); schedule
        the rest."""
        now = time.monotonic()
        clock = utcnow()
        final: list[tuple[Unconfirmed, _Verdict]] = []
        for waiting in group:
            charge = waiting.charge
            listed = found.get(charge.charge_id)
            waiting.failures = 0
            verdict = _NOT_LISTED if listed is None else _verdict(charge, listed)
            if verdict.state is ChargeConfirmation.PENDING:
                if clock - charge.recorded_at < self._grace:
                    waiting.misses += 1
                    waiting.look_up = True
                    left = (charge.recorded_at + self._grace - clock).total_seconds()
                    waiting.due = now + max(0.2, min(2.0 ** (waiting.misses - 1), left))
                    continue
                verdict = _final(verdict)
            final.append((charge, verdict))
        if final:
            await self._settle(final)

    async def _settle(self, final: Sequence[tuple[Unconfirmed, _Verdict]]) -> None:
        """Record Pivot's word and what follows from it, in one transaction."""
        now = utcnow()
        try:
            async with self._db.write() as tx:
                settled = await tx.charges.settle(
                    {charge.charge_id: verdict.state for charge, verdict in final}, now=now
                )
                decided = [(c, v) for c, v in final if c.charge_id in settled]
                await self._follow_up(tx, decided)
        except Exception:
            logger.exception("could not record Pivot's confirmation; asking again")
            retry = time.monotonic() + 1.0
            for charge, _ in final:
                if charge.charge_id in self._waiting:
                    self._waiting[charge.charge_id].due = retry
            return
        for charge, _ in final:
            self._waiting.pop(charge.charge_id, None)
        confirmed = sum(verdict is _CONFIRMED for _, verdict in decided)
        if confirmed:
            logger.info("Pivot confirmed %d charges", confirmed)
        for charge, verdict in decided:
            if verdict is not _CONFIRMED:
                logger.warning(
                    "charge %s on code %d: Pivot %s; kept, not announced",
                    charge.charge_id,
                    charge.code_id,
                    verdict.detail,
                )

    async def _follow_up(
        self, tx: Transaction, decided: Sequence[tuple[Unconfirmed, _Verdict]]
    ) -> None:
        """Release, set aside or follow up each settled charge's message."""
        keys = {payment_dedupe_key(charge.charge_id): charge for charge, _ in decided}
        rows = await tx.outbox.by_dedupe_keys(keys)
        released: list[tuple[int, str]] = []
        set_aside: list[int] = []
        confirmed_late: dict[int, list[tuple[Unconfirmed, PaymentNotice]]] = {}
        now = utcnow()
        for charge, verdict in decided:
            row = rows.get(payment_dedupe_key(charge.charge_id))
            notice = _notice(row)
            told = row is not None and notice is not None and row.status in _GONE_OUT
            if verdict is _CONFIRMED:
                if row is not None and notice is not None and row.status in _UNSENT:
                    released.append((row.id, _without_flag(notice).model_dump_json()))
                elif told and row is not None and notice is not None:
                    confirmed_late.setdefault(row.chat_id, []).append((charge, notice))
                continue
            if row is not None and row.status in _UNSENT:
                set_aside.append(row.id)
            elif told and row is not None and notice is not None:
                await tx.outbox.enqueue_all([_refuted(charge, verdict, row, notice)], now=now)
            await alert_operators(
                tx,
                self._admin_ids,
                "alert.possible_forgery_told" if told else "alert.possible_forgery",
                dedupe=f"forgery:{charge.charge_id}",
                now=now,
                charge_id=charge.charge_id[:64],
                amount=format_rupiah(charge.amount),
                code_id=charge.code_id,
                seller_id=charge.seller_id,
                reason=verdict.detail,
            )
        if released:
            await tx.outbox.release(released, now=now)
        if set_aside:
            await tx.outbox.mark_failed(set_aside, error="not confirmed by Pivot's API")
        # Buyers' receipts (bot.receipts) waited for this word alone: out now, or never.
        confirmed = [charge.charge_id for charge, verdict in decided if verdict is _CONFIRMED]
        refuted = [charge.charge_id for charge, verdict in decided if verdict is not _CONFIRMED]
        if confirmed:
            await tx.outbox.release_awaiting(confirmed, now=now)
        if refuted:
            await tx.outbox.fail_awaiting(refuted, error="not confirmed by Pivot's API")
        await tx.outbox.enqueue_all(
            [_confirmed_late(chat, told) for chat, told in confirmed_late.items()], now=now
        )

    async def _turn(self) -> bool:
        """Wait for this request's turn at ``rate``; True when stopped first."""
        now = time.monotonic()
        at = max(now, self._theoretical - self._tolerance, self._paused_until)
        self._theoretical = max(self._theoretical, at) + self._interval
        return await self._sleep(at - now)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; True when stopped."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    async def _sleep_until_due(self) -> None:
        """Wait for a new charge, the next one due, the next look at the database, or the
        stop."""
        pending = [
            w.due for w in self._waiting.values() if w.charge.charge_id not in self._checking
        ]
        pending.append(self._taken_up_at + self._take_up_every)
        timeout = max(0.0, min(pending) - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


def _oldest(charges: Sequence[pivot_client.Charge]) -> datetime | None:
    """When the oldest of ``charges`` was paid (or made), if Pivot said."""
    moments = [charge.paid_at or charge.created_at for charge in charges]
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


def _verdict(charge: Unconfirmed, listed: pivot_client.Charge) -> _Verdict:
    """What Pivot's listing of ``charge`` says of it."""
    session_id = listed.payment_session_id
    reference = listed.payment_session_client_reference_id
    if (charge.session_id and session_id and session_id != charge.session_id) or (
        reference and reference != charge.reference
    ):
        return _Verdict(
            ChargeConfirmation.MISMATCH, "session", f"lists it on session {session_id}"
        )
    if listed.status is not pivot_client.ChargeStatus.SUCCESS:
        status = str(listed.status)
        return _Verdict(
            ChargeConfirmation.PENDING,
            "status",
            f"lists it as {status}",
            (("status", status),),
        )
    amount = listed.amount
    if amount.currency != "IDR" or amount.value != charge.amount:
        shown = format_rupiah(amount.value) if amount.currency == "IDR" else str(amount.value)
        return _Verdict(
            ChargeConfirmation.MISMATCH,
            "amount",
            f"lists it with amount {amount.value} {amount.currency}",
            (("amount", shown),),
        )
    return _CONFIRMED


def _final(verdict: _Verdict) -> _Verdict:
    """``verdict`` once the grace is over: not listed is unknown, not paid is a mismatch."""
    state = (
        ChargeConfirmation.UNKNOWN if verdict.reason == "unknown" else ChargeConfirmation.MISMATCH
    )
    return _Verdict(state, verdict.reason, verdict.detail, verdict.values)


def _notice(row: OutboxMessage | None) -> PaymentNotice | None:
    """The payment a message reports (None when it is not one, or cannot be read)."""
    if row is None or row.kind != PAYMENT_KIND:
        return None
    try:
        return PaymentNotice.model_validate_json(row.payload)
    except ValueError:
        return None


def _without_flag(notice: PaymentNotice) -> PaymentNotice:
    flags = tuple(flag for flag in notice.flags if flag is not Flag.UNCONFIRMED)
    return notice.model_copy(update={"flags": flags})


def _payment_values(notice: PaymentNotice) -> dict[str, object]:
    """What a follow-up says of the payment it is about."""
    return {
        "amount": format_rupiah(notice.amount),
        "customer": notice.customer,
        "reference": notice.reference,
    }


def _confirmed_late(chat_id: int, told: Sequence[tuple[Unconfirmed, PaymentNotice]]) -> NewMessage:
    """One follow-up for a chat told of these payments as not yet confirmed: they are."""
    notices = [notice for _, notice in told]
    lang = notices[0].language
    if len(notices) == 1:
        body = text(lang, "confirm.one", **_payment_values(notices[0]))
    else:
        lines = [text(lang, "confirm.many", count=len(notices))]
        lines += [text(lang, "confirm.line", **_payment_values(notice)) for notice in notices]
        body = "\n".join(lines)
    return NewMessage(
        # A charge is confirmed once: its id makes the key of the one follow-up naming it first.
        dedupe_key=f"confirmed:{told[0][0].charge_id}",
        chat_id=chat_id,
        kind=TEXT_KIND,
        payload=TextNotice(text=body).model_dump_json(),
    )


def _refuted(
    charge: Unconfirmed, verdict: _Verdict, row: OutboxMessage, notice: PaymentNotice
) -> NewMessage:
    """The follow-up for a seller told of ``charge`` as not yet confirmed: it is not paid."""
    lang = notice.language
    reason = text(lang, f"confirm.reason.{verdict.reason}", **dict(verdict.values))
    body = text(lang, "confirm.refuted", reason=reason, **_payment_values(notice))
    return NewMessage(
        dedupe_key=f"refuted:{charge.charge_id}",
        chat_id=row.chat_id,
        kind=TEXT_KIND,
        payload=TextNotice(text=body).model_dump_json(),
    )
