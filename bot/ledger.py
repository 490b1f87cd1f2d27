"""The money records: every SUCCESS charge recorded once, with its message, in one transaction.

Callbacks and reconciliation both come through ``Ledger.record_charges``, so a charge is
recorded and announced the same way whichever finds it first, and only once: the UNIQUE
constraint on Pivot's charge id decides, not a check made beforehand (design.md §4, rule 3).

Callbacks that arrive together share one transaction (group commit): one BEGIN, one durable
COMMIT and one turn of the writer lock for the lot, where each used to take its own; that was
what held ingestion to about a third of a bare endpoint's rate (BENCHMARKS.md). Each callback
is still answered only after the commit that holds it, and its records are written exactly as
alone, one callback after the other. If anything in a batch fails, the batch is rolled back
and its callbacks are recorded one by one, so only the one at fault gets its 5xx.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import pivot_client
from bot.alerts import alert_operators
from bot.amounts import format_rupiah
from bot.clock import utcnow
from bot.notifications import PAYMENT_KIND, Flag, PaymentNotice
from storage import (
    ChargeSource,
    Code,
    CodeKind,
    CodeStatus,
    Database,
    InboxOutcome,
    NewCharge,
    Transaction,
)

__all__ = ["Ledger", "Recorded", "payment_dedupe_key"]

logger = logging.getLogger(__name__)


# Outcomes whose transaction queued a message (a payment or an operator alert).
_QUEUES_MESSAGES = frozenset(
    {InboxOutcome.RECORDED, InboxOutcome.UNKNOWN_SESSION, InboxOutcome.DEAD_LETTER}
)
# Callbacks in one group commit at most: bounds how long one transaction holds the writer.
MAX_BATCH = 64


class Recorded(StrEnum):
    """What recording one charge did."""

    NEW = "new"
    DUPLICATE = "duplicate"
    UNKNOWN_SESSION = "unknown_session"


@dataclass(frozen=True, slots=True)
class SessionRef:
    """Which session a charge belongs to, as Pivot named it."""

    session_id: str
    client_reference_id: str | None


@dataclass(slots=True)
class _Waiting:
    """A callback body waiting for the group commit that records it."""

    body: bytes
    done: asyncio.Future[tuple[int, InboxOutcome]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def payment_dedupe_key(pivot_charge_id: str) -> str:
    """The outbox key of a charge's payment message: one message per charge, ever."""
    return f"payment:{pivot_charge_id}"


