"""The money records: every SUCCESS charge recorded once, with its message, in one transaction.

Callbacks and reconciliation (``Ledger.record_charges``) go through the same ``_Work.record``, so
a charge is recorded and announced the same way whichever finds it first, and only once: the
UNIQUE constraint on Pivot's charge id decides, not a check made beforehand (docs/money.md
rule 3). A ``_Work`` is one transaction's: what it writes, and what is told once it commits.

Callbacks that arrive together share one transaction (group commit): one BEGIN, one durable
COMMIT and one turn of the writer lock for the lot, and one statement per step for all their
charges (BENCHMARKS.md has the figures). Each callback is still answered only after the commit
that holds it, and what it records is what it would record alone, after the callbacks before
it. If anything in a batch fails, the batch is rolled back and its callbacks are recorded one
by one, so only the one at fault gets its 5xx.

A callback is evidence, not proof (docs/money.md rule 6): a charge it reports is recorded
PENDING, its message flagged "not yet confirmed" and due only ``confirm_within`` seconds later,
and handed to ``confirm`` after the commit; ``bot.confirm`` asks Pivot's API and releases the
message, unflagged, as soon as Pivot lists the charge (docs/confirmation.md). Buyers' receipts
(``bot.receipts``) are queued in the same transaction and wait for that confirmation however
long it takes. A charge found through Pivot's API (reconciliation, look-ups) is confirmed as it
is recorded.

Any payment event counts, whatever Pivot names it (docs/money.md rule 8), and a callback on one
of our codes that records nothing new makes the bot look that session up at Pivot at once
(``look_up``, after the commit). Only a positive whole number of rupiah within Pivot's limits
is money (``pivot_client.Charge.money_problem``); a charge that is not, and a body that cannot
be read, are kept with their reason and told to the operators once, and Pivot gets its 200:
sending the same body again would not make it readable.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import pivot_client
from bot.alerts import alert_operators
from bot.amounts import format_rupiah
from bot.clock import utcnow
from bot.notifications import PAYMENT_KIND, Flag, PaymentNotice, shown_flags
from bot.receipts import receipt_message
from storage import (
    Charge,
    ChargeConfirmation,
    ChargeSource,
    Code,
    CodeKind,
    CodeStatus,
    Database,
    InboxOutcome,
    NewCharge,
    NewMessage,
    Seller,
    Transaction,
)

__all__ = ["CONFIRM_WITHIN", "Ledger", "Recorded", "Unconfirmed", "payment_dedupe_key"]

logger = logging.getLogger(__name__)


# Callbacks in one group commit at most: bounds how long one transaction holds the writer.
MAX_BATCH = 64
# Characters of a Pivot id an alert shows (Pivot's are 36-character UUIDs).
_ID_SHOWN = 64
# Seconds a callback's payment message waits for Pivot's confirmation before it goes out
# flagged "not yet confirmed" (the "about a minute").
CONFIRM_WITHIN = 60.0


class Recorded(StrEnum):
    """What recording one charge did."""

    NEW = "new"
    DUPLICATE = "duplicate"
    UNKNOWN_SESSION = "unknown_session"
    REFUSED = "refused"  # not money: kept out of the records, operators told


@dataclass(frozen=True, slots=True)
class SessionRef:
    """Which session a charge belongs to, as Pivot named it."""

    session_id: str
    client_reference_id: str | None


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    """A charge a callback reported on one of our codes, waiting for Pivot's API to confirm it."""

    charge_id: str  # Pivot's
    code_id: int
    seller_id: int
    reference: str  # the code's clientReferenceId: ours, whatever the callback said
    session_id: str | None  # the code's Pivot session, when known
    amount: int
    paid_at: datetime
    recorded_at: datetime

    @classmethod
    def of(cls, charge: Charge, code: Code) -> Unconfirmed:
        """The recorded ``charge`` on ``code``."""
        return cls(
            charge_id=charge.pivot_charge_id,
            code_id=code.id,
            seller_id=code.seller_id,
            reference=code.client_reference_id,
            session_id=code.pivot_session_id,
            amount=charge.amount,
            paid_at=charge.paid_at,
            recorded_at=charge.recorded_at,
        )


