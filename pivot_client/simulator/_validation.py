"""Checks on raw request JSON, with Pivot's error codes and messages (docs/pivot-api.md §errors).

The simulator reads plain JSON on purpose: a fake that reused the client's models would
accept only what our client sends, not what Pivot accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pivot_client._json import compact_json
from pivot_client._models import StaticPaymentMethod
from pivot_client.banks import VARanges
from pivot_client.simulator._responses import PivotError
from pivot_client.simulator._state import (
    CHARGE_DETAILS,
    DEFAULT_EVENT,
    ChargeDetails,
    FailRule,
)

__all__ = [
    "MULTIPLE_METHOD",
    "MULTIPLE_MODE",
    "QRIS_AMOUNT",
    "QRIS_LIMIT",
    "VA_RANGE",
    "VA_TAKEN",
    "ChargeControl",
    "PaymentRequest",
    "SimulationRequest",
    "VirtualAccountRequest",
    "check_grant",
    "parse_charge_control",
    "parse_fail_rule",
    "parse_page",
    "parse_payment_request",
    "parse_request_id",
    "parse_simulation",
]

MULTIPLE_MODE = "paymentType 'MULTIPLE' is only allowed when mode is set to 'API'"
MULTIPLE_METHOD = "paymentType 'MULTIPLE' is not allowed for this payment method type"
VA_RANGE = (
    "The requested Virtual Account number is not within your assigned static VA range. "
    "Please check your configuration."
)
VA_TAKEN = (
    "The Virtual Account number you requested has already been assigned. "
    "Please choose a different number."
)
QRIS_LIMIT = (
    "The number of static QRIS you've created has reached the allowed limit. "
    "Cannot create a new QRIS."
)
QRIS_AMOUNT = (
    "QRIS with paymentType = MULTIPLE must not include an amount. "
    "Remove the amount value from the request."
)

_ALPHANUMERIC = re.compile(r"[A-Za-z0-9]+")  # ASCII only: str.isalnum() accepts any script
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_METADATA = 512  # characters of its compact JSON
_PRODUCT_TYPES = ("PHYSICAL", "DIGITAL", "SERVICE")
_REDIRECT_KEYS = ("successReturnUrl", "failureReturnUrl", "expirationReturnUrl")
_MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class VirtualAccountRequest:
    """The static VA asked for: a bank channel, a suffix in its range, an optional name."""

    channel: str
    suffix: str
    name: str | None


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """A static payment session request that passed every stateless check."""

    client_reference_id: str
    method: StaticPaymentMethod
    amount: int | None
    virtual_account: VirtualAccountRequest | None
    echo: dict[str, Any]  # fields a session repeats as they were sent


@dataclass(frozen=True, slots=True)
class SimulationRequest:
    """A ``POST /v2/payments/simulations`` body."""

    session_id: str
    status: Literal["SUCCESS", "EXPIRED"]
    amount: int | None


def _object(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PivotError.invalid(field, f"{field} must be an object")
    return value


def _required(data: Mapping[str, Any], key: str, field: str) -> Any:
    value = data.get(key)
    if value is None or value == "" or value == []:
        raise PivotError.missing(field)
    return value


def _string(value: object, field: str, *, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise PivotError.invalid(field, f"{field} must be a string of at most {max_length}")
    return value


def _whole_number(value: object, field: str, *, max_digits: int = 18) -> int:
    """A positive whole number; JSON ``10000.0`` counts, ``"10000"`` and ``true`` do not."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**max_digits:
        raise PivotError.invalid(field, f"{field} must be a positive whole number")
    return value


def parse_money(value: object, field: str) -> int:
    """The rupiah value of a ``{"value", "currency": "IDR"}`` object."""
    money = _object(value, field)
    amount = _whole_number(_required(money, "value", f"{field}.value"), f"{field}.value")
    if _required(money, "currency", f"{field}.currency") != "IDR":
        raise PivotError.invalid(f"{field}.currency", f"{field}.currency must be IDR")
    return amount


def check_amount_range(amount: int, field: str, limits: tuple[int, int] | None) -> None:
    """Reject an amount outside the merchant's configured minimum and maximum."""
    if limits is not None and not limits[0] <= amount <= limits[1]:
        raise PivotError.invalid(field, f"{field} must be between {limits[0]} and {limits[1]}")


def check_grant(body: object) -> None:
    """The token request body must be ``{"grantType": "client_credentials"}``."""
    data = _object(body, "body")
    if _required(data, "grantType", "grantType") != "client_credentials":
        raise PivotError.invalid("grantType", "grantType must be client_credentials")


def parse_request_id(value: str | None) -> str:
    """The ``X-REQUEST-ID`` idempotency key: mandatory, alphanumeric, 16 to 36 characters."""
    if not value:
        raise PivotError.missing("X-REQUEST-ID")
    if not (16 <= len(value) <= 36 and _ALPHANUMERIC.fullmatch(value)):
        raise PivotError.invalid(
            "X-REQUEST-ID", "X-REQUEST-ID must be alphanumeric, 16 to 36 characters"
        )
    return value