class Ledger:
    """Records Pivot's charges and queues the sellers' messages.

    Args:
        db: The database.
        admin_ids: Operators, told about dead letters and charges on unknown sessions.
        on_recorded: Called after a commit that queued messages (wakes the relay).
    """

    def __init__(
        self, db: Database, admin_ids: Iterable[int], on_recorded: Callable[[], None]
    ) -> None:
        self._db = db
        self._admin_ids = frozenset(admin_ids)
        self._on_recorded = on_recorded
        self._waiting: list[_Waiting] = []
        self._committer: asyncio.Task[None] | None = None

    async def record_callback(self, body: bytes) -> None:
        """Store an authenticated callback body and record its charges, or raise to get a 5xx.

        One transaction holds the raw body, the charges and their messages: after a commit
        everything is on disk, before it nothing is, and Pivot retries whatever was not.
        Returns only once that transaction is committed (it may hold other callbacks too).
        """
        waiting = _Waiting(body)
        self._waiting.append(waiting)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_waiting(), name="group-commit")
        entry_id, outcome = await waiting.done
        logger.info("callback #%d: %s", entry_id, outcome)

    async def _commit_waiting(self) -> None:
        """Commit the callbacks waiting, a batch at a time, until none is left."""
        batch: list[_Waiting] = []
        try:
            while self._waiting:
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
                await self._commit_batch(batch)
        except BaseException:
            # Only a cancellation gets here: no request may wait for ever for its answer.
            for waiting in batch + self._waiting:
                _answer(waiting, RuntimeError("stopped before the callback was recorded"))
            self._waiting.clear()
            raise

    async def _commit_batch(self, batch: Sequence[_Waiting]) -> None:
        """Record ``batch`` in one transaction; after a failure, each alone."""
        now = utcnow()
        try:
            async with self._db.write() as tx:
                results = [await self._store(tx, waiting.body, now) for waiting in batch]
        except Exception as exc:
            if len(batch) > 1:
                for waiting in batch:
                    await self._commit_batch([waiting])
            else:
                _answer(batch[0], exc)
            return
        if any(outcome in _QUEUES_MESSAGES for _, outcome in results):
            self._on_recorded()
        for waiting, result in zip(batch, results, strict=True):
            _answer(waiting, result)

    async def _store(
        self, tx: Transaction, body: bytes, now: datetime
    ) -> tuple[int, InboxOutcome]:
        """Write one callback inside ``tx``: its inbox entry, charges and messages."""
        entry_id = await tx.inbox.add(body, now=now)
        try:
            event = pivot_client.parse_callback(body)
        except pivot_client.CallbackError as exc:
            # A retry of the same body would fail the same way: keep it and tell a person.
            reason = str(exc)[:200]
            await tx.inbox.set_outcome(entry_id, InboxOutcome.DEAD_LETTER, reason)
            await alert_operators(
                tx,
                self._admin_ids,
                "alert.dead_letter",
                dedupe=f"dead:{entry_id}",
                now=now,
                inbox_id=entry_id,
                reason=reason,
            )
            logger.warning("callback #%d kept as a dead letter: %s", entry_id, reason)
            return entry_id, InboxOutcome.DEAD_LETTER
        if isinstance(event, pivot_client.ChargeSuccessEvent):
            ref = SessionRef(event.session.id, event.session.client_reference_id)
            results = await self._record(tx, ref, event.charges, ChargeSource.CALLBACK, now)
            outcome = _inbox_outcome(results)
        else:
            outcome = InboxOutcome.IGNORED
        await tx.inbox.set_outcome(entry_id, outcome, type(event).__name__)
        return entry_id, outcome

    async def record_charges(
        self,
        session_id: str,
        client_reference_id: str | None,
        charges: Sequence[pivot_client.Charge],
        source: ChargeSource,
    ) -> list[Recorded]:
        """Record charges found outside a callback (reconciliation); one transaction."""
        now = utcnow()
        ref = SessionRef(session_id, client_reference_id)
        async with self._db.write() as tx:
            results = await self._record(tx, ref, charges, source, now)
        if any(result is not Recorded.DUPLICATE for result in results):
            self._on_recorded()
        return results

    async def _record(
        self,
        tx: Transaction,
        ref: SessionRef,
        charges: Sequence[pivot_client.Charge],
        source: ChargeSource,
        now: datetime,
    ) -> list[Recorded]:
        code = await tx.codes.find_by_session(ref.session_id)
        if code is None and ref.client_reference_id:
            code = await tx.codes.find_by_reference(ref.client_reference_id)
        return [
            await self._record_one(tx, code, ref, charge, source, now)
            for charge in charges
            if charge.status is pivot_client.ChargeStatus.SUCCESS
        ]

    async def _record_one(
        self,
        tx: Transaction,
        code: Code | None,
        ref: SessionRef,
        charge: pivot_client.Charge,
        source: ChargeSource,
        now: datetime,
    ) -> Recorded:
        flags = _flags(code, charge.amount.value, source)
        paid_at = charge.paid_at or charge.created_at or now
        channel, issuer, reference = _channel_of(charge)
        recorded = await tx.charges.insert_if_new(
            NewCharge(
                pivot_charge_id=charge.id,
                code_id=code.id if code else None,
                seller_id=code.seller_id if code else None,
                session_id=ref.session_id,
                client_reference_id=ref.client_reference_id,
                amount=charge.amount.value,
                paid_at=paid_at,
                channel=channel,
                issuer=issuer,
                reference=reference,
                source=source,
                flags=frozenset(flags),
            ),
            now=now,
        )
        if recorded is None:
            return Recorded.DUPLICATE
        if code is None:
            await alert_operators(
                tx,
                self._admin_ids,
                "alert.unknown_session",
                dedupe=f"unknown:{charge.id}",
                now=now,
                amount=format_rupiah(charge.amount.value),
                session_id=ref.session_id,
                charge_id=charge.id,
            )
            logger.warning("charge %s on unknown session %s kept", charge.id, ref.session_id)
            return Recorded.UNKNOWN_SESSION
        await tx.codes.touch_payment(code.id, paid_at)
        count, total = await tx.charges.stats_for_code(code.id)
        seller = await tx.sellers.get(code.seller_id)
        if seller is None:  # the foreign key makes this impossible; refuse rather than guess
            raise LookupError(f"code {code.id} has no seller")
        notice = PaymentNotice(
            # What the buyer's app shows for QRIS (the RRN); Pivot's charge id otherwise.
            reference=(reference if code.kind is CodeKind.QRIS else None) or charge.id,
            amount=charge.amount.value,
            customer=code.customer,
            kind="QRIS" if code.kind is CodeKind.QRIS else "VA",
            bank=code.bank,
            issuer=issuer,
            paid_at=paid_at,
            count=count,
            total=total,
            expected_amount=code.amount,
            flags=tuple(flags),
            language=seller.language,
            timezone=seller.timezone,
        )
        await tx.outbox.enqueue(
            dedupe_key=payment_dedupe_key(charge.id),
            chat_id=seller.chat_id,
            kind=PAYMENT_KIND,
            payload=notice.model_dump_json(),
            now=now,
        )
        logger.info("charge %s recorded on code %d (%s)", charge.id, code.id, source)
        return Recorded.NEW


def _answer(waiting: _Waiting, result: tuple[int, InboxOutcome] | BaseException) -> None:
    """Hand a waiting callback its result or error (unless its request stopped waiting)."""
    if waiting.done.done():
        return
    if isinstance(result, BaseException):
        waiting.done.set_exception(result)
    else:
        waiting.done.set_result(result)


def _flags(code: Code | None, amount: int, source: ChargeSource) -> list[Flag]:
    """What the seller must notice: a wrong amount, a retired code, a payment found late."""
    flags = []
    if code is not None and code.amount is not None and amount != code.amount:
        flags.append(Flag.AMOUNT_MISMATCH)
    if code is not None and code.status is CodeStatus.DEACTIVATED:
        flags.append(Flag.DEACTIVATED_CODE)
    if source is ChargeSource.RECONCILIATION:
        flags.append(Flag.LATE)
    return flags


def _channel_of(charge: pivot_client.Charge) -> tuple[str | None, str | None, str | None]:
    """(channel, QRIS issuer, the QRIS RRN or the VA number) of a charge."""
    if charge.qr is not None:
        return "QRIS", charge.qr.issuer_name, charge.qr.retrieval_reference_number
    if charge.virtual_account is not None:
        return charge.virtual_account.channel, None, charge.virtual_account.virtual_account_number
    return None, None, None


def _inbox_outcome(results: Sequence[Recorded]) -> InboxOutcome:
    """One outcome for a callback that may carry several charges."""
    if Recorded.NEW in results:
        return InboxOutcome.RECORDED
    if Recorded.UNKNOWN_SESSION in results:
        return InboxOutcome.UNKNOWN_SESSION
    if results:
        return InboxOutcome.DUPLICATE
    return InboxOutcome.IGNORED