@dataclass(slots=True)
class _Waiting:
    """A callback body waiting for the group commit that records it."""

    body: bytes
    truncated: bool
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
        look_up: Called after a commit with each code whose session must be looked up at
            Pivot now: a callback named it but recorded nothing new. None: nobody looks.
        confirm: Called after a commit with the charges it recorded from callbacks on our
            codes, to be confirmed with Pivot's API. None: nobody confirms them, and their
            messages go out flagged after ``confirm_within``.
        confirm_within: Seconds a callback's payment message waits for the confirmation.
    """

    def __init__(
        self,
        db: Database,
        admin_ids: Iterable[int],
        *,
        look_up: Callable[[Code], None] | None = None,
        confirm: Callable[[list[Unconfirmed]], None] | None = None,
        confirm_within: float = CONFIRM_WITHIN,
    ) -> None:
        self._db = db
        self._admin_ids = frozenset(admin_ids)
        self._look_up = look_up
        self._confirm = confirm
        self._confirm_within = timedelta(seconds=confirm_within)
        self._waiting: list[_Waiting] = []
        self._committer: asyncio.Task[None] | None = None

    async def record_callback(self, body: bytes, *, truncated: bool = False) -> None:
        """Store an authenticated callback body and record its charges, or raise to get a 5xx.

        One transaction holds the raw body, the charges and their messages: after a commit
        everything is on disk, before it nothing is, and Pivot retries whatever was not.
        Returns only once that transaction is committed (it may hold other callbacks too).
        A ``truncated`` body (the start of one over the size cap) is kept as a dead letter.
        """
        waiting = _Waiting(body, truncated)
        self._waiting.append(waiting)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_waiting(), name="group-commit")
        entry_id, outcome = await waiting.done
        # INFO has a line per charge recorded already; this one is for tracing a callback.
        logger.debug("callback #%d: %s", entry_id, outcome)

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
                work = self._work(tx, now)
                results = await work.store(batch)
        except Exception as exc:
            if len(batch) > 1:
                for waiting in batch:
                    await self._commit_batch([waiting])
            else:
                _answer(batch[0], exc)
            return
        self._committed(work)
        for waiting, result in zip(batch, results, strict=True):
            _answer(waiting, result)

    async def record_charges(
        self,
        session_id: str,
        client_reference_id: str | None,
        charges: Sequence[pivot_client.Charge],
        source: ChargeSource,
    ) -> list[Recorded]:
        """Record charges found through Pivot's API (reconciliation, look-ups), confirmed as
        they are: one transaction."""
        now = utcnow()
        ref = SessionRef(session_id, client_reference_id)
        found = _Found(ref, charges, source, confirmed=True)
        async with self._db.write() as tx:
            work = self._work(tx, now)
            [candidates] = await work.record([found], await _codes_of(tx, [ref]))
        self._committed(work)
        return [candidate.outcome for candidate in candidates]

    def _work(self, tx: Transaction, now: datetime) -> _Work:
        return _Work(tx, now, self._admin_ids, now + self._confirm_within)

    def _committed(self, work: _Work) -> None:
        """Tell what a committed transaction did: its log lines, the charges Pivot is to
        confirm, the sessions to look up."""
        for level, message, args in work.lines:
            logger.log(level, message, *args)
        if self._confirm is not None and work.unconfirmed:
            self._confirm(work.unconfirmed)
        if self._look_up is not None:
            for code in work.looked_up.values():
                self._look_up(code)


class _Work:
    """What one ledger transaction writes through ``tx``, all at ``now``, and what is told only
    once it is committed (``Ledger._committed``), since a batch rolled back and replayed must
    not have said "recorded" for what it did not keep."""

    __slots__ = ("_admin_ids", "_deadline", "lines", "looked_up", "now", "tx", "unconfirmed")

    def __init__(
        self, tx: Transaction, now: datetime, admin_ids: frozenset[int], deadline: datetime
    ) -> None:
        self.tx = tx
        self.now = now
        self._admin_ids = admin_ids
        self._deadline = deadline  # when a message waiting for Pivot's confirmation is due
        self.lines: list[tuple[int, str, tuple[object, ...]]] = []  # logged after the commit
        self.unconfirmed: list[Unconfirmed] = []  # recorded from callbacks, for ``confirm``
        self.looked_up: dict[int, Code] = {}  # codes whose session Pivot is asked about

    def _log(self, level: int, message: str, *args: object) -> None:
        self.lines.append((level, message, args))

    async def _alert(self, key: str, /, *, dedupe: str, **values: object) -> None:
        await alert_operators(self.tx, self._admin_ids, key, dedupe=dedupe, now=self.now, **values)

    async def store(self, batch: Sequence[_Waiting]) -> list[tuple[int, InboxOutcome]]:
        """Write callbacks: their inbox entries, charges and messages; each entry's outcome."""
        tx = self.tx
        bodies = [waiting.body for waiting in batch]
        entry_ids = await tx.inbox.add_all(bodies, now=self.now)
        read = [_read(waiting.body, waiting.truncated) for waiting in batch]
        codes = await _codes_of(tx, [item.ref for item in read if item.ref is not None])
        paid = [
            (entry_id, item.ref, item.event)
            for entry_id, item in zip(entry_ids, read, strict=True)
            if isinstance(item.event, pivot_client.SessionEvent) and item.ref is not None
        ]
        found = [
            _Found(ref, event.charges, ChargeSource.CALLBACK, confirmed=False)
            for _, ref, event in paid
        ]
        recorded = dict(
            zip(
                (entry_id for entry_id, _, _ in paid),
                await self.record(found, codes),
                strict=True,
            )
        )
        outcomes: list[tuple[int, InboxOutcome, str]] = []
        for entry_id, body, item in zip(entry_ids, bodies, read, strict=True):
            candidates = recorded.get(entry_id, [])
            if item.event is None:
                outcome, detail = await self._dead_letter(entry_id, body, item)
            else:
                outcome = _inbox_outcome([candidate.outcome for candidate in candidates])
                detail = _detail(item.event, candidates)
            code = codes.get(item.ref) if item.ref is not None else None
            if code is not None and all(c.outcome is not Recorded.NEW for c in candidates):
                # Nothing new from a callback on our code: its payment may be on another page,
                # under another event, or unreadable here. Pivot's API will say.
                self.looked_up[code.id] = code
                detail += "; session looked up"
            outcomes.append((entry_id, outcome, detail))
        await tx.inbox.set_outcomes(outcomes)
        return [(entry_id, outcome) for entry_id, outcome, _ in outcomes]

    async def _dead_letter(
        self, entry_id: int, body: bytes, item: _Read
    ) -> tuple[InboxOutcome, str]:
        """Keep a callback that cannot be read and tell a person, once per distinct body (a
        retry of it would fail alike)."""
        reason = item.error[:200]
        digest = hashlib.sha256(body).hexdigest()[:32]
        await self._alert(
            "alert.dead_letter", dedupe=f"dead:{digest}", inbox_id=entry_id, reason=reason
        )
        self._log(logging.WARNING, "callback #%d kept as a dead letter: %s", entry_id, reason)
        return InboxOutcome.DEAD_LETTER, reason

    async def record(
        self, found: Sequence[_Found], codes: Mapping[SessionRef, Code]
    ) -> list[list[_Candidate]]:
        """Record the SUCCESS charges of each ``found`` (on ``codes``, by session); what became
        of each, per ``found``.

        Set-wise: one statement per step for the whole batch, not one per charge (only the
        rare cases, a session found by its reference or unknown, add their own). Every
        statement is a hop to the database thread, and those hops were most of what a
        callback cost (BENCHMARKS.md). The records are those of recording one by one.
        """
        candidates = [
            _candidate(index, codes.get(item.ref), item, charge, self.now)
            for index, item in enumerate(found)
            for charge in item.charges
            if charge.status is pivot_client.ChargeStatus.SUCCESS
        ]
        refused = [c for c in candidates if c.problem is not None]
        for candidate in refused:
            candidate.outcome = Recorded.REFUSED
            await self._alert_refused(candidate)
        candidates_ok = [c for c in candidates if c.problem is None]
        if candidates_ok:
            inserted = await self.tx.charges.insert_new(
                [c.record for c in candidates_ok], now=self.now
            )
            unclaimed = {charge.pivot_charge_id: charge for charge in inserted}
            for candidate in candidates_ok:
                # A charge twice in one batch is new the first time only, as it would be alone.
                charge = unclaimed.pop(candidate.record.pivot_charge_id, None)
                if charge is None:
                    continue
                if candidate.code is None:
                    candidate.outcome = Recorded.UNKNOWN_SESSION
                    continue
                candidate.outcome = Recorded.NEW
                if charge.confirmation is ChargeConfirmation.PENDING:
                    self.unconfirmed.append(Unconfirmed.of(charge, candidate.code))
        fresh = [
            (c, c.code) for c in candidates if c.outcome is Recorded.NEW and c.code is not None
        ]
        if fresh:
            await self._announce(fresh)
        for candidate in candidates:
            if candidate.outcome is Recorded.UNKNOWN_SESSION:
                await self._alert_unknown_session(candidate.record)
        results: list[list[_Candidate]] = [[] for _ in found]
        for candidate in candidates:
            results[candidate.index].append(candidate)
        return results

    async def _alert_refused(self, candidate: _Candidate) -> None:
        """Tell the operators, once per charge, that Pivot reported a charge that is not money."""
        record = candidate.record
        await self._alert(
            "alert.refused_charge",
            dedupe=f"refused:{record.pivot_charge_id}",
            # Ids come from the body: cut, so no id can make the alert too long to send.
            charge_id=record.pivot_charge_id[:_ID_SHOWN],
            session_id=record.session_id[:_ID_SHOWN],
            reason=candidate.problem,
        )
        self._log(
            logging.WARNING,
            "charge %s on session %s refused: %s",
            record.pivot_charge_id,
            record.session_id,
            candidate.problem,
        )

    async def _announce(self, fresh: Sequence[tuple[_Candidate, Code]]) -> None:
        """Queue a payment message for each charge just recorded on one of our codes."""
        tx = self.tx
        latest: dict[int, datetime] = {}
        for candidate, code in fresh:
            paid_at = candidate.record.paid_at
            latest[code.id] = max(latest.get(code.id, paid_at), paid_at)
        await tx.codes.touch_payments(latest)
        stats = await tx.charges.stats_for_codes(latest)
        sellers = await tx.sellers.get_many({code.seller_id for _, code in fresh})
        # The counts include the whole batch: walking back from its last charge gives each
        # message the count and total up to its own charge, as if recorded one at a time.
        messages: list[NewMessage] = []
        for candidate, code in reversed(fresh):
            count, total = stats[code.id]
            stats[code.id] = (count - 1, total - candidate.record.amount)
            seller = sellers.get(code.seller_id)
            if seller is None:  # the foreign key makes this impossible; refuse rather than guess
                raise LookupError(f"code {code.id} has no seller")
            messages.append(
                _payment_message(candidate.record, code, seller, count, total, self._deadline)
            )
        messages.reverse()
        messages += await _receipts(tx, fresh, sellers)
        await tx.outbox.enqueue_all(messages, now=self.now)
        for candidate, code in fresh:
            self._log(
                logging.INFO,
                "charge %s recorded on code %d (%s)",
                candidate.record.pivot_charge_id,
                code.id,
                candidate.record.source,
            )

    async def _alert_unknown_session(self, record: NewCharge) -> None:
        """Tell the operators about a charge kept on a session no code holds."""
        await self._alert(
            "alert.unknown_session",
            dedupe=f"unknown:{record.pivot_charge_id}",
            amount=format_rupiah(record.amount),
            session_id=record.session_id[:_ID_SHOWN],
            charge_id=record.pivot_charge_id[:_ID_SHOWN],
        )
        self._log(
            logging.WARNING,
            "charge %s on unknown session %s kept",
            record.pivot_charge_id,
            record.session_id,
        )


