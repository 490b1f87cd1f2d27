"""Pydantic models of Pivot's payloads.

Attributes are snake_case; on the wire they are camelCase (``clientReferenceId``). Response
models keep fields they do not know (``extra="allow"``) and map an unknown status to
``UNKNOWN``, so a field or status Pivot adds later never breaks parsing. Request models forbid
unknown fields, so a typo in our own body fails here instead of at Pivot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ._constants import (
    CLOSED_STATIC_VA_LIFETIME,
    DEFAULT_RETURN_URL,
    MAX_METADATA_LENGTH,
    MAX_QRIS_PAYMENT,
    MAX_VA_PAYMENT,
    PAYMENT_CURRENCY,
)
from ._json import compact_json

__all__ = [
    "QR",
    "AccessToken",
    "BillingInfo",
    "ChannelInformation",
    "Charge",
    "ChargeStatus",
    "CreatePaymentRequest",
    "Customer",
    "Envelope",
    "Money",
    "OrderInformation",
    "Pagination",
    "PaymentMethod",
    "PaymentMethodChoice",
    "PaymentMethodConfig",
    "PaymentMethodConfigs",
    "PaymentMethodOptions",
    "PaymentMethodType",
    "PaymentSession",
    "PhoneNumber",
    "ProductDetail",
    "RedirectUrl",
    "RefundPreference",
    "SessionStatus",
    "ShippingInfo",
    "StaticPaymentMethod",
    "TransferDestination",
    "VirtualAccount",
    "VirtualAccountOptions",
    "summarize_validation_error",
]


def _camel_config(extra: Literal["allow", "forbid"]) -> ConfigDict:
    return ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra=extra,
    )


class _ResponseModel(BaseModel):
    model_config = _camel_config("allow")


class _RequestModel(BaseModel):
    model_config = _camel_config("forbid")


# Pivot's ``amount.value`` is a Decimal of 1 to 18 digits (Create Payment Session).
MAX_AMOUNT_DIGITS = 18
_MAX_AMOUNT = 10**MAX_AMOUNT_DIGITS
# "  999999999999999999.000000  " fits; anything longer is not an amount Pivot sends.
_MAX_AMOUNT_TEXT = 40


def _to_rupiah(value: object) -> object:
    """Whole rupiah from ``10000``, ``10000.0``, ``"10000.00"`` or ``"10000"``.

    The size is checked before the conversion: ``int(Decimal("1e400000"))`` would build a
    400,001-digit number, seconds of CPU, and ``1e308`` a 309-digit one.
    """
    if isinstance(value, bool):
        raise ValueError("an amount must be a number, not a boolean")
    if isinstance(value, int):
        number = Decimal(value) if abs(value) < _MAX_AMOUNT else None
    elif isinstance(value, float | str | Decimal):
        text = str(value).strip()
        if len(text) > _MAX_AMOUNT_TEXT:
            raise ValueError(f"an amount has at most {MAX_AMOUNT_DIGITS} digits")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError("an amount must be a decimal number") from None
        if not number.is_finite():
            raise ValueError("an amount must be a whole number of rupiah")
    else:
        return value  # pydantic's own int error names the type
    if number is None or (number and number.adjusted() >= MAX_AMOUNT_DIGITS):
        raise ValueError(f"an amount has at most {MAX_AMOUNT_DIGITS} digits")
    if number != number.to_integral_value():
        raise ValueError("an amount must be a whole number of rupiah")
    return int(number)


def _to_utc(value: datetime | None) -> datetime | None:
    """UTC, or None for Go's zero time (``0001-01-01T00:00:00Z``), which Pivot uses for "never"."""
    if value is None or value.year == 1:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _default_if_none(factory: Callable[[], object]) -> BeforeValidator:
    """A validator that turns ``null`` into ``factory()``: Pivot sends null for empty lists."""
    return BeforeValidator(lambda value: factory() if value is None else value)


Rupiah = Annotated[int, BeforeValidator(_to_rupiah)]
# Pivot sends 0 to 9 fractional digits; pydantic keeps the first 6 and drops the rest.
Timestamp = Annotated[datetime | None, AfterValidator(_to_utc)]


