"""Pivot's error answers become one exception class per status, carrying Pivot's fields."""

from __future__ import annotations

import httpx
import pytest

from pivot_client import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CallbackError,
    ConflictError,
    DuplicateError,
    ErrorDetail,
    IdempotencyConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    PivotClient,
    PivotError,
    QRISAmountNotAllowedError,
    RateLimitError,
    RequestTimeoutError,
    StaticPaymentError,
    StaticQRISLimitError,
    UnprocessableEntityError,
    VANumberAlreadyAssignedError,
    VANumberOutOfRangeError,
)
from tests.pivot_client import load_fixture
from tests.pivot_client.fakes import FakePivot, error, ok
from tests.pivot_client.pivot_messages import (
    GENERIC_400,
    MULTIPLE_METHOD,
    MULTIPLE_MODE,
    NO_DYNAMIC_VA,
    QRIS_AMOUNT,
    QRIS_LIMIT,
    VA_RANGE,
    VA_TAKEN,
)

PAYMENTS = "/v2/payments"


@pytest.fixture
def once(client: PivotClient) -> PivotClient:
    """The client without retries, so every scripted error is raised as it is."""
    return client.with_options(max_retries=0)


async def create(client: PivotClient) -> None:
    await client.create_static_payment(
        client_reference_id="kb1",
        method="VIRTUAL_ACCOUNT",
        channel="BCA",
        virtual_account_number="1",
    )


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (400, "api_validation_error", BadRequestError),
        (401, "forbidden_access", AuthenticationError),
        (403, "resource_not_complete", PermissionDeniedError),
        (404, "resource_missing", NotFoundError),
        (408, "request_timeout", RequestTimeoutError),
        (409, "duplicate_error", DuplicateError),
        (409, "resource_already_exists", DuplicateError),
        (409, "other_conflict", ConflictError),
        (409, "idempotency_error", IdempotencyConflictError),
        (422, "general_error", UnprocessableEntityError),
        (429, "frequency_above_limit", RateLimitError),
        (500, "internal_error", InternalServerError),
        (502, "bad_gateway", InternalServerError),
        (503, "service_unavailable", InternalServerError),
        (504, "gateway_timeout", InternalServerError),
        (418, "teapot", APIStatusError),
    ],
)
async def test_each_status_has_its_class_with_pivot_fields(
    once: PivotClient, fake: FakePivot, status: int, code: str, exception: type[APIStatusError]
) -> None:
    fake.script(
        "POST",
        PAYMENTS,
        error(status, code, "Something failed", details=[("amount", "bad")], trace_id="tr-1"),
    )

    with pytest.raises(APIStatusError) as caught:
        await create(once)

    raised = caught.value
    assert type(raised) is exception
    assert isinstance(raised, APIError)
    assert isinstance(raised, PivotError)
    assert raised.status_code == status
    assert raised.code == code
    assert raised.message == "Something failed"
    assert raised.details == [ErrorDetail(field="amount", message="bad")]
    assert raised.trace_id == "tr-1"
    assert (raised.method, raised.path) == ("POST", PAYMENTS)
    assert isinstance(raised.body, dict)
    assert str(raised) == (
        f"POST {PAYMENTS} -> {status} {code}: Something failed [amount: bad] (trace tr-1)"
    )


async def test_trace_id_is_read_in_snake_case_too(once: PivotClient, fake: FakePivot) -> None:
    fake.script("POST", PAYMENTS, error(400, "x", "y", trace_id="snake", trace_key="trace_id"))

    with pytest.raises(BadRequestError) as caught:
        await create(once)

    assert caught.value.trace_id == "snake"


async def test_top_level_trace_id_and_details_are_read(once: PivotClient, fake: FakePivot) -> None:
    body = {
        "code": "field_required",
        "message": "Missing",
        "traceId": "top",
        "details": [{"field": "amount", "message": "Make sure amount value is fulfilled"}],
    }
    fake.script("POST", PAYMENTS, httpx.Response(400, json=body))

    with pytest.raises(BadRequestError) as caught:
        await create(once)

    assert caught.value.trace_id == "top"
    assert caught.value.details == [
        ErrorDetail(field="amount", message="Make sure amount value is fulfilled")
    ]


async def test_the_va_already_assigned_sample_maps_to_its_class(
    once: PivotClient, fake: FakePivot
) -> None:
    fake.script(
        "POST", PAYMENTS, httpx.Response(400, json=load_fixture("error_va_already_assigned.json"))
    )

    with pytest.raises(VANumberAlreadyAssignedError) as caught:
        await create(once)

    assert caught.value.trace_id == "6a0f3c9e2b7d41e8a5c1f0d9b8e7a6c5"
    assert caught.value.details[0].field == (
        "paymentMethodOptions.virtualAccount.virtualAccountNumber"
    )


