"""Pivot's payment callbacks: checking the key and reading the event.

Pivot POSTs ``{"event": "<NAME>", "data": <payment session>}`` with the merchant's Callback API
Key in ``X-API-Key``. The key is a static shared secret (Pivot signs nothing), so compare it in
constant time and treat the event as a trigger, not as proof of the amount.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from pydantic import SecretStr, ValidationError

from ._exceptions import CallbackError
from ._json import load_json
from ._models import Charge, ChargeStatus, PaymentSession, summarize_validation_error

__all__ = [
    "CallbackEvent",
    "ChargeSuccessEvent",
    "PaymentCancelledEvent",
    "PaymentPaidEvent",
    "PaymentProcessingEvent",
    "PaymentSuccessEvent",
    "SessionEvent",
    "UnknownEvent",
    "parse_callback",
    "verify_callback_key",
]


def verify_callback_key(header: str | None, expected: str | SecretStr) -> bool:
    """Whether the ``X-API-Key`` header equals the Callback API Key, in constant time.

    A missing or empty header, or an empty expected key, never matches.
    """
    key = expected.get_secret_value() if isinstance(expected, SecretStr) else expected
    if not header or not key:
        return False
    return hmac.compare_digest(header.encode(), key.encode())


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """An event whose ``data`` is a payment session: every payment event.

    Pivot's documentation names ``CHARGE.SUCCESS`` as the event of a static session's payment,
    shows ``PAYMENT.PAID`` as its only sample and says ``PAYMENT.SUCCESS`` on a quick-start
    page; which one a static code really sends is not published. Whatever the name, the SUCCESS
    charges inside are payments.

    Attributes:
        session: The session as Pivot sent it.
        charges: Only the SUCCESS charges of ``session.charge_details``; Pivot may send earlier
            ones along with the new one, so deduplicate by ``Charge.id``. May be empty.
    """

    name: ClassVar[str]
    session: PaymentSession
    charges: list[Charge]


@dataclass(frozen=True, slots=True)
class ChargeSuccessEvent(SessionEvent):
    """``CHARGE.SUCCESS``: a static session was paid."""

    name: ClassVar[str] = "CHARGE.SUCCESS"


@dataclass(frozen=True, slots=True)
class PaymentPaidEvent(SessionEvent):
    """``PAYMENT.PAID``: a session was paid (documented for single-use sessions)."""

    name: ClassVar[str] = "PAYMENT.PAID"


@dataclass(frozen=True, slots=True)
class PaymentSuccessEvent(SessionEvent):
    """``PAYMENT.SUCCESS``: the name a quick-start page gives the payment event."""

    name: ClassVar[str] = "PAYMENT.SUCCESS"


@dataclass(frozen=True, slots=True)
class PaymentProcessingEvent(SessionEvent):
    """``PAYMENT.PROCESSING``: a payment is in progress."""

    name: ClassVar[str] = "PAYMENT.PROCESSING"


@dataclass(frozen=True, slots=True)
class PaymentCancelledEvent(SessionEvent):
    """``PAYMENT.CANCELLED``: the session was cancelled or timed out."""

    name: ClassVar[str] = "PAYMENT.CANCELLED"


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event this library does not know (answer 200 and log it).

    Attributes:
        name: The event name as sent.
        data: The raw ``data`` object ({} when it was missing or not an object).
    """

    name: str
    data: dict[str, Any]

    @property
    def session_id(self) -> str | None:
        """``data.id`` when it is a string: the session, if ``data`` is one."""
        return _text(self.data.get("id"))

    @property
    def client_reference_id(self) -> str | None:
        """``data.clientReferenceId`` when it is a string."""
        return _text(self.data.get("clientReferenceId"))


CallbackEvent: TypeAlias = SessionEvent | UnknownEvent

_SESSION_EVENTS: dict[str, type[SessionEvent]] = {
    cls.name: cls
    for cls in (
        ChargeSuccessEvent,
        PaymentPaidEvent,
        PaymentSuccessEvent,
        PaymentProcessingEvent,
        PaymentCancelledEvent,
    )
}


def parse_callback(raw: bytes, *, truncated: bool = False) -> CallbackEvent:
    """Read a callback body into a typed event.

    The JSON is read with bounds (``pivot_client._json``) and amounts are checked for size
    before they are converted, so no body, however made, costs more than linear time.

    Args:
        raw: The request body, exactly as received.
        truncated: ``raw`` is only the start of a body over the receiver's size limit. It is
            never an event: ``CallbackError`` says which session its start named, if it did.

    Returns:
        A ``SessionEvent`` subclass for each payment event name, or ``UnknownEvent`` for any
        other event name.

    Raises:
        CallbackError: The body is not JSON (or nests too deep, or has too long a number), not
            an object, has no event name, or the session of a payment event does not validate.
            The message says what is wrong, not the body; ``session_id`` and
            ``client_reference_id`` say which session the body named, when it named one.
    """
    if truncated:
        raise _error_about(
            _data_of(raw), f"callback body over the size limit, cut at {len(raw)} bytes"
        )
    try:
        body = load_json(raw)
    except ValueError as exc:
        raise CallbackError(f"callback body is not valid JSON ({_reason(exc)})") from None
    if not isinstance(body, dict):
        raise CallbackError(f"callback body is a JSON {type(body).__name__}, not an object")
    data = body.get("data")
    data = data if isinstance(data, dict) else {}
    name = body.get("event")
    if not isinstance(name, str) or not name.strip():
        raise _error_about(data, "callback body has no 'event' name")
    event_class = _SESSION_EVENTS.get(name)
    if event_class is None:
        return UnknownEvent(name=name, data=data)
    try:
        session = PaymentSession.model_validate(body.get("data"))
    except ValidationError as exc:
        raise _error_about(
            data, f"{name} data is not a payment session: {summarize_validation_error(exc)}"
        ) from None
    paid = [c for c in session.charge_details if c.status is ChargeStatus.SUCCESS]
    return event_class(session=session, charges=paid)


def _data_of(start: bytes) -> dict[str, Any]:
    """``data`` of a body of which only ``start`` is known, as far as it goes ({} if none)."""
    try:
        body = load_json(start, partial=True)
    except ValueError:
        return {}
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _reason(error: ValueError) -> str:
    """The parser's own words, which name a position, never the content."""
    return str(error).split("\n", 1)[0][:120]


def _error_about(data: dict[str, Any], message: str) -> CallbackError:
    """A ``CallbackError`` that keeps which session the unreadable body named."""
    return CallbackError(
        message,
        session_id=_text(data.get("id")),
        client_reference_id=_text(data.get("clientReferenceId")),
    )