@dataclass(frozen=True, slots=True)
class _Found:
    """Charges Pivot reported on one session, by a callback or to reconciliation."""

    ref: SessionRef
    charges: Sequence[pivot_client.Charge]
    source: ChargeSource
    confirmed: bool  # found through Pivot's API, not reported by a callback


@dataclass(slots=True)
class _Candidate:
    """A SUCCESS charge about to be recorded, and what recording it did."""

    index: int  # of the ``_Found`` it came in
    code: Code | None  # None: on a session no code holds
    record: NewCharge  # its flags included
    problem: str | None  # why it is not money; None when it is
    outcome: Recorded = Recorded.DUPLICATE


@dataclass(frozen=True, slots=True)
class _Read:
    """A callback body as read: its event (None when unreadable), the session it named."""

    event: pivot_client.CallbackEvent | None
    ref: SessionRef | None
    error: str = ""


def _read(body: bytes, truncated: bool) -> _Read:
    """Read one body; never raises, so every body is kept whatever it holds."""
    try:
        event = pivot_client.parse_callback(body, truncated=truncated)
    except pivot_client.CallbackError as exc:
        return _Read(None, _ref(exc.session_id, exc.client_reference_id), str(exc))
    except Exception as exc:  # a parser bug must not cost the body: keep it as a dead letter
        logger.exception("reading a callback body failed")
        return _Read(None, None, f"could not be read ({type(exc).__name__})")
    if isinstance(event, pivot_client.SessionEvent):
        return _Read(event, SessionRef(event.session.id, event.session.client_reference_id))
    return _Read(event, _ref(event.session_id, event.client_reference_id))


