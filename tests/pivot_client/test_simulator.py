"""The simulator over loopback HTTP: tokens, idempotency and Pivot's request validation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from pivot_client.banks import parse_va_rule_overrides
from tests.pivot_client.pivot_messages import (
    DUPLICATE,
    GENERIC_400,
    MULTIPLE_METHOD,
    MULTIPLE_MODE,
    QRIS_AMOUNT,
    QRIS_LIMIT,
    VA_RANGE,
    VA_TAKEN,
)
from tests.pivot_client.simulated import (
    CLIENT_ID,
    CLIENT_SECRET,
    RunningSimulator,
    problem,
    qr_body,
    running_simulator,
    va_body,
)

INVALID = "api_validation_error"


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator(token_lifetime=60.0) as running:
        yield running


# Tokens


async def test_token_is_issued_for_the_configured_credentials(sim: RunningSimulator) -> None:
    response = await sim.http.post(
        "/v1/access-token",
        json={"grantType": "client_credentials"},
        headers={"X-MERCHANT-ID": CLIENT_ID, "X-MERCHANT-SECRET": CLIENT_SECRET},
    )

    data = response.json()["data"]
    assert response.status_code == 200
    assert response.json()["code"] == "00"
    assert data["expiresIn"] == "60"  # a string, as Pivot sends it
    assert data["tokenType"] == "Bearer"
    assert len(data["accessToken"]) >= 32


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"X-MERCHANT-ID": CLIENT_ID, "X-MERCHANT-SECRET": "wrong"}, None, 401),
        ({"X-MERCHANT-ID": "other", "X-MERCHANT-SECRET": CLIENT_SECRET}, None, 401),
        ({}, None, 401),
        (None, {"grantType": "password"}, 400),
        (None, {}, 400),
    ],
)
async def test_token_requests_are_checked(
    sim: RunningSimulator,
    headers: dict[str, str] | None,
    body: dict[str, str] | None,
    expected: int,
) -> None:
    sent_headers = (
        headers
        if headers is not None
        else {"X-MERCHANT-ID": CLIENT_ID, "X-MERCHANT-SECRET": CLIENT_SECRET}
    )
    sent_body = body if body is not None else {"grantType": "client_credentials"}

    response = await sim.http.post("/v1/access-token", json=sent_body, headers=sent_headers)

    assert response.status_code == expected
    assert response.json()["code"] == ("credentials_invalid" if expected == 401 else INVALID)


async def test_tokens_expire_after_their_lifetime(sim: RunningSimulator) -> None:
    token = await sim.token()
    headers = {"Authorization": f"Bearer {token}"}

    sim.clock.advance(59.9)
    assert (await sim.http.get("/v2/payment-method-configs", headers=headers)).status_code == 200
    sim.clock.advance(0.1)
    expired = await sim.http.get("/v2/payment-method-configs", headers=headers)

    assert problem(expired) == (401, "credentials_invalid", "Access token is invalid")


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer unknown-token", "Basic c2ltOnNpbQ=="]
)
async def test_pivot_routes_need_a_valid_bearer_token(
    sim: RunningSimulator, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    for method, path in [
        ("GET", "/v2/payment-method-configs"),
        ("GET", "/v2/payments/x"),
        ("GET", "/v2/payments"),
        ("GET", "/v2/charges"),
        ("POST", "/v2/payments"),
        ("POST", "/v2/payments/simulations"),
    ]:
        response = await sim.http.request(method, path, headers=headers)
        assert problem(response)[:2] == (401, "credentials_invalid"), (method, path)


async def test_the_scheme_is_case_insensitive(sim: RunningSimulator) -> None:
    headers = {"Authorization": f"bearer {await sim.token()}"}

    assert (await sim.http.get("/v2/payment-method-configs", headers=headers)).status_code == 200


# X-REQUEST-ID


@pytest.mark.parametrize(
    ("request_id", "message"),
    [
        (None, "Make sure X-REQUEST-ID value is fulfilled"),
        ("a" * 15, "X-REQUEST-ID must be alphanumeric, 16 to 36 characters"),
        ("a" * 37, "X-REQUEST-ID must be alphanumeric, 16 to 36 characters"),
        ("abcdefgh-ijklmnop", "X-REQUEST-ID must be alphanumeric, 16 to 36 characters"),
        ("abcdefgh ijklmnop", "X-REQUEST-ID must be alphanumeric, 16 to 36 characters"),
    ],
)
async def test_request_id_is_mandatory_and_alphanumeric_16_to_36(
    sim: RunningSimulator, request_id: str | None, message: str
) -> None:
    headers = {} if request_id is None else {"X-REQUEST-ID": request_id}

    response = await sim.call("POST", "/v2/payments", json=qr_body(), headers=headers)

    assert problem(response) == (400, INVALID, message)
    assert sim.simulator.sessions == {}


async def test_a_non_ascii_request_id_is_refused(sim: RunningSimulator) -> None:
    # "é" is a letter to str.isalnum(), but not alphanumeric to Pivot.
    response = await sim.http.post(
        "/v2/payments",
        json=qr_body(),
        headers={
            "Authorization": f"Bearer {await sim.token()}",
            "X-REQUEST-ID": "abcdefghijklmnopé".encode("latin-1"),
        },
    )

    assert problem(response)[:2] == (400, INVALID)


@pytest.mark.parametrize("length", [16, 36])
async def test_request_ids_of_16_and_36_characters_are_accepted(
    sim: RunningSimulator, length: int
) -> None:
    response = await sim.create(qr_body(), request_id="K" * length)

    assert response.status_code == 200


async def test_the_same_key_and_payload_replay_the_first_answer(sim: RunningSimulator) -> None:
    first = await sim.create(qr_body(), request_id="replay0123456789")
    again = await sim.create(qr_body(), request_id="replay0123456789")

    assert again.status_code == 200
    assert again.content == first.content
    assert len(sim.simulator.sessions) == 1


async def test_the_same_key_with_another_payload_is_a_conflict(sim: RunningSimulator) -> None:
    await sim.create(qr_body("first"), request_id="conflict01234567")
    response = await sim.create(qr_body("second"), request_id="conflict01234567")

    assert problem(response) == (
        409,
        "idempotency_error",
        "The same Idempotency-key was already used with a different payload",
    )
    assert len(sim.simulator.sessions) == 1


async def test_a_refused_request_does_not_use_up_its_key(sim: RunningSimulator) -> None:
    wrong = qr_body()
    wrong["amount"] = {"value": 10000, "currency": "IDR"}

    refused = await sim.create(wrong, request_id="retryfix01234567")
    fixed = await sim.create(qr_body(), request_id="retryfix01234567")

    assert refused.status_code == 400
    assert fixed.status_code == 200


async def test_keys_are_forgotten_after_24_hours(sim: RunningSimulator) -> None:
    first = await sim.create(qr_body("first"), request_id="daylong012345678")
    sim.clock.advance(24 * 3600)
    # The key is free again: another body under it is no idempotency conflict.
    second = await sim.create(qr_body("second"), request_id="daylong012345678")

    assert second.status_code == 200
    assert second.json()["data"]["id"] != first.json()["data"]["id"]


async def test_a_client_reference_is_used_once(sim: RunningSimulator) -> None:
    first = await sim.create(qr_body("once"), request_id="firstkey01234567")
    again = await sim.create(qr_body("once"), request_id="otherkey01234567")
    # The same request 24 h later: its key is forgotten, its reference is not.
    sim.clock.advance(24 * 3600)
    later = await sim.create(qr_body("once"), request_id="firstkey01234567")
    va = await sim.create(va_body("once"), request_id="thirdkey01234567")

    assert first.status_code == 200
    for refused in (again, later, va):
        assert problem(refused) == (409, "duplicate_error", "clientReferenceId already exists")
        assert refused.json()["message"] == DUPLICATE
    assert len(sim.simulator.sessions) == 1


# What a static session must look like


@dataclass(frozen=True)
class Mutation:
    """A change to a valid request body, with a label saying what it is."""

    label: str
    apply: Callable[[dict[str, Any]], None]


def _at(body: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    for key in path:
        body = body[key]  # type: ignore[index]
    return body


def set_(*path: str | int, value: object) -> Mutation:
    """Set the field at ``path``."""
    return Mutation(
        f"{'.'.join(map(str, path))}={value!r}",
        lambda body: _at(body, path[:-1]).__setitem__(path[-1], value),
    )


def drop(*path: str | int) -> Mutation:
    """Remove the field at ``path``."""
    return Mutation(
        f"without {'.'.join(map(str, path))}",
        lambda body: _at(body, path[:-1]).__delitem__(path[-1]),
    )


VA = ("paymentMethodOptions", "virtualAccount")
PRODUCT = ("orderInformation", "productDetails", 0)


INVALID_REQUESTS: list[tuple[Mutation, int, str]] = [
    # MULTIPLE only with mode API, and only for VA and QR.
    (set_("paymentType", value="SINGLE"), 400, "implements only paymentType 'MULTIPLE'"),
    (drop("paymentType"), 400, "implements only paymentType 'MULTIPLE'"),
    (set_("paymentType", value="MANY"), 400, "paymentType must be SINGLE or MULTIPLE"),
    (set_("mode", value="REDIRECT"), 400, MULTIPLE_MODE),
    (drop("mode"), 400, MULTIPLE_MODE),
    (set_("paymentMethod", value={"type": "CARD"}), 400, MULTIPLE_METHOD),
    (set_("paymentMethod", value={"type": "EWALLET"}), 400, MULTIPLE_METHOD),
    (drop("paymentMethod"), 400, MULTIPLE_METHOD),
    # redirectUrl and orderInformation.productDetails are mandatory.
    (drop("redirectUrl"), 403, "redirectUrl is required"),
    (drop("redirectUrl", "failureReturnUrl"), 400, "redirectUrl.failureReturnUrl"),
    (set_("redirectUrl", value="https://x"), 400, "redirectUrl must be an object"),
    (drop("orderInformation"), 400, "orderInformation.productDetails value is fulfilled"),
    (drop("orderInformation", "productDetails"), 400, "productDetails value is fulfilled"),
    (set_("orderInformation", value={"productDetails": []}), 400, "productDetails value"),
    (set_(*PRODUCT, "type", value="FOOD"), 400, "must be one of PHYSICAL, DIGITAL, SERVICE"),
    (set_(*PRODUCT, "quantity", value=0), 400, "quantity must be a positive whole number"),
    (drop(*PRODUCT, "price"), 400, "price value"),
    (set_(*PRODUCT, "price", value={"value": 1, "currency": "USD"}), 400, "currency must be IDR"),
    # customer.email is required when customer is sent, and an e-mail address.
    (drop("customer", "email"), 400, "Make sure customer.email value is fulfilled"),
    (set_("customer", "email", value="Budi"), 400, "customer.email must be a valid email"),
    (set_("customer", "email", value="budi@toko"), 400, "customer.email must be a valid email"),
    # A static session confirms its charges itself; metadata is small.
    (set_("autoConfirm", value=False), 400, "autoConfirm must be true"),
    (set_("metadata", value={"n": "x" * 505}), 400, "metadata must be at most 512 characters"),
    (set_("customer", value={"email": ""}), 400, "Make sure customer.email value is fulfilled"),
    (set_("customer", value="budi@example.com"), 400, "customer must be an object"),
    # The reference and the amount.
    (set_("clientReferenceId", value="va-1"), 400, "clientReferenceId must be alphanumeric"),
    (drop("clientReferenceId"), 400, "clientReferenceId value is fulfilled"),
    (set_("amount", value={"value": 5000, "currency": "IDR"}), 400, "between 10000 and"),
    (set_("amount", value={"value": 10000.5, "currency": "IDR"}), 400, "positive whole number"),
    (set_("amount", value={"value": "10000", "currency": "IDR"}), 400, "positive whole number"),
    # VA suffix: length, range, digits, bank.
    (set_(*VA, "virtualAccountNumber", value="00001"), 400, VA_RANGE),
    (set_(*VA, "virtualAccountNumber", value="0000001"), 400, VA_RANGE),
    (set_(*VA, "virtualAccountNumber", value="000100"), 400, VA_RANGE),
    (set_(*VA, "virtualAccountNumber", value="00000a"), 400, VA_RANGE),
    (set_(*VA, "virtualAccountNumber", value="٠٠٠٠٠١"), 400, VA_RANGE),
    (set_(*VA, "virtualAccountNumber", value="00000²"), 400, VA_RANGE),
    (set_(*VA, "virtualAccountNumber", value=1), 400, VA_RANGE),
    (drop(*VA, "virtualAccountNumber"), 400, "fulfilled"),
    (drop("paymentMethodOptions"), 400, "virtualAccount value is fulfilled"),
    (set_(*VA, "channel", value="DANAMON"), 400, "channel must be one of BCA"),
    (set_(*VA, "channel", value=["BCA"]), 400, "channel must be one of BCA"),
    (set_(*VA, "channel", value={"code": "BCA"}), 400, "channel must be one of BCA"),
]


async def test_invalid_requests_get_pivots_errors(
    sim: RunningSimulator, subtests: pytest.Subtests
) -> None:
    # One simulator for every case: starting one per case would cost most of the time.
    for number, (mutation, status, message) in enumerate(INVALID_REQUESTS):
        with subtests.test(mutation.label):
            body = va_body(f"case{number}")
            mutation.apply(body)

            response = await sim.create(body, request_id=f"invalidcase{number:05d}")

            got_status, code, got_message = problem(response)
            assert got_status == status
            assert code == (INVALID if status == 400 else "resource_not_complete")
            assert message in got_message
            assert response.json()["error"]["details"][0]["field"]
            assert sim.simulator.sessions == {}


async def test_the_valid_request_passes(sim: RunningSimulator) -> None:
    assert (await sim.create(va_body())).status_code == 200
    body = va_body("other", suffix="000002")
    body["metadata"] = {"n": "x" * 504}  # {"n":"…"} is 512 characters
    assert (await sim.create(body)).status_code == 200


async def test_a_body_that_is_not_json_is_refused(sim: RunningSimulator) -> None:
    token = await sim.token()

    response = await sim.http.post(
        "/v2/payments",
        content=b"{clientReferenceId",
        headers={"Authorization": f"Bearer {token}", "X-REQUEST-ID": "notjson012345678"},
    )

    assert problem(response) == (400, INVALID, "Request body must be valid JSON")


async def test_static_qris_must_not_carry_an_amount(sim: RunningSimulator) -> None:
    body = qr_body()
    body["amount"] = {"value": 10000, "currency": "IDR"}

    response = await sim.create(body)

    assert problem(response) == (400, INVALID, QRIS_AMOUNT)


async def test_a_400_says_what_is_wrong_in_its_details_only(sim: RunningSimulator) -> None:
    body = qr_body()
    body["amount"] = {"value": 10000, "currency": "IDR"}

    answer = (await sim.create(body)).json()

    assert (answer["code"], answer["message"]) == (INVALID, GENERIC_400)
    assert answer["error"]["type"] == "API_ERROR"
    assert answer["error"]["details"] == [{"field": "amount", "message": QRIS_AMOUNT}]


async def test_a_customer_is_optional(sim: RunningSimulator) -> None:
    body = qr_body()
    del body["customer"]

    session = await sim.created(body)

    assert session["customer"] is None
    assert session["customerId"] == ""


async def test_a_va_suffix_is_taken_once_per_channel(sim: RunningSimulator) -> None:
    await sim.created(va_body("first", channel="BNI", suffix="0007"))

    taken = await sim.create(va_body("second", channel="BNI", suffix="0007"))
    other_bank = await sim.create(va_body("third", channel="BNC", suffix="0007"))

    assert problem(taken) == (400, INVALID, VA_TAKEN)
    assert other_bank.status_code == 200


async def test_va_rules_come_from_the_configuration() -> None:
    wider = parse_va_rule_overrides("BCA=000000-000999")
    async with running_simulator(va_rules=wider) as sim:
        inside = await sim.create(va_body(suffix="000500"))
        outside = await sim.create(va_body("other", suffix="001000"))

    assert inside.status_code == 200
    assert problem(outside) == (400, INVALID, VA_RANGE)


async def test_open_and_closed_vas_take_numbers_from_their_own_ranges() -> None:
    split = parse_va_rule_overrides("BNI:open=0000-0049,BNI:closed=0050-0099")
    async with running_simulator(va_rules=split) as sim:
        answers = {
            "open in the open range": await sim.create(va_body("a", channel="BNI", suffix="0049")),
            "closed in the closed range": await sim.create(
                va_body("b", channel="BNI", suffix="0050", amount=25_000)
            ),
            "open in the closed range": await sim.create(
                va_body("c", channel="BNI", suffix="0051")
            ),
            "closed in the open range": await sim.create(
                va_body("d", channel="BNI", suffix="0001", amount=25_000)
            ),
        }

    statuses = {label: answer.status_code for label, answer in answers.items()}
    assert statuses == {
        "open in the open range": 200,
        "closed in the closed range": 200,
        "open in the closed range": 400,
        "closed in the open range": 400,
    }
    assert problem(answers["open in the closed range"]) == (400, INVALID, VA_RANGE)
    assert problem(answers["closed in the open range"]) == (400, INVALID, VA_RANGE)


async def test_static_qris_are_limited() -> None:
    async with running_simulator(qris_limit=2) as sim:
        for reference in ("qr1", "qr2"):
            await sim.created(qr_body(reference))
        third = await sim.create(qr_body("qr3"))
        va = await sim.create(va_body())

    assert problem(third) == (400, INVALID, QRIS_LIMIT)
    assert va.status_code == 200


async def test_only_active_static_qris_count_against_the_limit() -> None:
    async with running_simulator(qris_limit=1) as sim:
        first = await sim.created(qr_body("qr1"))
        refused = await sim.create(qr_body("qr2"))
        # A session Pivot made INACTIVE frees its place.
        assert await sim.simulate(first["id"], 10_000, status="EXPIRED") == 200
        again = await sim.create(qr_body("qr2"))

    assert problem(refused) == (400, INVALID, QRIS_LIMIT)
    assert again.status_code == 200
