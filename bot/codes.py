"""Issuing static QRIS and VA codes at Pivot, once per request, whatever fails on the way.

A code is first written as a PENDING row (its client reference and, for a VA, its suffix),
then created at Pivot outside any transaction, then activated. Pivot's idempotency key is
derived from the client reference, so a retry of a PENDING row (after a timeout, a 5xx or a
restart) gets Pivot's first answer back instead of a second session. The row is only written
within the seller's limits (``bot.limits``).

A VA suffix is the lowest one of the bank's range that no code holds. It stays with its code
for good, even a failed one, unless Pivot surely made nothing with it (``_made_nothing``).

Failures reach the handler as ``IssueError`` subclasses, each naming its catalogue text::

    IssueError                  .key and .values for ``bot.texts.text``
    ├── PivotUnavailableError   Pivot unreachable, 5xx, 408 or 429: the row stays PENDING and
    │                           issuing again with the same request key resumes it
    ├── PivotRejectedError      Pivot refused the code (other 4xx): the row is FAILED
    ├── DailyLimitError         the seller made SELLER_CODES_PER_DAY codes today
    ├── OpenVALimitError        the seller holds SELLER_OPEN_VA_PER_BANK open VAs at the bank
    ├── QRISLimitError          the merchant's static QRIS quota is used up
    ├── VAExhaustedError        every suffix of the bank's static range is taken
    └── VARangeError            Pivot says the suffix is outside the range we were configured
                                with: PIVOT_VA_RANGES does not match the dashboard

Operators are alerted through the outbox for everything but an unavailable Pivot and a
seller's own limit, and warned when a VA range fills up; the commit that queues an alert
wakes the relay.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar, NoReturn

from bot.alerts import alert_operators
from bot.amounts import format_rupiah
from bot.clock import utcnow
from bot.drafts import Draft
from bot.limits import Limit, SellerLimits, warn_if_filling
from bot.settings import Settings
from pivot_client import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    DuplicateError,
    PaymentMethodConfigs,
    PaymentSession,
    PivotClient,
    StaticPaymentMethod,
    StaticQRISLimitError,
    VANumberAlreadyAssignedError,
    VANumberOutOfRangeError,
    VARanges,
    VARule,
)
from pivot_client.qris import merchant_name
from storage import Code, CodeKind, CodeStatus, Database, Seller, Transaction

__all__ = [
    "CodeIssuer",
    "DailyLimitError",
    "IssueError",
    "OpenVALimitError",
    "PivotRejectedError",
    "PivotUnavailableError",
    "QRISLimitError",
    "VAExhaustedError",
    "VARangeError",
]

logger = logging.getLogger(__name__)

CONFIG_TTL_SECONDS = 600.0
# After a failed config fetch, the fallback is used this long before Pivot is asked again,
# so a Pivot outage does not slow every /new prompt down.
CONFIG_RETRY_SECONDS = 60.0
CONFIG_TIMEOUT_SECONDS = 5.0
# Limits when Pivot's payment-method configs cannot be read: Pivot's documented defaults.
DEFAULT_LIMITS: Mapping[CodeKind, tuple[int, int]] = {
    CodeKind.VA: (10_000, 9_999_999_999),
    CodeKind.QRIS: (1_000, 9_999_999),
}
# Pivot's name for each kind: the only place the bot's words meet Pivot's.
_PIVOT_METHODS: Mapping[CodeKind, StaticPaymentMethod] = {
    CodeKind.QRIS: "QR",
    CodeKind.VA: "VIRTUAL_ACCOUNT",
}
SUFFIX_ATTEMPTS = 5  # "already assigned" answers in a row before giving up
VA_NAME_LIMIT = 100  # Pivot's virtualAccountName
_TRANSIENT_STATUSES = frozenset({408, 429})
# Refusals of the request as such, after which Pivot holds no session for it. Not 409 (a
# record or the key exists already) nor a 200 carrying an error: those may hold one.
_REFUSED_OUTRIGHT = frozenset({400, 401, 403, 404, 422})
_EXISTS_CODES = frozenset({"duplicate_error", "resource_already_exists"})


class IssueError(Exception):
    """A code could not be issued; ``text(language, key, **values)`` tells the seller why."""

    key: ClassVar[str] = "error.generic"

    def __init__(self, **values: object) -> None:
        super().__init__(self.key)
        self.values = values


class AmountOutOfRangeError(IssueError):
    """The amount is outside what Pivot accepts for the kind of code (``CodeIssuer.limits``)."""


class BelowMinimumError(AmountOutOfRangeError):
    """The amount is below Pivot's minimum for the kind of code."""

    key = "amount.below_minimum"


