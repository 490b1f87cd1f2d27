"""Pivot's payment callbacks: checking the key and reading the event.

Pivot POSTs ``{"event": "<NAME>", "data": <payment session>}`` with the merchant's Callback API
Key in ``X-API-Key``. The key is a static shared secret (Pivot signs nothing), so compare it in
constant time and treat the event as a trigger, not as proof of the amount.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from pydantic import SecretStr, ValidationError

from ._exceptions import CallbackError
from ._models import Charge, ChargeStatus, PaymentSession, summarize_validation_error

__all__ = [
    "CallbackEvent",
    "ChargeSuccessEvent",
    "PaymentCancelledEvent",
    "PaymentPaidEvent",
    "PaymentProcessingEvent",
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
class _SessionEvent:
    name: ClassVar[str]
    session: PaymentSession


@dataclass(frozen=True, slots=True)
class ChargeSuccessEvent(_SessionEvent):
    """``CHARGE.SUCCESS``: a static session was paid.

    Attributes:
        session: The session as Pivot sent it.
        charges: Only the SUCCESS charges of ``session.charge_details``; Pivot may send earlier
            ones along with the new one, so deduplicate by ``Charge.id``. May be empty.
    """

    name: ClassVar[str] = "CHARGE.SUCCESS"
    charges: list[Charge]


@dataclass(frozen=True, slots=True)
class PaymentPaidEvent(_SessionEvent):
    """``PAYMENT.PAID``: a single-use session was paid."""

    name: ClassVar[str] = "PAYMENT.PAID"


@dataclass(frozen=True, slots=True)
class PaymentProcessingEvent(_SessionEvent):
    """``PAYMENT.PROCESSING``: a payment is in progress."""

    name: ClassVar[str] = "PAYMENT.PROCESSING"


@dataclass(frozen=True, slots=True)
class PaymentCancelledEvent(_SessionEvent):
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


CallbackEvent: TypeAlias = (
    ChargeSuccessEvent
    | PaymentPaidEvent
    | PaymentProcessingEvent
    | PaymentCancelledEvent
    | UnknownEvent
)

_SessionOnlyEvent: TypeAlias = PaymentPaidEvent | PaymentProcessingEvent | PaymentCancelledEvent
_SESSION_EVENTS: dict[str, type[_SessionOnlyEvent]] = {
    cls.name: cls for cls in (PaymentPaidEvent, PaymentProcessingEvent, PaymentCancelledEvent)
}


def parse_callback(raw: bytes) -> CallbackEvent:
    """Read a callback body into a typed event.

    Args:
        raw: The request body, exactly as received.

    Returns:
        ``ChargeSuccessEvent``, ``PaymentPaidEvent``, ``PaymentProcessingEvent``,
        ``PaymentCancelledEvent``, or ``UnknownEvent`` for any other event name.

    Raises:
        CallbackError: The body is not JSON, not an object, has no event name, or the session
            of a known event does not validate. The message says what is wrong, not the body.
    """
    try:
        body = json.loads(raw)
    except ValueError:  # also covers bytes that are not UTF-8
        raise CallbackError("callback body is not valid JSON") from None
    if not isinstance(body, dict):
        raise CallbackError(f"callback body is a JSON {type(body).__name__}, not an object")
    name = body.get("event")
    if not isinstance(name, str) or not name.strip():
        raise CallbackError("callback body has no 'event' name")
    data = body.get("data")
    if name == ChargeSuccessEvent.name:
        session = _session(name, data)
        paid = [c for c in session.charge_details if c.status is ChargeStatus.SUCCESS]
        return ChargeSuccessEvent(session=session, charges=paid)
    event_class = _SESSION_EVENTS.get(name)
    if event_class is None:
        return UnknownEvent(name=name, data=data if isinstance(data, dict) else {})
    return event_class(session=_session(name, data))


def _session(name: str, data: object) -> PaymentSession:
    try:
        return PaymentSession.model_validate(data)
    except ValidationError as exc:
        raise CallbackError(
            f"{name} data is not a payment session: {summarize_validation_error(exc)}"
        ) from None