def _client_reference(data: Mapping[str, Any]) -> str:
    reference = _required(data, "clientReferenceId", "clientReferenceId")
    if not (
        isinstance(reference, str) and len(reference) <= 100 and _ALPHANUMERIC.fullmatch(reference)
    ):
        raise PivotError.invalid(
            "clientReferenceId", "clientReferenceId must be alphanumeric, 1 to 100 characters"
        )
    return reference


def _redirect_url(data: Mapping[str, Any]) -> None:
    # Pivot's table marks redirectUrl mandatory even in API mode, and its only error that
    # names it is 403 resource_not_complete ("mandatory setup like redirect url"): a missing
    # object gets that; a malformed one is an ordinary 400.
    if data.get("redirectUrl") is None:
        raise PivotError(
            403,
            "Mandatory setup is not complete: redirectUrl is required",
            code="resource_not_complete",
            field="redirectUrl",
        )
    urls = _object(data["redirectUrl"], "redirectUrl")
    for key in _REDIRECT_KEYS:
        field = f"redirectUrl.{key}"
        _string(_required(urls, key, field), field, max_length=255)


def _product_details(data: Mapping[str, Any]) -> None:
    order = _object(
        _required(data, "orderInformation", "orderInformation.productDetails"), "orderInformation"
    )
    field = "orderInformation.productDetails"
    products = _required(order, "productDetails", field)
    if not isinstance(products, list):
        raise PivotError.invalid(field, f"{field} must be a list")
    for index, product in enumerate(products):
        item = _object(product, f"{field}[{index}]")
        if _required(item, "type", f"{field}[{index}].type") not in _PRODUCT_TYPES:
            raise PivotError.invalid(
                f"{field}[{index}].type",
                f"{field}[{index}].type must be one of {', '.join(_PRODUCT_TYPES)}",
            )
        quantity = _required(item, "quantity", f"{field}[{index}].quantity")
        _whole_number(quantity, f"{field}[{index}].quantity")
        parse_money(_required(item, "price", f"{field}[{index}].price"), f"{field}[{index}].price")


def _customer(data: Mapping[str, Any]) -> None:
    if data.get("customer") is None:
        return
    customer = _object(data["customer"], "customer")
    email = _string(
        _required(customer, "email", "customer.email"), "customer.email", max_length=255
    )
    if not _EMAIL.fullmatch(email):
        raise PivotError.invalid("customer.email", "customer.email must be a valid email address")


def _payment_method(data: Mapping[str, Any]) -> StaticPaymentMethod:
    payment_type = data.get("paymentType", "SINGLE")
    if payment_type not in ("SINGLE", "MULTIPLE"):
        raise PivotError.invalid("paymentType", "paymentType must be SINGLE or MULTIPLE")
    if payment_type != "MULTIPLE":
        raise PivotError.invalid(
            "paymentType", "The Pivot simulator implements only paymentType 'MULTIPLE'"
        )
    if data.get("mode", "REDIRECT") != "API":
        raise PivotError.invalid("mode", MULTIPLE_MODE)
    method = data.get("paymentMethod")
    method_type = method.get("type") if isinstance(method, dict) else None
    if method_type == "VIRTUAL_ACCOUNT":
        return "VIRTUAL_ACCOUNT"
    if method_type == "QR":
        return "QR"
    raise PivotError.invalid("paymentMethod.type", MULTIPLE_METHOD)


def _virtual_account(
    data: Mapping[str, Any], va_rules: Mapping[str, VARanges], amount: int | None
) -> VirtualAccountRequest:
    """The VA asked for; its suffix in the channel's open range, or closed with an amount."""
    base = "paymentMethodOptions.virtualAccount"
    options = _object(_required(data, "paymentMethodOptions", base), "paymentMethodOptions")
    account = _object(_required(options, "virtualAccount", base), base)
    channel = _required(account, "channel", f"{base}.channel")
    if not isinstance(channel, str) or channel not in va_rules:
        raise PivotError.invalid(
            f"{base}.channel", f"{base}.channel must be one of {', '.join(va_rules)}"
        )
    suffix = _required(account, "virtualAccountNumber", f"{base}.virtualAccountNumber")
    rule = va_rules[channel].for_amount(amount)
    if not (isinstance(suffix, str) and rule.is_valid_suffix(suffix)):
        raise PivotError.invalid(f"{base}.virtualAccountNumber", VA_RANGE)
    name = account.get("virtualAccountName") or None
    if name is not None:
        _string(name, f"{base}.virtualAccountName", max_length=100)
    return VirtualAccountRequest(channel, suffix, name)