def _ref(session_id: str | None, client_reference_id: str | None) -> SessionRef | None:
    """The session a body named, if it named one ("" stands for an id it did not give)."""
    if session_id is None and client_reference_id is None:
        return None
    return SessionRef(session_id or "", client_reference_id)


def _detail(event: pivot_client.CallbackEvent, candidates: Sequence[_Candidate]) -> str:
    """The inbox detail of a callback read: its event, and why any of its charges was refused."""
    name = type(event).__name__ if isinstance(event, pivot_client.SessionEvent) else event.name
    refused = [f"charge {c.record.pivot_charge_id}: {c.problem}" for c in candidates if c.problem]
    return "; ".join([name[:100], *refused])[:500]


async def _codes_of(tx: Transaction, refs: Sequence[SessionRef]) -> dict[SessionRef, Code]:
    """Each session's code, by Pivot's session id or else by our clientReferenceId (before
    the session id is stored); sessions no code holds are left out."""
    by_session = await tx.codes.find_by_sessions(
        {ref.session_id for ref in refs if ref.session_id}
    )
    codes = {}
    for ref in set(refs):
        code = by_session.get(ref.session_id)
        if code is None and ref.client_reference_id:
            code = await tx.codes.find_by_reference(ref.client_reference_id)
        if code is not None:
            codes[ref] = code
    return codes


