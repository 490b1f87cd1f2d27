"""What the simulator keeps in memory: sessions, charges, remembered answers, failure rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pivot_client._models import StaticPaymentMethod

__all__ = [
    "CHARGE_DETAILS",
    "CHARGE_DETAILS_PAGE",
    "DEFAULT_EVENT",
    "GO_ZERO_TIME",
    "METHOD_KEYS",
    "Charge",
    "ChargeDetails",
    "FailRule",
    "MethodKey",
    "RememberedAnswer",
    "Session",
    "timestamp",
]

# Go's zero time: Pivot's "no expiry" (docs/pivot-api.md §expiry).
GO_ZERO_TIME = "0001-01-01T00:00:00Z"

# The event a static session's payment sends, as Pivot's event table names it.
DEFAULT_EVENT = "CHARGE.SUCCESS"
# Which charges a callback's ``chargeDetails`` holds: only the new one; the session's first
# page (Pivot pages chargeDetails by 20); that page without the new one, as a callback that
# came with an older page would; or none at all (null).
ChargeDetails = Literal["new", "all", "older", "none"]
CHARGE_DETAILS: tuple[ChargeDetails, ...] = ("new", "all", "older", "none")
CHARGE_DETAILS_PAGE = 20
# The key of a method's block: in a session's ``paymentMethod``, in its charges, and in
# ``GET /v2/payment-method-configs``.
MethodKey = Literal["virtualAccount", "qr"]
METHOD_KEYS: Mapping[StaticPaymentMethod, MethodKey] = {
    "VIRTUAL_ACCOUNT": "virtualAccount",
    "QR": "qr",
}


def timestamp(moment: datetime) -> str:
    """UTC with ``Z`` and no trailing zeros in the fraction, as Go's RFC3339Nano writes it."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


def _money(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "IDR"}


@dataclass(slots=True)
class Charge:
    """One payment into a static session."""

    id: str
    session_id: str
    client_reference_id: str
    amount: int
    method_key: MethodKey
    method_details: dict[str, Any]
    created_at: datetime
    status: str = "SUCCESS"

    def to_json(self) -> dict[str, Any]:
        """Pivot's charge object."""
        at = timestamp(self.created_at)
        return {
            "id": self.id,
            "paymentSessionId": self.session_id,
            "paymentSessionClientReferenceId": self.client_reference_id,
            "amount": _money(self.amount),
            "authorizedAmount": _money(self.amount),
            "capturedAmount": _money(self.amount),
            "isCaptured": True,
            "statementDescriptor": "",
            "status": self.status,
            "paidAt": at,
            "createdAt": at,
            "updatedAt": at,
            self.method_key: self.method_details,
        }


@dataclass(slots=True)
class Session:
    """A static (``paymentType: MULTIPLE``) payment session."""

    id: str
    client_reference_id: str
    method: StaticPaymentMethod
    amount: int | None  # None: open amount
    channel: str | None
    va_suffix: str | None
    method_details: dict[str, Any]  # paymentMethod.virtualAccount or paymentMethod.qr
    echo: dict[str, Any]  # request fields the session repeats, keyed as in the JSON
    created_at: datetime
    updated_at: datetime
    status: str = "ACTIVE"
    charges: list[Charge] = field(default_factory=list)  # newest first, as Pivot lists them
    expiry_at: datetime | None = None  # a closed VA's end; the others never expire

    def expire_if_due(self, now: datetime) -> None:
        """Past its ``expiry_at``, an ACTIVE session is INACTIVE (it takes no more payments)."""
        if self.status == "ACTIVE" and self.expiry_at is not None and now >= self.expiry_at:
            self.status = "INACTIVE"
            self.updated_at = self.expiry_at

    @property
    def method_key(self) -> MethodKey:
        """The key of this method's block in ``paymentMethod`` and in charges."""
        return METHOD_KEYS[self.method]

    def callback_charges(self, details: ChargeDetails) -> list[Charge]:
        """The ``chargeDetails`` of a callback for the newest charge, as ``details`` says."""
        page = self.charges[:CHARGE_DETAILS_PAGE]
        if details == "all":
            return page
        if details == "older":
            return self.charges[1 : CHARGE_DETAILS_PAGE + 1]
        return self.charges[:1] if details == "new" else []

    def to_json(self, charges: Sequence[Charge] | None = None) -> dict[str, Any]:
        """Pivot's session object, with ``charges`` (default: all) as ``chargeDetails``."""
        shown = self.charges if charges is None else charges
        return {
            "id": self.id,
            "clientReferenceId": self.client_reference_id,
            "amount": _money(self.amount or 0),
            "paymentType": "MULTIPLE",
            "mode": "API",
            **self.echo,
            "status": self.status,
            "createdAt": timestamp(self.created_at),
            "updatedAt": timestamp(self.updated_at),
            # A real date on a closed VA, as in Pivot's list sample; null on the others.
            "expiryAt": timestamp(self.expiry_at) if self.expiry_at else None,
            # Go marshals an empty slice as null, and Pivot shows null until the first charge.
            "chargeDetails": [charge.to_json() for charge in shown] or None,
            "paymentMethod": {"type": self.method, self.method_key: self.method_details},
            # Only the simulator sends this: the bot marks such codes as simulations.
            "simulation": True,
        }


@dataclass(slots=True)
class FailRule:
    """Answer the next ``remaining`` requests to ``method path`` with ``status``."""

    method: str
    path: str
    status: int
    remaining: int
    processed: bool  # handle the request first, then lose its answer


@dataclass(frozen=True, slots=True)
class RememberedAnswer:
    """The first answer given under an ``X-REQUEST-ID``, replayed for the same payload."""

    payload: object
    status: int
    body: bytes
    at: float
