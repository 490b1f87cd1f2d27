"""Pivot's response envelope, its error object, and pagination."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from starlette.responses import JSONResponse

__all__ = ["GENERIC_MESSAGES", "PivotError", "error_response", "paginate", "success"]

T = TypeVar("T")

# Error codes per HTTP status (docs/pivot-api.md §errors). Pivot documents no code for its 408
# timeout nor for 422, so those two are our own wording.
_CODES_BY_STATUS = {
    400: "api_validation_error",
    401: "credentials_invalid",
    403: "forbidden_access",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "duplicate_error",
    422: "general_error",
    429: "frequency_above_limit",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

# Pivot's fixed top-level message per code (Payments, Response & Failure Code): the specific
# reason of a 400 (or a duplicate) is only in ``error.details[].message``.
GENERIC_MESSAGES = {
    "api_validation_error": "The request was invalid, or an error occurred in downstream provider",
    "duplicate_error": "There's already existing record with the provided details",
}


class PivotError(Exception):
    """An error answered with Pivot's error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES_BY_STATUS.get(status, "general_error")
        self.message = message
        self.field = field

    @classmethod
    def invalid(cls, field: str, message: str) -> PivotError:
        """A 400 ``api_validation_error`` about one field."""
        return cls(400, message, field=field)

    @classmethod
    def missing(cls, field: str) -> PivotError:
        """A 400 for a mandatory field left out, in Pivot's "fulfilled" wording."""
        return cls.invalid(field, f"Make sure {field} value is fulfilled")


def success(
    data: Any, *, status: int = 200, pagination: dict[str, int] | None = None
) -> JSONResponse:
    """``{"code": "00", "message": "Success", "data": ...}``, plus pagination for lists."""
    body: dict[str, Any] = {"code": "00", "message": "Success", "data": data}
    if pagination is not None:
        body["pagination"] = pagination
    return JSONResponse(body, status_code=status)


def error_response(error: PivotError) -> JSONResponse:
    """The error envelope for ``error``, with a fresh trace id.

    Codes with a fixed message get it at the top and ``error.message`` in the details, as
    Pivot answers them; the others carry ``error.message`` at the top.
    """
    message = GENERIC_MESSAGES.get(error.code, error.message)
    details = (
        [{"field": error.field or "", "message": error.message}]
        if error.field or message != error.message
        else []
    )
    return JSONResponse(
        {
            "code": error.code,
            "message": message,
            "error": {
                "type": "API_ERROR" if error.status < 500 else "GATEWAY_ERROR",
                "details": details,
                "traceId": uuid.uuid4().hex,
            },
        },
        status_code=error.status,
    )


def paginate(items: Sequence[T], page: int, per_page: int) -> tuple[list[T], dict[str, int]]:
    """One page of ``items`` and Pivot's ``pagination`` object for it."""
    start = (page - 1) * per_page
    return list(items[start : start + per_page]), {
        "page": page,
        "perPage": per_page,
        "totalItems": len(items),
        "totalPages": math.ceil(len(items) / per_page),
    }