def _candidate(
    index: int, code: Code | None, found: _Found, charge: pivot_client.Charge, now: datetime
) -> _Candidate:
    """What recording ``charge`` on ``code`` would write."""
    channel, issuer, reference = _channel_of(charge)
    record = NewCharge(
        pivot_charge_id=charge.id,
        code_id=code.id if code else None,
        seller_id=code.seller_id if code else None,
        session_id=found.ref.session_id,
        client_reference_id=found.ref.client_reference_id,
        amount=charge.amount.value,
        paid_at=charge.paid_at or charge.created_at or now,
        channel=channel,
        issuer=issuer,
        reference=reference,
        source=found.source,
        flags=_flags(code, charge.amount.value, found.source),
        confirmation=(
            ChargeConfirmation.CONFIRMED if found.confirmed else ChargeConfirmation.PENDING
        ),
    )
    return _Candidate(index, code, record, charge.money_problem())


def _payment_message(
    record: NewCharge, code: Code, seller: Seller, count: int, total: int, deadline: datetime
) -> NewMessage:
    """The seller's message about a charge just recorded on ``code``; one waiting for Pivot's
    confirmation is due at ``deadline`` unless confirmed first."""
    pending = record.confirmation is ChargeConfirmation.PENDING
    notice = PaymentNotice(
        # What the buyer's app shows for QRIS (the RRN); Pivot's charge id otherwise.
        reference=(record.reference if code.kind is CodeKind.QRIS else None)
        or record.pivot_charge_id,
        amount=record.amount,
        customer=code.customer,
        code_id=code.id,
        kind=code.kind,
        bank=code.bank,
        issuer=record.issuer,
        paid_at=record.paid_at,
        count=count,
        total=total,
        expected_amount=code.amount,
        # Until Pivot's API confirms it, the message says so (bot.confirm lifts the flag).
        flags=shown_flags(record.flags, pending=pending),
        language=seller.language,
        timezone=seller.timezone,
    )
    return NewMessage(
        dedupe_key=payment_dedupe_key(record.pivot_charge_id),
        chat_id=seller.chat_id,
        kind=PAYMENT_KIND,
        payload=notice.model_dump_json(),
        due_at=deadline if pending else None,
    )