@pytest.mark.parametrize(
    ("message", "exception"),
    [
        (VA_RANGE, VANumberOutOfRangeError),
        (VA_TAKEN, VANumberAlreadyAssignedError),
        (QRIS_LIMIT, StaticQRISLimitError),
        (QRIS_AMOUNT, QRISAmountNotAllowedError),
        (MULTIPLE_MODE, StaticPaymentError),
        (MULTIPLE_METHOD, StaticPaymentError),
        (NO_DYNAMIC_VA, BadRequestError),
    ],
)
async def test_static_payment_messages_map_to_distinct_classes(
    once: PivotClient, fake: FakePivot, message: str, exception: type[BadRequestError]
) -> None:
    fake.script("POST", PAYMENTS, error(400, "api_validation_error", message))

    with pytest.raises(BadRequestError) as caught:
        await create(once)

    assert type(caught.value) is exception
    assert caught.value.message == message


async def test_a_static_message_found_only_in_the_details_still_maps(
    once: PivotClient, fake: FakePivot
) -> None:
    fake.script(
        "POST",
        PAYMENTS,
        error(400, "api_validation_error", "Validation failed", details=[("x", VA_RANGE.upper())]),
    )

    with pytest.raises(VANumberOutOfRangeError):
        await create(once)


async def test_the_reason_is_the_specific_text_under_pivots_generic_message(
    once: PivotClient, fake: FakePivot
) -> None:
    # Pivot's 400s: a fixed sentence at the top, what is wrong in the details.
    fake.script(
        "POST",
        PAYMENTS,
        error(400, "api_validation_error", GENERIC_400, details=[("amount", QRIS_AMOUNT)]),
    )
    fake.script("GET", f"{PAYMENTS}/s1", error(404, "resource_missing", "Not here"))

    with pytest.raises(QRISAmountNotAllowedError) as static:
        await create(once)
    with pytest.raises(NotFoundError) as plain:
        await once.get_payment("s1")

    assert static.value.message == GENERIC_400
    assert static.value.reason == f"amount: {QRIS_AMOUNT}"
    assert plain.value.reason == "Not here"  # no details: the top-level message


async def test_a_static_message_on_another_status_keeps_the_status_class(
    once: PivotClient, fake: FakePivot
) -> None:
    fake.script("POST", PAYMENTS, error(422, "general_error", VA_TAKEN))

    with pytest.raises(UnprocessableEntityError):
        await create(once)


async def test_a_200_with_an_error_code_is_raised(once: PivotClient, fake: FakePivot) -> None:
    fake.script("POST", PAYMENTS, error(200, "api_validation_error", VA_TAKEN))
    fake.script("GET", f"{PAYMENTS}/s1", error(200, "general_error", "Odd"))

    with pytest.raises(VANumberAlreadyAssignedError) as static:
        await create(once)
    with pytest.raises(APIStatusError) as generic:
        await once.get_payment("s1")

    assert static.value.status_code == 200
    assert type(generic.value) is APIStatusError
    assert generic.value.status_code == 200


async def test_an_error_without_a_json_body_uses_the_reason_phrase(
    once: PivotClient, fake: FakePivot
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", httpx.Response(502, text="<html>Bad gateway</html>"))

    with pytest.raises(InternalServerError) as caught:
        await once.get_payment("s1")

    assert caught.value.message == "Bad Gateway"
    assert caught.value.code is None
    assert caught.value.trace_id is None
    assert caught.value.body is None
    assert str(caught.value) == f"GET {PAYMENTS}/s1 -> 502: Bad Gateway"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=["a", "list"]),
        httpx.Response(200, json={"data": {}}),
        # The stdlib parser raised RecursionError here, which nobody caught.
        httpx.Response(200, content=b'{"code": "00", "data": ' + b"[" * 100_000),
    ],
)
async def test_a_success_that_is_not_an_envelope(
    once: PivotClient, fake: FakePivot, answer: httpx.Response
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", answer)

    with pytest.raises(APIResponseValidationError) as caught:
        await once.get_payment("s1")

    assert caught.value.status_code == 200


async def test_a_session_missing_its_id_is_a_validation_error(
    once: PivotClient, fake: FakePivot
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", ok({"clientReferenceId": "r", "status": "ACTIVE"}))

    with pytest.raises(APIResponseValidationError, match="id: Field required"):
        await once.get_payment("s1")


async def test_an_amount_of_absurd_size_in_an_answer_is_a_validation_error(
    once: PivotClient, fake: FakePivot
) -> None:
    # Reconciliation reads charges with the callback's models: the same bounds hold.
    charge = {"id": "c1", "amount": {"value": "1e400000", "currency": "IDR"}, "status": "SUCCESS"}
    fake.script("GET", "/v2/charges", ok([charge]))

    with pytest.raises(APIResponseValidationError, match="at most 18 digits"):
        await once.list_charges("kb1")


def test_the_hierarchy() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, APIError)
    assert issubclass(APIResponseValidationError, APIError)
    assert issubclass(IdempotencyConflictError, ConflictError)
    assert issubclass(DuplicateError, ConflictError)
    for static in (
        VANumberOutOfRangeError,
        VANumberAlreadyAssignedError,
        StaticQRISLimitError,
        QRISAmountNotAllowedError,
    ):
        assert issubclass(static, StaticPaymentError)
    assert issubclass(StaticPaymentError, BadRequestError)
    assert issubclass(CallbackError, PivotError)
    assert not issubclass(CallbackError, APIError)


def test_a_status_error_without_a_status_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="needs a status_code"):
        APIStatusError("no status")