class AboveMaximumError(AmountOutOfRangeError):
    """The amount is above Pivot's maximum for the kind of code."""

    key = "amount.above_maximum"


class PivotUnavailableError(IssueError):
    """Pivot could not be reached or failed; the code is PENDING and can be resumed."""

    key = "error.pivot_down"


class PivotRejectedError(IssueError):
    """Pivot refused to create the code; the operators' alert and the log carry its message.

    Pivot's own text (English, technical) is never shown to the seller.
    """

    key = "error.pivot_rejected"


class QRISLimitError(IssueError):
    """The merchant has as many static QRIS codes as Pivot allows; ``code`` was refused (it is
    FAILED now)."""

    key = "error.qris_limit"

    def __init__(self, code: Code) -> None:
        super().__init__(customer=code.customer)
        self.code = code


class VAExhaustedError(IssueError):
    """No free suffix is left in the bank's static range."""

    key = "error.va_exhausted"


class VARangeError(IssueError):
    """Pivot refused our suffix as outside the merchant's range (misconfiguration)."""

    key = "error.va_range"


class DailyLimitError(IssueError):
    """The seller made as many codes today as ``SELLER_CODES_PER_DAY`` allows."""

    key = "error.limit_codes_per_day"


class OpenVALimitError(IssueError):
    """The seller holds as many open VAs at the bank as ``SELLER_OPEN_VA_PER_BANK`` allows."""

    key = "error.limit_open_va"


_LIMIT_ERRORS: Mapping[Limit, type[IssueError]] = {
    Limit.CODES_PER_DAY: DailyLimitError,
    Limit.OPEN_VA_PER_BANK: OpenVALimitError,
}


@dataclass(frozen=True, slots=True)
class _Order:
    """What to create, taken from a complete draft or from a code being retried."""

    kind: CodeKind
    bank: str | None
    customer: str
    amount: int | None

    @classmethod
    def of_draft(cls, draft: Draft) -> _Order:
        if draft.kind is None or not draft.customer:
            raise ValueError("a draft needs a kind and a customer before it is issued")
        if draft.kind.takes_bank and not draft.bank:
            raise ValueError(f"a {draft.kind} draft needs a bank")
        bank = draft.bank if draft.kind.takes_bank else None
        return cls(draft.kind, bank, draft.customer, draft.amount)

    @classmethod
    def of_code(cls, code: Code) -> _Order:
        return cls(code.kind, code.bank, code.customer, code.amount)


