"""Exceptions raised by pivot_client.

The hierarchy::

    PivotError
    ├── APIError                       a call to Pivot failed; .method, .path
    │   ├── APIConnectionError         no response (network error), after retries
    │   │   └── APITimeoutError        no response in time, after retries
    │   ├── APIResponseValidationError a success answer we could not read
    │   └── APIStatusError             Pivot answered an error; .status_code, .code, .message,
    │       │                          .details, .trace_id
    │       ├── BadRequestError                    400
    │       │   └── StaticPaymentError             400, a static (MULTIPLE) session refused
    │       │       ├── VANumberOutOfRangeError        suffix outside the static VA range
    │       │       ├── VANumberAlreadyAssignedError   suffix already in use
    │       │       ├── StaticQRISLimitError           static QRIS quota reached
    │       │       └── QRISAmountNotAllowedError      static QRIS with an amount (also raised
    │       │                                          before sending anything)
    │       ├── AuthenticationError                401
    │       ├── PermissionDeniedError              403
    │       ├── NotFoundError                      404
    │       ├── RequestTimeoutError                408 (Pivot gave up after 60 s)
    │       ├── ConflictError                      409
    │       │   ├── DuplicateError                 409 duplicate_error: the record exists,
    │       │   │                                  e.g. a clientReferenceId used before
    │       │   └── IdempotencyConflictError       409 idempotency_error: same X-REQUEST-ID,
    │       │                                      different body
    │       ├── UnprocessableEntityError           422
    │       ├── RateLimitError                     429
    │       └── InternalServerError                >= 500
    └── CallbackError                  a callback body we cannot read

A ``200`` whose envelope ``code`` is not ``"00"`` raises ``APIStatusError`` (or a static-payment
subclass when its message says so) with ``status_code`` 200. No exception text contains a
credential: messages are built from Pivot's error fields and the request path only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CallbackError",
    "ConflictError",
    "DuplicateError",
    "ErrorDetail",
    "IdempotencyConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "PivotError",
    "QRISAmountNotAllowedError",
    "RateLimitError",
    "RequestTimeoutError",
    "StaticPaymentError",
    "StaticQRISLimitError",
    "UnprocessableEntityError",
    "VANumberAlreadyAssignedError",
    "VANumberOutOfRangeError",
    "status_error",
    "trace_id_of",
]


class PivotError(Exception):
    """Base of every exception raised by pivot_client."""


class CallbackError(PivotError):
    """A callback body that is not a readable Pivot event.

    Attributes:
        session_id: ``data.id`` of the body, when it had a string there.
        client_reference_id: ``data.clientReferenceId`` of the body, when it had one.
    """

    def __init__(
        self,
        message: str,
        *,
        session_id: str | None = None,
        client_reference_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.session_id = session_id
        self.client_reference_id = client_reference_id


class APIError(PivotError):
    """A call to Pivot's API failed.

    Attributes:
        message: What went wrong, without any credential.
        method: The HTTP method of the call, when known.
        path: The URL path of the call (no query string), when known.
    """

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None):
        self.message = message
        self.method = method
        self.path = path
        super().__init__(self._describe())

    def _describe(self) -> str:
        return f"{self.method} {self.path}: {self.message}" if self.method else self.message


class APIConnectionError(APIError):
    """No response from Pivot (connection refused, reset, DNS...), even after retries."""

    def __init__(
        self,
        message: str = "connection to Pivot failed",
        *,
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, method=method, path=path)


class APITimeoutError(APIConnectionError):
    """No response from Pivot within the timeout, even after retries."""

    def __init__(
        self,
        message: str = "Pivot did not answer in time",
        *,
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, method=method, path=path)


class APIResponseValidationError(APIError):
    """A success answer whose body does not have the shape we expect.

    Attributes:
        status_code: The HTTP status of the answer.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str | None = None,
        path: str | None = None,
    ):
        self.status_code = status_code
        super().__init__(message, method=method, path=path)


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of Pivot's ``error.details``: which field and what is wrong with it."""

    field: str
    message: str


class APIStatusError(APIError):
    """Pivot answered with an error.

    Subclasses fix ``default_status``; they can be raised without a response (the client
    refuses a static QRIS amount that way), with Pivot's own message as the default.

    Attributes:
        status_code: HTTP status (200 when a 200 carried an error code).
        code: Pivot's error code, e.g. ``api_validation_error``.
        message: Pivot's error message.
        details: Pivot's per-field details.
        trace_id: Pivot's trace id, for their support desk.
        body: The decoded error body, or None.
    """

    default_status: ClassVar[int | None] = None
    default_message: ClassVar[str | None] = None

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        code: str | None = None,
        details: Iterable[ErrorDetail] = (),
        trace_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        body: object = None,
    ):
        status = status_code if status_code is not None else self.default_status
        if status is None:
            raise TypeError(f"{type(self).__name__} needs a status_code")
        self.status_code: int = status
        self.code = code
        self.details = list(details)
        self.trace_id = trace_id
        self.body = body
        message = message or self.default_message or httpx.codes.get_reason_phrase(status)
        super().__init__(message, method=method, path=path)

    @property
    def reason(self) -> str:
        """What exactly Pivot refused: the details' messages, else the top-level message.

        Pivot's 400s put a generic sentence at the top ("The request was invalid, or an error
        occurred in downstream provider") and the specific one in ``error.details``.
        """
        specific = [
            f"{detail.field}: {detail.message}" if detail.field else detail.message
            for detail in self.details
            if detail.message
        ]
        return "; ".join(specific) or self.message

    def _describe(self) -> str:
        where = f"{self.method} {self.path} -> " if self.method else ""
        text = f"{where}{self.status_code}"
        if self.code:
            text += f" {self.code}"
        text += f": {self.message}"
        if self.details:
            text += " [" + "; ".join(f"{d.field}: {d.message}" for d in self.details) + "]"
        if self.trace_id:
            text += f" (trace {self.trace_id})"
        return text