class _OpenEnum(StrEnum):
    """A StrEnum whose values not (yet) known map to ``UNKNOWN`` instead of failing."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls.__members__["UNKNOWN"]


class SessionStatus(_OpenEnum):
    """Payment session status; a static (MULTIPLE) session normally stays ``ACTIVE``."""

    REQUIRE_PAYMENT_METHOD = "REQUIRE_PAYMENT_METHOD"
    REQUIRE_CONFIRMATION = "REQUIRE_CONFIRMATION"
    REQUIRE_ACTION = "REQUIRE_ACTION"
    ACTIVE = "ACTIVE"
    PROCESSING = "PROCESSING"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    INACTIVE = "INACTIVE"
    PAID = "PAID"
    UNKNOWN = "UNKNOWN"


class ChargeStatus(_OpenEnum):
    """Status of one charge (one payment) of a session."""

    WAITING_FOR_USER_ACTION = "WAITING_FOR_USER_ACTION"
    WAITING_FOR_AUTHENTICATION = "WAITING_FOR_AUTHENTICATION"
    PROCESSING = "PROCESSING"
    WAITING_FOR_CAPTURE = "WAITING_FOR_CAPTURE"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    SUCCESS = "SUCCESS"
    UNKNOWN = "UNKNOWN"


class PaymentMethodType(_OpenEnum):
    """Kind of payment method of a session."""

    QR = "QR"
    VIRTUAL_ACCOUNT = "VIRTUAL_ACCOUNT"
    CARD = "CARD"
    EWALLET = "EWALLET"
    UNKNOWN = "UNKNOWN"


# The methods a static session is made with, as Pivot names them on the wire.
StaticPaymentMethod = Literal["QR", "VIRTUAL_ACCOUNT"]


class Money(BaseModel):
    """An amount of whole rupiah, as Pivot's ``{value, currency}`` object.

    Shared by requests and responses, so unknown keys are dropped rather than kept or refused.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    value: Rupiah
    currency: str = "IDR"


# Responses


class VirtualAccount(_ResponseModel):
    """A VA as Pivot returns it; ``virtual_account_number`` is the full number to pay."""

    channel: str
    virtual_account_number: str
    virtual_account_name: str | None = None
    expiry_at: Timestamp = None


class QR(_ResponseModel):
    """A QRIS code (on a session) or the QRIS side of a charge."""

    qr_content: str | None = None
    qr_url: str | None = None
    qr_type: str | None = None
    acquirer: str | None = None
    merchant_name: str | None = None
    store_id: str | None = None
    issuer_name: str | None = None
    retrieval_reference_number: str | None = None
    expiry_at: Timestamp = None


class PaymentMethod(_ResponseModel):
    """The session's method, with its VA or QR details."""

    type: PaymentMethodType
    virtual_account: VirtualAccount | None = None
    qr: QR | None = None


class Charge(_ResponseModel):
    """One payment on a session; ``id`` is unique per payment (the dedupe key)."""

    id: str
    payment_session_id: str | None = None
    payment_session_client_reference_id: str | None = None
    amount: Money
    status: ChargeStatus
    statement_descriptor: str | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    paid_at: Timestamp = None
    virtual_account: VirtualAccount | None = None
    qr: QR | None = None
    failure_code: str | None = None
    failure_message: str | None = None

    def money_problem(self) -> str | None:
        """Why this charge cannot be counted as money received, or None when it can.

        Money is a positive whole number of rupiah, in IDR, within Pivot's per-transaction
        ceiling for the charge's method (``MAX_QRIS_PAYMENT``, ``MAX_VA_PAYMENT``). The model
        has already refused fractions and amounts of more than 18 digits. The reason names
        the amount but never echoes a text field in full.
        """
        value, currency = self.amount.value, self.amount.currency
        if currency != PAYMENT_CURRENCY:
            return f"currency {currency[:8]!r} is not {PAYMENT_CURRENCY}"
        if value < 1:
            return f"amount {value} is not positive"
        ceiling = MAX_QRIS_PAYMENT if self.qr is not None else MAX_VA_PAYMENT
        if value > ceiling:
            return f"amount {value} is over Pivot's per-transaction limit of {ceiling}"
        return None


