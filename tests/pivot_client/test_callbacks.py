"""Callbacks: the X-API-Key check and reading the event into a typed object."""

from __future__ import annotations

import copy
import hmac
import json
import time
from typing import Any

import pytest
from pydantic import SecretStr

import pivot_client._callbacks as callbacks_module
from pivot_client import (
    CallbackError,
    ChargeStatus,
    ChargeSuccessEvent,
    PaymentCancelledEvent,
    PaymentPaidEvent,
    PaymentProcessingEvent,
    PaymentSuccessEvent,
    SessionEvent,
    SessionStatus,
    UnknownEvent,
    parse_callback,
    verify_callback_key,
)
from tests.pivot_client import load_fixture

KEY = "callback-key-0123456789"


def raw(body: Any) -> bytes:
    return json.dumps(body).encode()


def charge_success() -> dict[str, Any]:
    body: dict[str, Any] = load_fixture("callback_charge_success.json")
    return body


# verify_callback_key


def test_the_right_key_is_accepted() -> None:
    assert verify_callback_key(KEY, KEY) is True
    assert verify_callback_key(KEY, SecretStr(KEY)) is True


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("callback-key-0123456788", KEY),  # one character off
        ("callback-key", KEY),  # a prefix
        (KEY + "x", KEY),  # longer
        (KEY.upper(), KEY),
        (None, KEY),  # header missing
        ("", KEY),  # header empty
        ("", ""),  # nothing configured must not let an empty header through
        (None, ""),
        (KEY, ""),
        ("kunci-rahasia-é", "kunci-rahasia-e"),
    ],
)
def test_any_other_key_is_refused(header: str | None, expected: str) -> None:
    assert verify_callback_key(header, expected) is False


def test_the_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(callbacks_module.hmac, "compare_digest", spy)

    assert verify_callback_key(KEY, KEY) is True
    assert verify_callback_key("wrong", KEY) is False
    assert compared == [(KEY.encode(), KEY.encode()), (b"wrong", KEY.encode())]


# parse_callback


def test_charge_success_sample_gives_the_session_and_its_success_charges() -> None:
    event = parse_callback(raw(charge_success()))

    assert isinstance(event, ChargeSuccessEvent)
    assert event.name == "CHARGE.SUCCESS"
    assert event.session.id == "7c1b8f2e-52b4-4f0e-9d0a-3a9f1e6c2b71"
    assert event.session.client_reference_id == "1751610085"
    assert event.session.status is SessionStatus.ACTIVE
    assert event.session.metadata == {"invoiceNo": "INV001"}
    # The FAILED charge in between is left out; newest first, as sent.
    assert [(c.id, c.amount.value) for c in event.charges] == [
        ("0197d4a5-8f21-7b3c-9e10-4c2a6f8d1e04", 25000),
        ("0197d49a-02b3-7f18-a6d9-7e5c3b1f0d01", 10100),
    ]
    assert all(c.status is ChargeStatus.SUCCESS for c in event.charges)
    assert len(event.session.charge_details) == 3


def test_charge_success_without_charges_gives_an_empty_list() -> None:
    body = charge_success()
    body["data"]["chargeDetails"] = None

    event = parse_callback(raw(body))

    assert isinstance(event, ChargeSuccessEvent)
    assert event.charges == []


@pytest.mark.parametrize(
    ("name", "event_class"),
    [
        ("PAYMENT.PAID", PaymentPaidEvent),
        ("PAYMENT.SUCCESS", PaymentSuccessEvent),
        ("PAYMENT.PROCESSING", PaymentProcessingEvent),
        ("PAYMENT.CANCELLED", PaymentCancelledEvent),
    ],
)
def test_every_payment_event_gives_the_session_and_its_success_charges(
    name: str, event_class: type[object]
) -> None:
    body = charge_success() | {"event": name}

    event = parse_callback(raw(body))

    assert type(event) is event_class
    assert isinstance(event, SessionEvent)
    assert event.name == name
    assert event.session.id == body["data"]["id"]
    # Whatever the name, the SUCCESS charges inside are payments.
    assert [c.id for c in event.charges] == [
        "0197d4a5-8f21-7b3c-9e10-4c2a6f8d1e04",
        "0197d49a-02b3-7f18-a6d9-7e5c3b1f0d01",
    ]


@pytest.mark.parametrize(
    ("data", "kept"),
    [({"id": "x", "anything": [1]}, {"id": "x", "anything": [1]}), ("text", {}), (None, {})],
)
def test_unknown_events_are_explicit(data: object, kept: dict[str, object]) -> None:
    event = parse_callback(raw({"event": "PAYMENT.EXPIRED", "data": data}))

    assert event == UnknownEvent(name="PAYMENT.EXPIRED", data=kept)