class BadRequestError(APIStatusError):
    """400: the request is malformed or fails validation."""

    default_status = 400


class StaticPaymentError(BadRequestError):
    """400: Pivot refused a static (MULTIPLE) session; subclasses name the reason."""

    # Lower-case fragment of Pivot's message that selects this class (see ``status_error``).
    marker: ClassVar[str] = "paymenttype 'multiple'"


class VANumberOutOfRangeError(StaticPaymentError):
    """The VA suffix is outside the merchant's static range."""

    marker = "not within your assigned static va range"


class VANumberAlreadyAssignedError(StaticPaymentError):
    """The VA suffix is already used by another static VA: pick another one."""

    marker = "has already been assigned"


class StaticQRISLimitError(StaticPaymentError):
    """The merchant has as many static QRIS codes as Pivot allows."""

    marker = "reached the allowed limit"


class QRISAmountNotAllowedError(StaticPaymentError):
    """A static QRIS must not carry an amount (the payer types it)."""

    marker = "must not include an amount"
    default_message = (
        "QRIS with paymentType = MULTIPLE must not include an amount. "
        "Remove the amount value from the request."
    )


class AuthenticationError(APIStatusError):
    """401: bad credentials or access token."""

    default_status = 401


class PermissionDeniedError(APIStatusError):
    """403: a feature is not enabled, a setup is missing, or access is out of scope."""

    default_status = 403


class NotFoundError(APIStatusError):
    """404: unknown endpoint or id."""

    default_status = 404


class RequestTimeoutError(APIStatusError):
    """408: Pivot gave up on the request."""

    default_status = 408


class ConflictError(APIStatusError):
    """409: the record exists already, or the idempotency key was reused."""

    default_status = 409


class DuplicateError(ConflictError):
    """409 ``duplicate_error``: a record with these details exists already.

    On ``POST /v2/payments`` it means the ``clientReferenceId`` was used before (once its
    ``X-REQUEST-ID`` is no longer remembered, after 24 h): the session may well be ours.
    """


class IdempotencyConflictError(ConflictError):
    """409 ``idempotency_error``: the same X-REQUEST-ID came with a different body."""


class UnprocessableEntityError(APIStatusError):
    """422: a valid request that the resource's state does not allow."""

    default_status = 422


class RateLimitError(APIStatusError):
    """429: too many calls to the same endpoint."""

    default_status = 429


class InternalServerError(APIStatusError):
    """5xx: Pivot or the bank behind it failed."""

    default_status = 500


_BY_STATUS: Mapping[int, type[APIStatusError]] = {
    cls.default_status: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        RequestTimeoutError,
        ConflictError,
        UnprocessableEntityError,
        RateLimitError,
    )
    if cls.default_status is not None
}
# "record already exists": the generic table's code, and the one other sections use.
_DUPLICATE_CODES = frozenset({"duplicate_error", "resource_already_exists"})
# Most specific first: the generic StaticPaymentError marker must not hide a named reason.
_STATIC_ERRORS: tuple[type[StaticPaymentError], ...] = (
    VANumberOutOfRangeError,
    VANumberAlreadyAssignedError,
    StaticQRISLimitError,
    QRISAmountNotAllowedError,
    StaticPaymentError,
)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _error_object(body: object) -> Mapping[str, object]:
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def trace_id_of(body: object) -> str | None:
    """Pivot's trace id, spelled ``traceId`` or ``trace_id``, top level or inside ``error``."""
    for where in (_error_object(body), body if isinstance(body, Mapping) else {}):
        for key in ("traceId", "trace_id"):
            if found := _text(where.get(key)):
                return found
    return None


def _details(body: object) -> list[ErrorDetail]:
    raw = _error_object(body).get("details")
    if raw is None and isinstance(body, Mapping):
        raw = body.get("details")
    if not isinstance(raw, list):
        return []
    return [
        ErrorDetail(field=str(item.get("field") or ""), message=str(item.get("message") or ""))
        for item in raw
        if isinstance(item, Mapping)
    ]


def _error_class(status_code: int, code: str | None, texts: Iterable[str]) -> type[APIStatusError]:
    if status_code >= 500:
        return InternalServerError
    cls = _BY_STATUS.get(status_code, APIStatusError)
    if cls is ConflictError and code == "idempotency_error":
        return IdempotencyConflictError
    if cls is ConflictError and code in _DUPLICATE_CODES:
        return DuplicateError
    # Static refusals come as 400; a 200 with an error code may carry them too.
    if cls is BadRequestError or status_code < 400:
        folded = [text.casefold() for text in texts]
        for static in _STATIC_ERRORS:
            if any(static.marker in text for text in folded):
                return static
    return cls


def status_error(status_code: int, body: object, *, method: str, path: str) -> APIStatusError:
    """The exception for an error answer: its class from the status, code and message."""
    fields = body if isinstance(body, Mapping) else {}
    code = _text(fields.get("code"))
    message = _text(fields.get("message"))
    details = _details(body)
    cls = _error_class(status_code, code, [message or "", *(d.message for d in details)])
    return cls(
        message,
        status_code=status_code,
        code=code,
        details=details,
        trace_id=trace_id_of(body),
        method=method,
        path=path,
        body=body,
    )