class PaymentSession(_ResponseModel):
    """A payment session; a static VA or QRIS is a ``MULTIPLE`` session that stays ACTIVE.

    ``customer`` and ``redirectUrl`` echo the request and are kept as extra fields.
    """

    id: str
    client_reference_id: str
    status: SessionStatus
    amount: Money | None = None
    payment_type: str | None = None
    payment_method: PaymentMethod | None = None
    mode: str | None = None
    auto_confirm: bool | None = None
    statement_descriptor: str | None = None
    customer_id: str | None = None
    charge_details: Annotated[list[Charge], _default_if_none(list)] = Field(default_factory=list)
    metadata: Annotated[dict[str, Any], _default_if_none(dict)] = Field(default_factory=dict)
    created_at: Timestamp = None
    updated_at: Timestamp = None
    expiry_at: Timestamp = None
    # Only the local simulator sends this; Pivot never does.
    is_simulation: bool = Field(default=False, alias="simulation")

    @property
    def valid_until(self) -> datetime | None:
        """When this closed (fixed-amount) VA stops taking payments; None if it never does.

        Pivot's limitation page: a closed static VA expires after 30 days, an open one never.
        The date is the session's ``expiryAt`` (Pivot's list sample carries one there, with
        the zero time in the VA block), else the VA block's, else 30 days after ``createdAt``.
        A QRIS is never taken to expire: on a static code ``qr.expiryAt`` is about the
        creation time and means nothing.
        """
        method = self.payment_method
        account = method.virtual_account if method else None
        if account is None or self.amount is None or self.amount.value <= 0:
            return None
        given = self.expiry_at or account.expiry_at
        if given is not None or self.created_at is None:
            return given
        return self.created_at + CLOSED_STATIC_VA_LIFETIME


class PaymentMethodConfig(_ResponseModel):
    """What the merchant may use of one method: channels and amount limits."""

    enabled: bool = False
    accepted_channels: Annotated[list[str], _default_if_none(list)] = Field(default_factory=list)
    minimum_amount: Money | None = None
    maximum_amount: Money | None = None
    maximum_expiry: str | None = None


class PaymentMethodConfigs(_ResponseModel):
    """``GET /v2/payment-method-configs``; card and e-wallet stay as extra fields."""

    virtual_account: PaymentMethodConfig | None = None
    qr: PaymentMethodConfig | None = None

    def for_method(self, method: StaticPaymentMethod) -> PaymentMethodConfig | None:
        """The config of ``method``; None when Pivot sent none."""
        return self.qr if method == "QR" else self.virtual_account


class Pagination(_ResponseModel):
    """Where a page sits in a list."""

    page: int = 1
    per_page: int | None = None
    total_items: int | None = None
    total_pages: int = 1


class Envelope(_ResponseModel):
    """Every answer's wrapper; ``code`` is ``"00"`` on success."""

    code: str
    message: str | None = None
    data: Any = None
    pagination: Pagination | None = None


class AccessToken(_ResponseModel):
    """``POST /v1/access-token`` data; ``expiresIn`` arrives as a string of seconds."""

    access_token: SecretStr
    expires_in: int = Field(gt=0)
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret


# Requests


class PhoneNumber(_RequestModel):
    """An Indonesian phone number: ``number`` without the country code, starting with 8."""

    country_code: str = "+62"
    number: str = Field(min_length=1, max_length=15)


class ChannelInformation(_RequestModel):
    """A bank account to refund to."""

    account_number: str
    account_name: str


class TransferDestination(_RequestModel):
    """Where a transfer refund goes."""

    channel_code: str
    channel_information: ChannelInformation


class RefundPreference(_RequestModel):
    """How refunds reach the customer."""

    method: Literal["AUTO", "TRANSFER_ONLY"] = "AUTO"
    transfer_destination: TransferDestination | None = None