async def _receipts(
    tx: Transaction, fresh: Sequence[tuple[_Candidate, Code]], sellers: Mapping[int, Seller]
) -> list[NewMessage]:
    """The buyers' receipts for the charges just recorded, on codes whose receipts are on: one
    per charge for each buyer holding a live link of its code (docs/buyers.md)."""
    codes = {code.id for _, code in fresh if code.receipts}
    if not codes:
        return []  # the usual case: no statement at all
    buyers = await tx.buyers.holding_live_links(codes)
    return [
        receipt_message(candidate.record, sellers[code.seller_id], buyer)
        for candidate, code in fresh
        for buyer in buyers.get(code.id, ())
    ]


def _answer(waiting: _Waiting, result: tuple[int, InboxOutcome] | BaseException) -> None:
    """Hand a waiting callback its result or error (unless its request stopped waiting)."""
    if waiting.done.done():
        return
    if isinstance(result, BaseException):
        waiting.done.set_exception(result)
    else:
        waiting.done.set_result(result)


def _flags(code: Code | None, amount: int, source: ChargeSource) -> frozenset[Flag]:
    """What the seller must notice: a wrong amount, a retired code, a payment found late."""
    flags: set[Flag] = set()
    if code is not None and code.amount is not None and amount != code.amount:
        flags.add(Flag.AMOUNT_MISMATCH)
    if code is not None and code.status is CodeStatus.DEACTIVATED:
        flags.add(Flag.DEACTIVATED_CODE)
    if source is ChargeSource.RECONCILIATION:
        flags.add(Flag.LATE)
    return frozenset(flags)


def _channel_of(charge: pivot_client.Charge) -> tuple[str | None, str | None, str | None]:
    """(channel, QRIS issuer, the QRIS RRN or the VA number) of a charge."""
    if charge.qr is not None:
        return CodeKind.QRIS.value, charge.qr.issuer_name, charge.qr.retrieval_reference_number
    if charge.virtual_account is not None:
        return charge.virtual_account.channel, None, charge.virtual_account.virtual_account_number
    return None, None, None


def _inbox_outcome(results: Sequence[Recorded]) -> InboxOutcome:
    """One outcome for a callback that may carry several charges."""
    if Recorded.NEW in results:
        return InboxOutcome.RECORDED
    if Recorded.REFUSED in results:
        return InboxOutcome.DEAD_LETTER
    if Recorded.UNKNOWN_SESSION in results:
        return InboxOutcome.UNKNOWN_SESSION
    if results:
        return InboxOutcome.DUPLICATE
    return InboxOutcome.IGNORED