class _KeyedLocks:
    """One asyncio.Lock per key, dropped again when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Hold the lock of ``key`` for the block."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class CodeIssuer:
    """Creates codes at Pivot for sellers, and knows which channels and amounts Pivot allows."""

    def __init__(self, db: Database, pivot: PivotClient, settings: Settings) -> None:
        self._db = db
        self._pivot = pivot
        # Reading the configs is not worth Pivot's retry schedule: the fallback is good enough.
        self._config_pivot = pivot.with_options(max_retries=0, timeout=CONFIG_TIMEOUT_SECONDS)
        self._settings = settings
        self._rules: dict[str, VARanges] = settings.va_rules
        self._limits = SellerLimits(
            codes_per_day=settings.seller_codes_per_day,
            open_va_per_bank=settings.seller_open_va_per_bank,
        )
        self._locks = _KeyedLocks()
        self._config_lock = asyncio.Lock()
        self._configs: PaymentMethodConfigs | None = None
        self._configs_until = float("-inf")
        self._without_rule_told: set[str] = set()
        self._clock: Callable[[], float] = time.monotonic  # seam for tests

    # Channels and limits

    async def channels(self) -> tuple[str, ...]:
        """The VA bank channels to offer: Pivot's enabled ones (or the configured fallback)."""
        configs = await self._method_configs()
        va = configs.virtual_account if configs else None
        if va is None:
            offered: tuple[str, ...] = self._settings.pivot_va_channels
        elif not va.enabled:
            offered = ()
        else:
            offered = tuple(channel.upper() for channel in va.accepted_channels)
        unknown = [
            channel
            for channel in dict.fromkeys(offered)
            if channel not in self._rules and channel not in self._without_rule_told
        ]
        if unknown:
            await self._tell_without_rule(unknown)
        return tuple(channel for channel in dict.fromkeys(offered) if channel in self._rules)

    async def _tell_without_rule(self, channels: list[str]) -> None:
        """Tell the operators, once, of channels Pivot offers that we know no VA range for.

        DANAMON is one: its row of Pivot's limitation table is cut off, so its suffix length
        and default range are unknown and guessing would refuse or misnumber every code.
        """
        self._without_rule_told.update(channels)
        logger.warning("VA channels without a static range, not offered: %s", channels)
        async with self._db.write() as tx:
            for channel in channels:
                await self._alert(
                    tx, "alert.va_no_rule", dedupe=f"va_no_rule:{channel}", bank=channel
                )

    async def limits(self, kind: CodeKind) -> tuple[int, int]:
        """The smallest and largest amount Pivot accepts for ``kind``."""
        configs = await self._method_configs()
        config = configs.for_method(_PIVOT_METHODS[kind]) if configs is not None else None
        low, high = DEFAULT_LIMITS[kind]
        if config is not None and config.minimum_amount is not None:
            low = config.minimum_amount.value
        if config is not None and config.maximum_amount is not None:
            high = config.maximum_amount.value
        return low, high

    async def amount_problem(
        self, kind: CodeKind, bank: str | None, amount: int
    ) -> AmountOutOfRangeError | None:
        """Why Pivot would refuse ``amount`` on a code of ``kind`` (at ``bank``), or None."""
        low, high = await self.limits(kind)
        label = kind.label(bank)
        if amount < low:
            return BelowMinimumError(kind=label, minimum=format_rupiah(low))
        if amount > high:
            return AboveMaximumError(kind=label, maximum=format_rupiah(high))
        return None

    async def _method_configs(self) -> PaymentMethodConfigs | None:
        """Pivot's payment-method configs, cached; None while Pivot cannot tell us."""
        async with self._config_lock:
            if self._clock() < self._configs_until:
                return self._configs
            try:
                self._configs = await self._config_pivot.payment_method_configs()
                self._configs_until = self._clock() + CONFIG_TTL_SECONDS
            except APIError as exc:
                logger.warning("payment-method configs unavailable, using fallbacks: %s", exc)
                self._configs = None
                self._configs_until = self._clock() + CONFIG_RETRY_SECONDS
            return self._configs

    # Issuing

    async def issue(self, seller: Seller, draft: Draft, request_key: str) -> Code:
        """The code for ``request_key``: the one already made for it, or a new one.

        Raises:
            IssueError: a subclass saying what the seller should be told.
            ValueError: the draft is incomplete or names a bank without a VA rule.
        """
        order = _Order.of_draft(draft)
        if order.bank is not None and order.bank not in self._rules:
            raise ValueError(f"no static VA rule for bank {order.bank!r}")
        async with self._locks.hold((seller.telegram_id, request_key)):
            code = await self._db.codes.find_by_request_key(seller.telegram_id, request_key)
            if code is not None:  # an earlier try may have reached Pivot
                return await self._make_at_pivot(code, fresh=False)
            if order.amount is not None:
                problem = await self.amount_problem(order.kind, order.bank, order.amount)
                if problem is not None:
                    raise problem
            code = await self._reserve(seller, request_key, order)
            return await self._make_at_pivot(code, fresh=True)

    async def resume(self, seller: Seller, request_key: str) -> Code | None:
        """Finish the code already started for ``request_key``; None if there is none.

        Raises:
            IssueError: as ``issue``.
        """
        async with self._locks.hold((seller.telegram_id, request_key)):
            code = await self._db.codes.find_by_request_key(seller.telegram_id, request_key)
            return None if code is None else await self._make_at_pivot(code, fresh=False)

    async def _make_at_pivot(self, code: Code, *, fresh: bool) -> Code:
        """Create a PENDING code at Pivot and activate it; any other code is returned as is.

        ``fresh``: no earlier try of this row can have reached Pivot (see ``_made_nothing``).
        """
        taken = 0
        while code.status is CodeStatus.PENDING:
            try:
                session = await self._create_session(code)
            except VANumberAlreadyAssignedError as exc:
                if (made := await self._made_before(code)) is not None:
                    return await self._activate(code, made)
                # Taken outside Kodebayar (or by a session we lost track of): burn the suffix
                # for good and move to the next one under a new client reference.
                logger.warning(
                    "code %d: VA suffix already assigned (trace %s)", code.id, exc.trace_id
                )
                taken += 1
                if taken == SUFFIX_ATTEMPTS:  # something else hands out our range: tell them
                    await self._refuse(code, exc, release_suffix=False)
                code = await self._replace(code, "va_already_assigned")
                fresh = True
                continue
            except DuplicateError as exc:
                # Our reference is taken: by our own session when an answer was lost and its
                # idempotency key (remembered 24 h) forgotten since.
                made = await self._made_before(code)
                if made is None:  # Pivot holds something under it: the suffix stays taken
                    await self._refuse(code, exc, release_suffix=False)
                session = made
            except APIError as exc:
                await self._refuse(code, exc, release_suffix=fresh and _made_nothing(exc))
            return await self._activate(code, session)
        return code

    async def _made_before(self, code: Code) -> PaymentSession | None:
        """The session Pivot already holds under ``code``'s client reference, if any.

        Raises:
            PivotUnavailableError: Pivot could not tell; the code stays PENDING, since a
                session may exist.
        """
        try:
            sessions = await self._pivot.find_payments(code.client_reference_id)
        except APIError as exc:
            logger.warning(
                "code %d left pending, its session cannot be looked up: %s", code.id, exc
            )
            raise PivotUnavailableError() from exc
        made = [s for s in sessions if s.client_reference_id == code.client_reference_id]
        if made:
            logger.info("code %d: Pivot already had session %s for it", code.id, made[0].id)
        return made[0] if made else None

    async def _create_session(self, code: Code) -> PaymentSession:
        """Ask Pivot for the static session of ``code`` (the same request on every retry)."""
        method = _PIVOT_METHODS[code.kind]
        metadata = {"code": str(code.id), "customer": code.customer}
        if not code.kind.takes_bank:
            # Static QRIS is open-amount only: an amount stays ours, as the expected amount.
            return await self._pivot.create_static_payment(
                client_reference_id=code.client_reference_id,
                method=method,
                product_name=code.customer,
                metadata=metadata,
            )
        if code.bank is None or code.va_suffix is None:
            raise ValueError(f"code {code.id} is a VA without a bank or suffix")
        return await self._pivot.create_static_payment(
            client_reference_id=code.client_reference_id,
            method=method,
            amount=code.amount,
            channel=code.bank,
            virtual_account_number=self._rule(code.bank, code.amount).format(code.va_suffix),
            virtual_account_name=code.customer[:VA_NAME_LIMIT],
            product_name=code.customer,
            metadata=metadata,
        )

    async def _activate(self, code: Code, session: PaymentSession) -> Code:
        """Store what Pivot returned and make the code ACTIVE."""
        method = session.payment_method
        qr = method.qr if method else None
        account = method.virtual_account if method else None
        qr_content = qr.qr_content if qr and code.kind is CodeKind.QRIS else None
        va_number = (
            account.virtual_account_number if account and code.kind is CodeKind.VA else None
        )
        if not (qr_content or va_number):
            reason = "no QR content or VA number"
            await self._fail(
                code,
                "no_payment_details",
                "alert.pivot_rejected",
                dedupe=f"rejected:{code.id}",
                code=session.id,
                message=reason,
                trace_id="-",
            )
            raise PivotRejectedError()
        async with self._db.write() as tx:
            active = await tx.codes.activate(
                code.id,
                session_id=session.id,
                qr_content=qr_content,
                va_number=va_number,
                merchant_name=merchant_name(qr_content) if qr_content else None,
                simulation=session.is_simulation,
                expires_at=session.valid_until,  # a closed VA's end at Pivot
            )
        logger.info(
            "code %d issued: %s%s, session %s%s",
            active.id,
            active.kind.value,
            f" {active.bank}" if active.bank else "",
            session.id,
            " (simulation)" if active.simulation else "",
        )
        return active

    async def _refuse(self, code: Code, exc: APIError, *, release_suffix: bool) -> NoReturn:
        """Raise the seller's error; the code fails unless Pivot may still answer later.

        ``release_suffix`` gives a failed code's VA suffix back (Pivot made nothing with it).
        """
        trace_id = getattr(exc, "trace_id", None) or "-"
        if _is_transient(exc):
            logger.warning("code %d left pending, Pivot unavailable: %s", code.id, exc)
            raise PivotUnavailableError() from exc
        logger.warning("code %d refused by Pivot: %s", code.id, exc)
        if isinstance(exc, VANumberOutOfRangeError) and code.bank is not None:
            rule = self._rule(code.bank, code.amount)
            await self._fail(
                code,
                "va_out_of_range",
                "alert.va_range",
                dedupe=f"va_range:{rule.channel}:{rule.first}-{rule.last}",
                bank=self._rules[code.bank].label(code.amount),
                suffix=rule.format(code.va_suffix) if code.va_suffix is not None else "-",
                trace_id=trace_id,
            )
            raise VARangeError(bank=rule.channel) from exc
        if isinstance(exc, StaticQRISLimitError):
            today = utcnow().date().isoformat()
            # Pivot counts its ACTIVE static QRIS, and a code deactivated here stays ACTIVE there.
            held = await self._db.codes.count_by_status(CodeKind.QRIS)
            await self._fail(
                code,
                "qris_limit",
                "alert.qris_limit",
                dedupe=f"qris_limit:{today}",
                trace_id=trace_id,
                active=held.get(CodeStatus.ACTIVE, 0),
                deactivated=held.get(CodeStatus.DEACTIVATED, 0),
            )
            raise QRISLimitError(code) from exc
        status = exc.status_code if isinstance(exc, APIStatusError) else "-"
        pivot_code = exc.code if isinstance(exc, APIStatusError) and exc.code else ""
        # A 400's top-level message is Pivot's generic sentence; the reason is in its details.
        reason = exc.reason if isinstance(exc, APIStatusError) else exc.message
        released = release_suffix and code.va_suffix is not None
        await self._fail(
            code,
            f"rejected: {status} {pivot_code}".strip()
            + (f"; suffix {code.va_suffix} released" if released else ""),
            "alert.pivot_rejected",
            release_suffix=released,
            dedupe=f"rejected:{code.id}",
            code=f"{status} {pivot_code}".strip(),
            message=reason,
            trace_id=trace_id,
        )
        raise PivotRejectedError() from exc

    async def _fail(
        self,
        code: Code,
        reason: str,
        alert: str,
        /,
        *,
        dedupe: str,
        release_suffix: bool = False,
        **values: object,
    ) -> None:
        """Mark ``code`` FAILED and alert the operators, in one transaction."""
        async with self._db.write() as tx:
            await tx.codes.mark_failed(code.id, reason, release_suffix=release_suffix)
            await self._alert(tx, alert, dedupe=dedupe, **values)

    async def _alert(self, tx: Transaction, key: str, /, *, dedupe: str, **values: object) -> None:
        await alert_operators(
            tx, self._settings.admin_telegram_ids, key, dedupe=dedupe, now=utcnow(), **values
        )

    # Reserving rows

    async def _reserve(self, seller: Seller, request_key: str, order: _Order) -> Code:
        """A new PENDING code for ``order`` (with a free VA suffix), within the seller's limits.

        Raises:
            DailyLimitError, OpenVALimitError: nothing was written, Pivot is not asked.
            VAExhaustedError: the bank's range is used up.
        """
        async with self._db.write() as tx:
            reached = await self._limits.check(
                tx,
                seller,
                bank=order.bank,
                open_amount=order.amount is None,
                now=utcnow(),
            )
            if reached is not None:
                raise _LIMIT_ERRORS[reached.limit](**reached.values)
            code = await self._insert(tx, seller.telegram_id, request_key, order)
        return self._reserved(order, code)

    async def _replace(self, burnt: Code, reason: str) -> Code:
        """Fail ``burnt`` and reserve the same order with another suffix, in one transaction."""
        order = _Order.of_code(burnt)
        async with self._db.write() as tx:
            await tx.codes.mark_failed(burnt.id, reason)
            code = await self._insert(tx, burnt.seller_id, burnt.request_key, order)
        return self._reserved(order, code)

    async def _insert(
        self, tx: Transaction, seller_id: int, request_key: str, order: _Order
    ) -> Code | None:
        """Insert the PENDING row; None (with the operators alerted) when the range is used up."""
        # Open and closed VAs may have ranges of their own at Pivot.
        rule = self._rule(order.bank, order.amount) if order.bank is not None else None
        suffix: int | None = None
        if rule is not None:
            suffix = await tx.codes.lowest_free_va_suffix(rule.channel, rule.first, rule.last)
            if suffix is None:
                await self._alert(
                    tx,
                    "alert.va_exhausted",
                    dedupe=f"va_exhausted:{rule.channel}:{rule.first}-{rule.last}",
                    bank=self._rules[rule.channel].label(order.amount),
                    capacity=rule.capacity,
                )
                return None
        code = await tx.codes.create(
            seller_id=seller_id,
            kind=order.kind,
            bank=order.bank,
            va_suffix=suffix,
            customer=order.customer,
            amount=order.amount,
            request_key=request_key,
            client_reference_id=new_client_reference_id(),
            now=utcnow(),
        )
        if rule is not None:
            await warn_if_filling(tx, rule, self._settings.admin_telegram_ids, now=utcnow())
        return code

    def _reserved(self, order: _Order, code: Code | None) -> Code:
        """``code``, once its transaction is committed; VAExhaustedError when it is None."""
        if code is None:
            rule = self._rule(order.bank or "", order.amount)
            raise VAExhaustedError(bank=rule.channel, capacity=rule.capacity)
        return code

    def _rule(self, bank: str, amount: int | None) -> VARule:
        """The suffix range of ``bank``'s open VAs (``amount`` None) or closed ones."""
        return self._rules[bank].for_amount(amount)


