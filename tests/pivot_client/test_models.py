"""Pivot's samples read into the models and written back; money, time and enum rules."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from pivot_client import (
    CLOSED_STATIC_VA_LIFETIME,
    QR,
    Charge,
    ChargeStatus,
    CreatePaymentRequest,
    Money,
    PaymentMethodConfigs,
    PaymentMethodType,
    PaymentSession,
    SessionStatus,
)
from pivot_client._models import summarize_validation_error
from tests.pivot_client import load_fixture

ZERO_TIME = "0001-01-01T00:00:00Z"


def dump(model: BaseModel) -> Any:
    return model.model_dump(by_alias=True, exclude_unset=True, mode="json")


def test_the_seed_guide_request_is_expressible_by_the_request_model() -> None:
    seed = load_fixture("create_request_seed.json")

    request = CreatePaymentRequest.model_validate(seed)

    assert request.to_json() == seed
    assert request.payment_method_options is not None
    assert request.payment_method_options.virtual_account is not None
    assert request.payment_method_options.virtual_account.virtual_account_number == "00000001"


@pytest.mark.parametrize(
    "path",
    [
        ("extraField",),
        ("customer", "nickname"),
        ("orderInformation", "productDetails", 0, "colour"),
        ("paymentMethodOptions", "virtualAccount", "bank"),
    ],
)
def test_request_models_refuse_unknown_fields(path: tuple[str | int, ...]) -> None:
    body = load_fixture("create_request_seed.json")
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "x"

    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        CreatePaymentRequest.model_validate(body)


def test_request_refuses_a_non_alphanumeric_reference() -> None:
    body = load_fixture("create_request_seed.json")
    body["clientReferenceId"] = "kb-01"

    with pytest.raises(ValidationError, match="clientReferenceId"):
        CreatePaymentRequest.model_validate(body)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"autoConfirm": False}, "MULTIPLE needs autoConfirm true"),
        ({"metadata": {"note": "x" * 502}}, "metadata must be at most 512 characters"),
        ({"customer": {"email": "Bu Ani"}}, "customer.email"),
        ({"customer": {"email": "ani@toko"}}, "customer.email"),
        ({"customer": {"email": "ani @toko.id"}}, "customer.email"),
    ],
)
def test_request_refuses_what_pivot_refuses(change: dict[str, Any], why: str) -> None:
    body = load_fixture("create_request_seed.json") | change

    with pytest.raises(ValidationError, match=why):
        CreatePaymentRequest.model_validate(body)


def test_metadata_of_512_characters_fits() -> None:
    body = load_fixture("create_request_seed.json")
    body["metadata"] = {"note": "x" * 501}  # {"note":"…"} is 512 characters

    assert CreatePaymentRequest.model_validate(body).metadata == body["metadata"]


def test_a_single_session_may_wait_for_confirmation() -> None:
    body = load_fixture("create_request_seed.json") | {"paymentType": "SINGLE"}

    assert CreatePaymentRequest.model_validate(body | {"autoConfirm": False}).auto_confirm is False


def test_static_va_response_round_trips() -> None:
    sample = load_fixture("static_va_response.json")["data"]

    session = PaymentSession.model_validate(sample)

    assert session.id == "7c1b8f2e-52b4-4f0e-9d0a-3a9f1e6c2b71"
    assert session.client_reference_id == "1751610085"
    assert session.status is SessionStatus.ACTIVE
    assert session.amount == Money(value=0)
    assert session.payment_type == "MULTIPLE"
    assert session.payment_method is not None
    assert session.payment_method.type is PaymentMethodType.VIRTUAL_ACCOUNT
    va = session.payment_method.virtual_account
    assert va is not None
    assert (va.channel, va.virtual_account_number) == ("PERMATA", "7664000000000001")
    assert va.virtual_account_name == "Pivot - Reforza Pivot"
    assert va.expiry_at is None  # Go's zero time: no expiry
    assert session.charge_details == []
    assert session.metadata == {"invoiceNo": "INV001"}
    assert session.created_at == datetime(2025, 7, 4, 6, 21, 25, 618373, tzinfo=UTC)
    assert session.is_simulation is False
    expected = copy.deepcopy(sample)
    expected["paymentMethod"]["virtualAccount"]["expiryAt"] = None
    expected["chargeDetails"] = []
    assert dump(session) == expected


def test_static_qr_response_round_trips() -> None:
    sample = load_fixture("static_qr_response.json")["data"]

    session = PaymentSession.model_validate(sample)

    assert session.payment_method is not None
    assert session.payment_method.type is PaymentMethodType.QR
    qr = session.payment_method.qr
    assert isinstance(qr, QR)
    assert qr.qr_content is not None
    assert qr.qr_content.startswith("000201010211")  # "11" = static
    assert qr.merchant_name == "Pivot"
    assert qr.acquirer == "BNC"
    assert qr.qr_url is not None
    assert qr.qr_url.startswith("https://")
    assert qr.store_id == "000560139907"
    expected = copy.deepcopy(sample)
    expected["chargeDetails"] = []
    assert dump(session) == expected


def test_charge_list_round_trips_with_unknown_fields_kept() -> None:
    sample = load_fixture("charges_list.json")["data"]

    charges = TypeAdapter(list[Charge]).validate_python(sample)

    assert [c.status for c in charges] == [ChargeStatus.SUCCESS] * 4
    first = charges[0]
    assert first.id == "0197d4a5-8f21-7b3c-9e10-4c2a6f8d1e04"
    assert first.payment_session_id == "7c1b8f2e-52b4-4f0e-9d0a-3a9f1e6c2b71"
    assert first.payment_session_client_reference_id == "1751610085"
    assert first.amount == Money(value=10100, currency="IDR")
    assert first.paid_at == datetime(2025, 7, 4, 8, 15, 3, tzinfo=UTC)
    assert first.virtual_account is not None
    assert first.virtual_account.virtual_account_number == "7664000000000001"
    assert first.model_extra is not None
    assert first.model_extra["fdsRiskAssessment"]["recommendation"] == "Approve"
    assert [dump(c) for c in charges] == sample


def test_payment_method_configs_round_trip() -> None:
    sample = load_fixture("payment_method_configs.json")["data"]

    configs = PaymentMethodConfigs.model_validate(sample)

    va, qr = configs.virtual_account, configs.qr
    assert va is not None
    assert qr is not None
    assert va.enabled
    assert va.accepted_channels == [
        "BNI",
        "MANDIRI",
        "BSI",
        "BCA",
        "BNC",
        "CIMB",
        "BRI",
        "PERMATA",
    ]
    assert va.minimum_amount == Money(value=10_000)
    assert va.maximum_amount == Money(value=9_999_999_999)
    assert va.maximum_expiry == "30 DAYS"
    assert qr.accepted_channels == []
    assert qr.maximum_amount == Money(value=9_999_999)
    assert dump(configs) == sample


def test_payment_method_configs_tolerate_missing_methods_and_nulls() -> None:
    configs = PaymentMethodConfigs.model_validate(
        {"virtualAccount": {"enabled": True, "acceptedChannels": None}, "paylater": {}}
    )

    assert configs.qr is None
    assert configs.virtual_account is not None
    assert configs.virtual_account.accepted_channels == []


@pytest.mark.parametrize(
    "raw", [10000, 10000.0, "10000.00", "10000", " 10000 ", Decimal("10000.000"), "1e4"]
)
def test_money_reads_whole_rupiah_in_any_spelling(raw: object) -> None:
    money = Money.model_validate({"value": raw, "currency": "IDR"})

    assert money.value == 10000
    assert type(money.value) is int


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (10000.5, "whole number"),
        ("10000.01", "whole number"),
        ("abc", "decimal number"),
        ("NaN", "whole number"),
        ("Infinity", "whole number"),
        (float("inf"), "whole number"),
        ("1e400000", "at most 18 digits"),
        ("1e-400000", "whole number"),
        (1e308, "at most 18 digits"),
        (10**18, "at most 18 digits"),
        (-(10**18), "at most 18 digits"),
        ("1000000000000000000", "at most 18 digits"),
        (2**63 - 1000, "at most 18 digits"),
        ("1" * 5000, "at most 18 digits"),
        (True, "boolean"),
        (None, "integer"),
    ],
)
def test_money_refuses_what_is_not_whole_rupiah(raw: object, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        Money.model_validate({"value": raw})


@pytest.mark.parametrize("raw", [999_999_999_999_999_999, "999999999999999999.00", -25_000, 0])
def test_money_reads_up_to_eighteen_digits_of_any_sign(raw: object) -> None:
    # Pivot's field is 1-18 digits; whether such an amount is money is Charge.money_problem's.
    assert Money.model_validate({"value": raw}).value == int(str(raw).split(".")[0])


def test_money_defaults_to_idr_and_ignores_unknown_keys() -> None:
    money = Money.model_validate({"value": "2500", "precision": 2})

    assert money == Money(value=2500, currency="IDR")
    assert money.model_dump() == {"value": 2500, "currency": "IDR"}


def charge_with(**fields: object) -> Charge:
    base: dict[str, object] = {
        "id": "c1",
        "amount": {"value": 1000, "currency": "IDR"},
        "status": "SUCCESS",
    }
    return Charge.model_validate(base | fields)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-07-04T08:15:03Z", datetime(2025, 7, 4, 8, 15, 3, tzinfo=UTC)),
        ("2025-07-04T08:15:03.5Z", datetime(2025, 7, 4, 8, 15, 3, 500000, tzinfo=UTC)),
        ("2025-07-04T08:15:03.123456Z", datetime(2025, 7, 4, 8, 15, 3, 123456, tzinfo=UTC)),
        ("2025-07-04T08:15:03.1234567Z", datetime(2025, 7, 4, 8, 15, 3, 123456, tzinfo=UTC)),
        ("2025-07-04T08:15:03.123456789Z", datetime(2025, 7, 4, 8, 15, 3, 123456, tzinfo=UTC)),
        ("2025-07-04T15:15:03+07:00", datetime(2025, 7, 4, 8, 15, 3, tzinfo=UTC)),
        ("2025-07-04T08:15:03", datetime(2025, 7, 4, 8, 15, 3, tzinfo=UTC)),
        (ZERO_TIME, None),
        (None, None),
    ],
)
def test_timestamps_are_utc_and_go_zero_time_is_none(raw: str | None, expected: object) -> None:
    paid_at = charge_with(paidAt=raw).paid_at

    assert paid_at == expected
    if paid_at is not None:
        assert paid_at.tzinfo is UTC


def test_unknown_statuses_and_method_types_do_not_fail() -> None:
    session = PaymentSession.model_validate(
        {
            "id": "s1",
            "clientReferenceId": "ref1",
            "status": "SUSPENDED_BY_BANK",
            "paymentMethod": {"type": "PAYLATER"},
            "chargeDetails": [
                {"id": "c1", "amount": {"value": 1, "currency": "IDR"}, "status": "REVERSED"}
            ],
            "somethingNew": {"nested": [1, 2]},
        }
    )

    assert session.status is SessionStatus.UNKNOWN
    assert session.payment_method is not None
    assert session.payment_method.type is PaymentMethodType.UNKNOWN
    assert session.charge_details[0].status is ChargeStatus.UNKNOWN
    assert session.model_extra == {"somethingNew": {"nested": [1, 2]}}


def test_simulation_flag_comes_only_from_the_simulator_field() -> None:
    data = load_fixture("static_qr_response.json")["data"]

    assert PaymentSession.model_validate(data).is_simulation is False
    assert PaymentSession.model_validate(data | {"simulation": True}).is_simulation is True


def test_null_metadata_becomes_an_empty_dict() -> None:
    data = load_fixture("static_qr_response.json")["data"] | {"metadata": None}

    assert PaymentSession.model_validate(data).metadata == {}


def test_validation_summary_names_fields_but_never_echoes_input() -> None:
    with pytest.raises(ValidationError) as caught:
        Charge.model_validate(
            {"id": "c1", "amount": {"value": "secret-looking-12.5"}, "status": "SUCCESS"}
        )

    summary = summarize_validation_error(caught.value)

    assert summary.startswith("amount.value:")
    assert "secret-looking" not in summary


@pytest.mark.parametrize(
    ("amount", "method", "problem"),
    [
        ({"value": 25_000, "currency": "IDR"}, {}, None),
        ({"value": 1, "currency": "IDR"}, {}, None),
        ({"value": 9_999_999_999}, {}, None),
        ({"value": 9_999_999}, {"qr": {}}, None),
        ({"value": -25_000}, {}, "amount -25000 is not positive"),
        ({"value": 0}, {}, "amount 0 is not positive"),
        ({"value": 25_000, "currency": "USD"}, {}, "currency 'USD' is not IDR"),
        ({"value": 25_000, "currency": "idr"}, {}, "currency 'idr' is not IDR"),
        (
            {"value": 10**10},
            {},
            "amount 10000000000 is over Pivot's per-transaction limit of 9999999999",
        ),
        (
            {"value": 10**7},
            {"qr": {}},
            "amount 10000000 is over Pivot's per-transaction limit of 9999999",
        ),
    ],
)
def test_only_positive_idr_within_pivots_limits_is_money(
    amount: dict[str, object], method: dict[str, object], problem: str | None
) -> None:
    assert charge_with(amount=amount, **method).money_problem() == problem


def test_a_money_problem_never_echoes_a_long_currency() -> None:
    charge = charge_with(amount={"value": 1, "currency": "X" * 10_000})

    assert charge.money_problem() == "currency 'XXXXXXXX' is not IDR"


def _closed_va(session_expiry: str | None, va_expiry: str = ZERO_TIME) -> PaymentSession:
    sample = load_fixture("static_va_response.json")["data"]
    sample["amount"] = {"value": 10100, "currency": "IDR"}
    sample["expiryAt"] = session_expiry
    sample["paymentMethod"]["virtualAccount"]["expiryAt"] = va_expiry
    return PaymentSession.model_validate(sample)


def test_a_closed_static_va_is_valid_until_the_sessions_expiry() -> None:
    # Pivot's list sample: a real session expiryAt, the zero time in the VA block.
    session = _closed_va("2025-07-31T03:35:00Z")

    assert session.valid_until == datetime(2025, 7, 31, 3, 35, tzinfo=UTC)


def test_a_closed_static_va_falls_back_to_the_va_expiry_then_to_thirty_days() -> None:
    assert _closed_va(None, "2025-08-01T00:00:00Z").valid_until == datetime(2025, 8, 1, tzinfo=UTC)
    # No date anywhere: Pivot's limitation page says 30 days after it is made.
    created = datetime(2025, 7, 4, 6, 21, 25, 618373, tzinfo=UTC)
    assert _closed_va(None).valid_until == created + CLOSED_STATIC_VA_LIFETIME
    assert CLOSED_STATIC_VA_LIFETIME.days == 30


def test_open_static_vas_and_qris_never_expire() -> None:
    open_va = PaymentSession.model_validate(load_fixture("static_va_response.json")["data"])
    qris = PaymentSession.model_validate(load_fixture("static_qr_response.json")["data"])

    assert open_va.valid_until is None
    # A static QR's qr.expiryAt is about its creation time: it does not make the code expire.
    assert qris.payment_method is not None and qris.payment_method.qr is not None
    assert qris.payment_method.qr.expiry_at is not None
    assert qris.valid_until is None