class Customer(_RequestModel):
    """The paying customer; Pivot keys customers by ``email``, so it is required."""

    # Pivot refuses anything but an e-mail address here.
    email: str = Field(max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    given_name: str | None = Field(default=None, max_length=255)
    surname: str | None = Field(default=None, max_length=255)
    phone_number: PhoneNumber | None = None
    refund_preference: RefundPreference | None = None


class RedirectUrl(_RequestModel):
    """Return URLs; unused by static (API mode) sessions but required by Pivot."""

    success_return_url: str = Field(default=DEFAULT_RETURN_URL, min_length=1, max_length=255)
    failure_return_url: str = Field(default=DEFAULT_RETURN_URL, min_length=1, max_length=255)
    expiration_return_url: str = Field(default=DEFAULT_RETURN_URL, min_length=1, max_length=255)


class BillingInfo(_RequestModel):
    """Billing contact and address (only needed for foreign cards)."""

    given_name: str | None = None
    surname: str | None = None
    email: str | None = None
    phone_number: PhoneNumber | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    province_state: str | None = None
    country: str | None = None
    postal_code: str | None = None


class ShippingInfo(BillingInfo):
    """Shipping contact, address and fee."""

    method: str | None = None
    shipping_fee: Money | None = None


class ProductDetail(_RequestModel):
    """One line of ``orderInformation.productDetails``."""

    type: Literal["PHYSICAL", "DIGITAL", "SERVICE"]
    name: str | None = None
    category: str | None = None
    sub_category: str | None = None
    description: str | None = None
    quantity: int = Field(default=1, ge=1)
    price: Money


class OrderInformation(_RequestModel):
    """What is being paid for; Pivot requires at least one product."""

    product_details: list[ProductDetail] = Field(min_length=1)
    billing_info: BillingInfo | None = None
    shipping_info: ShippingInfo | None = None


class PaymentMethodChoice(_RequestModel):
    """``paymentMethod`` of a create request."""

    type: Literal["QR", "VIRTUAL_ACCOUNT", "CARD", "EWALLET"]


class VirtualAccountOptions(_RequestModel):
    """The bank and the suffix we pick; Pivot prefixes the suffix with its own digits."""

    channel: str = Field(min_length=1, max_length=100)
    virtual_account_name: str | None = Field(default=None, max_length=100)
    virtual_account_number: str | None = Field(default=None, max_length=100)


class PaymentMethodOptions(_RequestModel):
    """``paymentMethodOptions``: only the VA part matters for static payments."""

    virtual_account: VirtualAccountOptions | None = None


class CreatePaymentRequest(_RequestModel):
    """Body of ``POST /v2/payments``; defaults are those of a static (MULTIPLE) session."""

    client_reference_id: str = Field(pattern=r"^[A-Za-z0-9]{1,100}$")
    amount: Money | None = None
    payment_type: Literal["SINGLE", "MULTIPLE"] = "MULTIPLE"
    payment_method: PaymentMethodChoice
    payment_method_options: PaymentMethodOptions | None = None
    mode: Literal["API", "REDIRECT"] = "API"
    redirect_url: RedirectUrl = Field(default_factory=RedirectUrl)
    customer_id: str | None = Field(default=None, max_length=255)
    customer: Customer | None = None
    order_information: OrderInformation
    auto_confirm: bool = True
    statement_descriptor: str | None = Field(default=None, max_length=20)
    metadata: dict[str, str] | None = None

    @field_validator("metadata")
    @classmethod
    def _metadata_fits(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and len(compact_json(value)) > MAX_METADATA_LENGTH:
            raise ValueError(f"metadata must be at most {MAX_METADATA_LENGTH} characters as JSON")
        return value

    @model_validator(mode="after")
    def _multiple_confirms_itself(self) -> CreatePaymentRequest:
        # A static session is charged many times with no one to confirm each charge.
        if self.payment_type == "MULTIPLE" and not self.auto_confirm:
            raise ValueError("paymentType MULTIPLE needs autoConfirm true")
        return self

    def to_json(self) -> dict[str, Any]:
        """The JSON body, camelCase, with unset optional fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


def summarize_validation_error(exc: ValidationError, limit: int = 3) -> str:
    """Where and why validation failed, without echoing any input (it may hold tokens or PII)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = [f"{'.'.join(map(str, err['loc'])) or '<root>'}: {err['msg']}" for err in errors]
    more = f" (+{len(parts) - limit} more)" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more