def new_client_reference_id() -> str:
    """``kb`` and 30 random hex digits: unique, and alphanumeric as Pivot requires."""
    return "kb" + uuid.uuid4().hex[:30]


def _made_nothing(exc: APIError) -> bool:
    """Whether Pivot surely holds no session for a refused create, so its suffix is free again.

    Only for a refusal of the request as such (validation, credentials, permissions): every
    try of a code sends the same body under the same idempotency key, and Pivot replays its
    first answer to a repeated key, so a refusal means no try was accepted. Not when the
    answer is in doubt (no answer, 5xx, 408, 429: the code stays PENDING anyway), not when it
    says something exists (409 or an "exists" code: a lost earlier try may have made it), not
    for a suffix assigned elsewhere (it is not free) and not for one outside Pivot's range
    (handing it out again would only be refused again). The caller also requires a ``fresh``
    row, never tried in an earlier call: the key of a try whose answer was lost may expire
    before the next call, whose refusal then says nothing about that try.
    """
    return (
        isinstance(exc, APIStatusError)
        and exc.status_code in _REFUSED_OUTRIGHT
        and exc.code not in _EXISTS_CODES
        and not isinstance(exc, VANumberAlreadyAssignedError | VANumberOutOfRangeError)
    )


def _is_transient(exc: APIError) -> bool:
    """Whether Pivot may still answer this request later (the code stays PENDING)."""
    if isinstance(exc, APIConnectionError | APIResponseValidationError):
        return True
    return isinstance(exc, APIStatusError) and (
        exc.status_code >= 500 or exc.status_code in _TRANSIENT_STATUSES
    )