def test_unknown_event_data_is_not_validated() -> None:
    event = parse_callback(raw({"event": "REFUND.SUCCESS", "data": {"amount": "not money"}}))

    assert isinstance(event, UnknownEvent)
    assert (event.session_id, event.client_reference_id) == (None, None)


def test_an_unknown_event_names_the_session_its_data_names() -> None:
    body = charge_success() | {"event": "PAYMENT.EXPIRED"}

    event = parse_callback(raw(body))

    assert isinstance(event, UnknownEvent)
    assert event.session_id == "7c1b8f2e-52b4-4f0e-9d0a-3a9f1e6c2b71"
    assert event.client_reference_id == "1751610085"


def test_an_unreadable_session_still_says_which_session_it_named() -> None:
    body = charge_success()
    body["data"]["chargeDetails"][0]["amount"]["value"] = 10.5

    with pytest.raises(CallbackError) as caught:
        parse_callback(raw(body))

    assert "whole number" in str(caught.value)
    assert caught.value.session_id == "7c1b8f2e-52b4-4f0e-9d0a-3a9f1e6c2b71"
    assert caught.value.client_reference_id == "1751610085"


@pytest.mark.parametrize("cut", [0, 10, 60, 200, 400, -1])
def test_a_truncated_body_is_never_an_event_but_names_its_session_when_it_got_that_far(
    cut: int,
) -> None:
    whole = raw(charge_success())
    start = whole[:cut] if cut >= 0 else whole  # even a complete one, if told it is cut

    with pytest.raises(CallbackError, match="over the size limit") as caught:
        parse_callback(start, truncated=True)

    session = "7c1b8f2e-52b4-4f0e-9d0a-3a9f1e6c2b71"
    named = f'"id": "{session}"'.encode() in start  # a string cut short names nothing
    assert caught.value.session_id == (session if named else None)


def with_first_amount(value: str) -> bytes:
    """The sample body with its first charge's amount value spelled ``value`` verbatim."""
    body = charge_success()
    body["data"]["chargeDetails"][0]["amount"]["value"] = "@AMOUNT@"
    return raw(body).replace(b'"@AMOUNT@"', value.encode())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # Each of these froze or broke the process once: the stdlib parser recursed, and an
        # amount became a number of hundreds of thousands of digits before any check.
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"event": "CHARGE.SUCCESS", "data": ' + b"[" * 100_000, "not valid JSON"),
        (with_first_amount('"1e1000000"'), "at most 18 digits"),
        (with_first_amount('"-1e1000000"'), "at most 18 digits"),
        (with_first_amount("1e1000000"), "whole number"),  # a float literal: inf
        (with_first_amount("1e308"), "at most 18 digits"),
        (with_first_amount("1" * 500_000), "not valid JSON"),
        (with_first_amount('"' + "1" * 500_000 + '"'), "at most 18 digits"),
        (with_first_amount("0." + "1" * 500_000), "whole number"),
        (with_first_amount(str(2**63 - 1000)), "at most 18 digits"),
    ],
)
def test_hostile_bodies_are_refused_in_linear_time(body: bytes, reason: str) -> None:
    started = time.process_time()

    with pytest.raises(CallbackError, match=reason):
        parse_callback(body)

    # Linear work on at most 200 kB takes milliseconds; the old parsing took 5 s to 38 s of CPU.
    assert time.process_time() - started < 1.0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not valid JSON"),
        (b"NaN", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[1, 2]", "JSON list, not an object"),
        (b'"CHARGE.SUCCESS"', "JSON str, not an object"),
        (b"null", "JSON NoneType, not an object"),
        (b'{"data": {}}', "no 'event' name"),
        (b'{"event": "  ", "data": {}}', "no 'event' name"),
        (b'{"event": 7, "data": {}}', "no 'event' name"),
        (b'{"event": "CHARGE.SUCCESS"}', "CHARGE.SUCCESS data is not a payment session"),
        (b'{"event": "PAYMENT.PAID", "data": {"id": "s"}}', "PAYMENT.PAID data is not"),
    ],
)
def test_malformed_bodies_raise_callback_error(body: bytes, reason: str) -> None:
    with pytest.raises(CallbackError, match=reason):
        parse_callback(body)


def test_a_callback_error_names_the_field_but_not_the_content() -> None:
    body = charge_success()
    broken = copy.deepcopy(body)
    broken["data"]["chargeDetails"][0]["amount"]["value"] = "budi@example.com 0812"

    with pytest.raises(CallbackError) as caught:
        parse_callback(raw(broken))

    assert "chargeDetails.0.amount.value" in str(caught.value)
    assert "budi@example.com" not in str(caught.value)
