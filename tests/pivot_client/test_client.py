"""PivotClient's calls: request shapes, idempotency keys, pagination and retries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from pivot_client import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    Customer,
    InternalServerError,
    NotFoundError,
    PaymentSession,
    PermissionDeniedError,
    PivotClient,
    QRISAmountNotAllowedError,
    RateLimitError,
    RequestTimeoutError,
    SessionStatus,
    UnprocessableEntityError,
    request_id_for,
)
from pivot_client._client import retry_after_seconds
from tests.pivot_client import load_fixture
from tests.pivot_client.fakes import (
    BASE_URL,
    FakePivot,
    SleepRecorder,
    body_of,
    error,
    ok,
)

PAYMENTS = "/v2/payments"
CHARGES = "/v2/charges"
REQUEST_ID = re.compile(r"^[A-Za-z0-9]{16,36}$")
BCA_VA = {"method": "VIRTUAL_ACCOUNT", "channel": "BCA", "virtual_account_number": "000001"}


def va_session() -> dict[str, object]:
    data: dict[str, object] = load_fixture("static_va_response.json")["data"]
    return data


def qr_session() -> dict[str, object]:
    data: dict[str, object] = load_fixture("static_qr_response.json")["data"]
    return data


def charge(number: int) -> dict[str, object]:
    return {"id": f"c{number}", "amount": {"value": 1000 + number}, "status": "SUCCESS"}


# Creating static sessions


async def test_closed_va_request_body(client: PivotClient, fake: FakePivot) -> None:
    fake.script("POST", PAYMENTS, ok(va_session()))

    session = await client.create_static_payment(
        client_reference_id="kb000123",
        method="VIRTUAL_ACCOUNT",
        amount=50_000,
        channel="BCA",
        virtual_account_number="000042",
        virtual_account_name="Toko Budi",
        customer=Customer(email="budi@example.com", given_name="Budi"),
        product_name="Langganan",
        metadata={"tgUserId": "7"},
    )

    assert isinstance(session, PaymentSession)
    assert session.status is SessionStatus.ACTIVE
    [request] = fake.calls("POST", PAYMENTS)
    assert request.headers["Content-Type"] == "application/json"
    assert body_of(request) == {
        "clientReferenceId": "kb000123",
        "amount": {"value": 50000, "currency": "IDR"},
        "paymentType": "MULTIPLE",
        "paymentMethod": {"type": "VIRTUAL_ACCOUNT"},
        "paymentMethodOptions": {
            "virtualAccount": {
                "channel": "BCA",
                "virtualAccountName": "Toko Budi",
                "virtualAccountNumber": "000042",
            }
        },
        "mode": "API",
        "redirectUrl": {
            "successReturnUrl": "https://t.me/",
            "failureReturnUrl": "https://t.me/",
            "expirationReturnUrl": "https://t.me/",
        },
        "customer": {"email": "budi@example.com", "givenName": "Budi"},
        "orderInformation": {
            "productDetails": [
                {
                    "type": "DIGITAL",
                    "name": "Langganan",
                    "quantity": 1,
                    "price": {"value": 50000, "currency": "IDR"},
                }
            ]
        },
        "autoConfirm": True,
        "metadata": {"tgUserId": "7"},
    }


async def test_open_va_and_qris_send_no_amount(client: PivotClient, fake: FakePivot) -> None:
    fake.script("POST", PAYMENTS, ok(va_session()), ok(qr_session()))

    await client.create_static_payment(
        client_reference_id="open1",
        method="VIRTUAL_ACCOUNT",
        channel="BRI",
        virtual_account_number="0000042",
    )
    qr = await client.create_static_payment(client_reference_id="qr1", method="QR")

    va_body, qr_body = (body_of(r) for r in fake.calls("POST", PAYMENTS))
    assert "amount" not in va_body
    assert "amount" not in qr_body
    assert "paymentMethodOptions" not in qr_body
    assert qr_body["paymentMethod"] == {"type": "QR"}
    # Pivot requires a positive product price even for an open amount.
    assert qr_body["orderInformation"]["productDetails"][0]["price"]["value"] > 0
    assert qr.payment_method is not None
    assert qr.payment_method.qr is not None


async def test_qris_with_an_amount_is_refused_before_any_request(
    client: PivotClient, fake: FakePivot
) -> None:
    with pytest.raises(QRISAmountNotAllowedError) as caught:
        await client.create_static_payment(client_reference_id="qr1", method="QR", amount=10_000)

    assert fake.requests == []
    assert caught.value.status_code == 400
    assert "must not include an amount" in caught.value.message


@pytest.mark.parametrize(
    "arguments",
    [
        {"method": "VIRTUAL_ACCOUNT", "virtual_account_number": "000001"},
        {"method": "VIRTUAL_ACCOUNT", "channel": "BCA"},
        BCA_VA | {"amount": 0},
        BCA_VA | {"amount": -5},
        BCA_VA | {"amount": True},
        {"method": "CARD"},
    ],
)
async def test_invalid_arguments_are_refused_before_any_request(
    client: PivotClient, fake: FakePivot, arguments: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        await client.create_static_payment(client_reference_id="ref1", **arguments)  # type: ignore[arg-type]

    assert fake.requests == []


async def test_a_non_alphanumeric_reference_is_refused_before_any_request(
    client: PivotClient, fake: FakePivot
) -> None:
    with pytest.raises(ValueError, match=r"clientReferenceId|client_reference_id"):
        await client.create_static_payment(client_reference_id="kb-01", method="QR")

    assert fake.requests == []


# Idempotency keys


@pytest.mark.parametrize("reference", ["a", "kb000123", "x" * 100, "Z9"])
def test_request_id_is_alphanumeric_16_to_36_and_deterministic(reference: str) -> None:
    key = request_id_for(reference)

    assert REQUEST_ID.fullmatch(key)
    assert request_id_for(reference) == key


def test_request_ids_differ_per_reference() -> None:
    keys = {request_id_for(f"ref{n}") for n in range(1000)}

    assert len(keys) == 1000


def test_request_id_needs_a_reference() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        request_id_for("")


async def test_the_same_request_id_and_body_go_out_on_every_retry(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder
) -> None:
    fake.script(
        "POST",
        PAYMENTS,
        error(503, "service_unavailable", "Down"),
        httpx.ReadTimeout("lost"),
        ok(qr_session()),
    )

    await client.create_static_payment(client_reference_id="kb000123", method="QR")

    attempts = fake.calls("POST", PAYMENTS)
    assert len(attempts) == 3
    assert {r.headers["X-REQUEST-ID"] for r in attempts} == {request_id_for("kb000123")}
    assert len({r.content for r in attempts}) == 1
    assert len(sleeps.delays) == 2


async def test_only_session_creation_sends_a_request_id(
    client: PivotClient, fake: FakePivot
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", ok(va_session()))

    await client.get_payment("s1")

    assert all("X-REQUEST-ID" not in r.headers for r in fake.requests)


# Reading


async def test_get_payment_quotes_the_id(client: PivotClient, fake: FakePivot) -> None:
    fake.script("GET", f"{PAYMENTS}/a/b", ok(va_session()))  # httpx decodes url.path

    session = await client.get_payment("a/b")

    assert session.client_reference_id == "1751610085"
    assert fake.api_requests[0].url.raw_path.startswith(b"/v2/payments/a%2Fb?")


async def test_get_payment_reads_every_page_of_the_charges(
    client: PivotClient, fake: FakePivot
) -> None:
    # Pivot pages a session's chargeDetails: 20 by default, at most 100.
    def page(number: int, charges: range) -> httpx.Response:
        session = va_session() | {"chargeDetails": [charge(n) for n in charges]}
        pagination = {"page": number, "perPage": 100, "totalItems": 230, "totalPages": 3}
        return ok(session, pagination=pagination)

    # A payment made between pages 1 and 2 pushes c99 down onto page 2: it is kept once.
    fake.script(
        "GET",
        f"{PAYMENTS}/s1",
        page(1, range(100)),
        page(2, range(99, 199)),
        page(3, range(199, 230)),
    )

    session = await client.get_payment("s1")

    assert [c.id for c in session.charge_details] == [f"c{n}" for n in range(230)]
    requests = fake.calls("GET", f"{PAYMENTS}/s1")
    assert [dict(r.url.params) for r in requests] == [
        {"page": str(number), "perPage": "100"} for number in (1, 2, 3)
    ]


async def test_get_payment_needs_an_id(client: PivotClient, fake: FakePivot) -> None:
    with pytest.raises(ValueError):
        await client.get_payment("")

    assert fake.requests == []


async def test_list_charges_walks_every_page(client: PivotClient, fake: FakePivot) -> None:
    pages = [[charge(n) for n in range(k * 100, min(k * 100 + 100, 250))] for k in range(3)]
    fake.script(
        "GET",
        CHARGES,
        *(
            ok(
                page,
                pagination={"page": k + 1, "perPage": 100, "totalItems": 250, "totalPages": 3},
            )
            for k, page in enumerate(pages)
        ),
    )

    charges = await client.list_charges("kb000123")

    assert [c.id for c in charges] == [f"c{n}" for n in range(250)]
    requests = fake.calls("GET", CHARGES)
    assert [dict(r.url.params) for r in requests] == [
        {"clientReferenceId": "kb000123", "page": str(page), "perPage": "100"}
        for page in (1, 2, 3)
    ]


async def test_list_charges_page_asks_for_that_page_only(
    client: PivotClient, fake: FakePivot
) -> None:
    second = [charge(n) for n in range(100, 200)]
    pagination = {"page": 2, "perPage": 100, "totalItems": 250, "totalPages": 3}
    fake.script("GET", CHARGES, ok(second, pagination=pagination))

    page = await client.list_charges_page("kb000123", page=2)

    assert [c.id for c in page.items] == [f"c{n}" for n in range(100, 200)]
    assert (page.number, page.total_pages, page.last) == (2, 3, False)
    [request] = fake.calls("GET", CHARGES)
    assert dict(request.url.params) == {
        "clientReferenceId": "kb000123",
        "page": "2",
        "perPage": "100",
    }


async def test_the_last_page_of_charges_says_so(client: PivotClient, fake: FakePivot) -> None:
    pagination = {"page": 3, "perPage": 100, "totalItems": 250, "totalPages": 3}
    fake.script("GET", CHARGES, ok([charge(200)], pagination=pagination))

    assert (await client.list_charges_page("kb000123", page=3)).last


async def test_list_charges_page_counts_pages_from_1(client: PivotClient, fake: FakePivot) -> None:
    with pytest.raises(ValueError):
        await client.list_charges_page("kb1", page=0)

    assert fake.requests == []


async def test_list_charges_reads_an_empty_list_sent_as_null(
    client: PivotClient, fake: FakePivot
) -> None:
    fake.script(
        "GET",
        CHARGES,
        ok(None, pagination={"page": 1, "perPage": 100, "totalItems": 0, "totalPages": 0}),
    )

    assert await client.list_charges("kb1") == []
    assert len(fake.calls("GET", CHARGES)) == 1


async def test_list_without_pagination_is_one_page(client: PivotClient, fake: FakePivot) -> None:
    fake.script("GET", CHARGES, ok(load_fixture("charges_list.json")["data"]))

    charges = await client.list_charges("1751610085")

    assert len(charges) == 4
    assert len(fake.calls("GET", CHARGES)) == 1


async def test_find_payments_walks_pages_too(client: PivotClient, fake: FakePivot) -> None:
    fake.script(
        "GET",
        PAYMENTS,
        ok([va_session()], pagination={"page": 1, "perPage": 1, "totalItems": 2, "totalPages": 2}),
        ok([qr_session()], pagination={"page": 2, "perPage": 1, "totalItems": 2, "totalPages": 2}),
    )

    sessions = await client.find_payments("1751610085")

    assert len(sessions) == 2
    assert fake.calls("GET", PAYMENTS)[0].url.params["clientReferenceId"] == "1751610085"


async def test_simulate_payment_body(client: PivotClient, fake: FakePivot) -> None:
    fake.script("POST", f"{PAYMENTS}/simulations", ok({"updated": "true"}))

    await client.simulate_payment("s1", 25_000)

    [request] = fake.calls("POST", f"{PAYMENTS}/simulations")
    assert body_of(request) == {
        "paymentSessionId": "s1",
        "chargeStatus": "SUCCESS",
        "amount": {"value": 25000, "currency": "IDR"},
    }


# Retries


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried_with_backoff(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder, status: int
) -> None:
    failed = error(status, "whatever", "Try again")
    fake.script("GET", f"{PAYMENTS}/s1", failed, failed, ok(va_session()))

    await client.get_payment("s1")

    assert len(fake.api_requests) == 3
    assert sleeps.delays == [0.5, 1.0]


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (408, RequestTimeoutError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
    ],
)
async def test_retries_stop_after_two_by_default(
    client: PivotClient,
    fake: FakePivot,
    sleeps: SleepRecorder,
    status: int,
    exception: type[Exception],
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", error(status, "whatever", "Still failing"))

    with pytest.raises(exception):
        await client.get_payment("s1")

    assert len(fake.api_requests) == 3
    assert len(sleeps.delays) == 2


async def test_connection_errors_are_retried_then_raised(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", httpx.ConnectError("refused"))

    with pytest.raises(APIConnectionError) as caught:
        await client.get_payment("s1")

    assert type(caught.value) is APIConnectionError
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(fake.api_requests) == 3
    assert sleeps.delays == [0.5, 1.0]


async def test_timeouts_are_retried_then_raised_as_timeouts(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", httpx.ReadTimeout("slow"))

    with pytest.raises(APITimeoutError):
        await client.get_payment("s1")

    assert len(fake.api_requests) == 3


async def test_a_connection_error_then_success(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", httpx.ConnectError("refused"), ok(va_session()))

    session = await client.get_payment("s1")

    assert session.client_reference_id == "1751610085"
    assert sleeps.delays == [0.5]


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (400, "api_validation_error", BadRequestError),
        (403, "forbidden_access", PermissionDeniedError),
        (404, "resource_missing", NotFoundError),
        (409, "duplicate_error", ConflictError),
        (422, "general_error", UnprocessableEntityError),
    ],
)
async def test_client_errors_are_never_retried(
    client: PivotClient,
    fake: FakePivot,
    sleeps: SleepRecorder,
    status: int,
    code: str,
    exception: type[Exception],
) -> None:
    fake.script("POST", PAYMENTS, error(status, code, "No"))

    with pytest.raises(exception):
        await client.create_static_payment(client_reference_id="kb1", method="QR")

    assert len(fake.api_requests) == 1
    assert sleeps.delays == []


async def test_retry_after_seconds_is_honoured(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder
) -> None:
    fake.script(
        "GET",
        f"{PAYMENTS}/s1",
        error(429, "frequency_above_limit", "Slow down", headers={"Retry-After": "7"}),
        error(503, "service_unavailable", "Down", headers={"Retry-After": "1.5"}),
        ok(va_session()),
    )

    await client.get_payment("s1")

    assert sleeps.delays == [7.0, 1.5]


@pytest.mark.parametrize("value", ["0", "-3", "61", "soon", ""])
async def test_unusable_retry_after_falls_back_to_backoff(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder, value: str
) -> None:
    fake.script(
        "GET",
        f"{PAYMENTS}/s1",
        error(429, "frequency_above_limit", "Slow down", headers={"Retry-After": value}),
        ok(va_session()),
    )

    await client.get_payment("s1")

    assert sleeps.delays == [0.5]


def test_retry_after_reads_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=20), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=20), usegmt=True)

    assert retry_after_seconds(later, now.timestamp()) == pytest.approx(20)
    assert retry_after_seconds(earlier, now.timestamp()) is None
    assert retry_after_seconds(None, now.timestamp()) is None


async def test_backoff_doubles_up_to_eight_seconds_with_jitter_below_a_quarter(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", error(500, "internal_error", "Boom"))
    patient = client.with_options(max_retries=7)
    jitters = iter([0.0, 1.0, 0.5, 0.0, 0.0, 0.0, 1.0])
    patient._random = lambda: next(jitters)

    with pytest.raises(InternalServerError):
        await patient.get_payment("s1")

    assert sleeps.delays == [0.5, 0.75, 1.75, 4.0, 8.0, 8.0, 6.0]
    assert len(fake.api_requests) == 8


async def test_max_retries_zero_tries_once(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder
) -> None:
    fake.script("GET", f"{PAYMENTS}/s1", error(503, "service_unavailable", "Down"))

    with pytest.raises(InternalServerError):
        await client.with_options(max_retries=0).get_payment("s1")

    assert len(fake.api_requests) == 1
    assert sleeps.delays == []


async def test_the_token_request_is_retried_like_any_call(
    client: PivotClient, fake: FakePivot, sleeps: SleepRecorder
) -> None:
    fake.script("POST", "/v1/access-token", httpx.ConnectError("refused"))
    fake.default("POST", "/v1/access-token", ok({"accessToken": "t", "expiresIn": "900"}))
    fake.script("GET", f"{PAYMENTS}/s1", ok(va_session()))

    await client.get_payment("s1")

    assert len(fake.token_requests) == 2
    assert fake.api_requests[0].headers["Authorization"] == "Bearer t"


async def test_a_closed_client_owns_and_closes_its_pool() -> None:
    pivot = PivotClient(client_id="id", client_secret="secret", base_url=BASE_URL)
    async with pivot:
        pass

    assert pivot._http.is_closed