def _echoed_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    auto_confirm = data.get("autoConfirm", True)
    if not isinstance(auto_confirm, bool):
        raise PivotError.invalid("autoConfirm", "autoConfirm must be a boolean")
    if not auto_confirm:  # every request here is MULTIPLE
        raise PivotError.invalid(
            "autoConfirm", "autoConfirm must be true when paymentType is 'MULTIPLE'"
        )
    if data.get("metadata") is not None:
        metadata = _object(data["metadata"], "metadata")
        if len(compact_json(metadata)) > _MAX_METADATA:
            raise PivotError.invalid(
                "metadata", f"metadata must be at most {_MAX_METADATA} characters"
            )
    descriptor = data.get("statementDescriptor") or None
    if descriptor is not None:
        _string(descriptor, "statementDescriptor", max_length=20)
    customer_id = data.get("customerId") or None
    if customer_id is not None:
        _string(customer_id, "customerId", max_length=255)
    return {
        "autoConfirm": auto_confirm,
        "redirectUrl": data["redirectUrl"],
        "statementDescriptor": descriptor,
        "customerId": customer_id,
        "customer": data.get("customer"),
        "orderInformation": data["orderInformation"],
        "metadata": data.get("metadata"),
    }


def parse_payment_request(
    body: object,
    *,
    va_rules: Mapping[str, VARanges],
    amount_range: Callable[[StaticPaymentMethod], tuple[int, int] | None],
) -> PaymentRequest:
    """Check a ``POST /v2/payments`` body the way Pivot does, short of the state checks.

    Raises:
        PivotError: 400 ``api_validation_error`` with Pivot's message for the first problem,
            or 403 ``resource_not_complete`` when ``redirectUrl`` is missing.
    """
    data = _object(body, "body")
    reference = _client_reference(data)
    _redirect_url(data)
    _product_details(data)
    _customer(data)
    method = _payment_method(data)
    echo = _echoed_fields(data)
    amount: int | None = None
    if data.get("amount") is not None:
        if method == "QR":
            raise PivotError.invalid("amount", QRIS_AMOUNT)
        amount = parse_money(data["amount"], "amount")
        check_amount_range(amount, "amount.value", amount_range(method))
    account = _virtual_account(data, va_rules, amount) if method == "VIRTUAL_ACCOUNT" else None
    return PaymentRequest(reference, method, amount, account, echo)


def parse_simulation(body: object) -> SimulationRequest:
    """Check a ``POST /v2/payments/simulations`` body."""
    data = _object(body, "body")
    session_id = _required(data, "paymentSessionId", "paymentSessionId")
    if not isinstance(session_id, str):
        raise PivotError.invalid("paymentSessionId", "paymentSessionId must be a string")
    status = _required(data, "chargeStatus", "chargeStatus")
    if status not in ("SUCCESS", "EXPIRED"):
        raise PivotError.invalid("chargeStatus", "chargeStatus must be SUCCESS or EXPIRED")
    amount = None if data.get("amount") is None else parse_money(data["amount"], "amount")
    return SimulationRequest(session_id, status, amount)


def parse_page(query: Mapping[str, str]) -> tuple[int, int]:
    """``page`` (from 1) and ``perPage`` (1 to 100, default 20) of a list request."""
    numbers = []
    for key, default, highest in (("page", 1, None), ("perPage", 20, _MAX_PER_PAGE)):
        raw = query.get(key, str(default))
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise PivotError.invalid(key, f"{key} must be a positive integer")
        if highest is not None and int(raw) > highest:
            raise PivotError.invalid(key, f"{key} must be at most {highest}")
        numbers.append(int(raw))
    return numbers[0], numbers[1]


def parse_fail_rule(body: object) -> FailRule:
    """Check a ``POST /_simulator/fail-next`` body."""
    data = _object(body, "body")
    method = _required(data, "method", "method")
    path = _required(data, "path", "path")
    if not (isinstance(method, str) and isinstance(path, str) and path.startswith("/")):
        raise PivotError.invalid("path", "method and path must be strings; path starts with /")
    count = data.get("count", 1)
    status = data.get("status", 503)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise PivotError.invalid("count", "count must be a positive integer")
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise PivotError.invalid("status", "status must be an HTTP error status (400-599)")
    processed = data.get("processed", False)
    if not isinstance(processed, bool):
        raise PivotError.invalid("processed", "processed must be a boolean")
    return FailRule(method.upper(), path, status, count, processed)


@dataclass(frozen=True, slots=True)
class ChargeControl:
    """A ``POST /_simulator/payments/{id}/charges`` body: a charge and how its callback looks."""

    amount: int
    deliver: bool
    event: str
    charge_details: ChargeDetails


def parse_charge_control(body: object) -> ChargeControl:
    """Read a ``POST /_simulator/payments/{id}/charges`` body; only ``amount`` is required."""
    data = _object(body, "body")
    amount = _whole_number(_required(data, "amount", "amount"), "amount")
    deliver = data.get("deliver", True)
    if not isinstance(deliver, bool):
        raise PivotError.invalid("deliver", "deliver must be a boolean")
    event = data.get("event", DEFAULT_EVENT)
    if not isinstance(event, str) or not event:
        raise PivotError.invalid("event", "event must be a non-empty string")
    details = data.get("chargeDetails", "new")
    if details not in CHARGE_DETAILS:
        raise PivotError.invalid("chargeDetails", f"chargeDetails must be one of {CHARGE_DETAILS}")
    return ChargeControl(amount, deliver, event, details)
