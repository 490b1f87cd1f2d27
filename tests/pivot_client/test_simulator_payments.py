"""The simulator over loopback HTTP: sessions, QRIS codes, payments, callbacks and controls."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from pivot_client import (
    CLOSED_STATIC_VA_LIFETIME,
    ChargeSuccessEvent,
    PaymentSession,
    parse_callback,
)
from pivot_client.qris import crc16_ccitt_false, parse_tlv
from pivot_client.simulator import DEFAULT_VA_PREFIXES
from tests.pivot_client.simulated import (
    CALLBACK_KEY,
    CallbackReceiver,
    RunningSimulator,
    problem,
    qr_body,
    running_simulator,
    va_body,
)
from tests.standins import decode_qr, wait_for


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator() as running:
        yield running


def outcomes(sim: RunningSimulator) -> list[tuple[int, int | None, str]]:
    return [(a.attempt, a.status_code, a.outcome) for a in sim.simulator.deliveries]


async def delivery_log_has(sim: RunningSimulator, count: int) -> None:
    await wait_for(
        lambda: len(sim.simulator.deliveries) >= count and sim.simulator.pending_deliveries == 0,
        timeout=5,
        what=f"{count} delivery attempt(s) and none pending",
    )


# Sessions


async def test_a_closed_va_keeps_its_amount_and_gets_the_full_number(
    sim: RunningSimulator,
) -> None:
    session = await sim.created(va_body(amount=50_000))

    assert session["amount"] == {"value": 50000, "currency": "IDR"}
    assert session["status"] == "ACTIVE"
    assert session["paymentType"] == "MULTIPLE"
    assert session["mode"] == "API"
    assert session["simulation"] is True
    assert session["chargeDetails"] is None
    account = session["paymentMethod"]["virtualAccount"]
    assert account["virtualAccountNumber"] == DEFAULT_VA_PREFIXES["BCA"] + "000001"
    assert len(account["virtualAccountNumber"]) == 16
    assert account["virtualAccountName"] == "SIMULASI - Toko Budi"
    assert account["expiryAt"] == "0001-01-01T00:00:00Z"
    assert session["metadata"] == {"tgUserId": "123"}
    assert session["statementDescriptor"] == "SIMULASI KODEBAYAR"


@pytest.mark.parametrize(("channel", "prefix"), sorted(DEFAULT_VA_PREFIXES.items()))
async def test_open_vas_of_every_bank(channel: str, prefix: str) -> None:
    digits = 16 - len(prefix)
    async with running_simulator() as sim:
        session = await sim.created(va_body(channel=channel, suffix="0" * (digits - 2) + "42"))

    assert session["amount"]["value"] == 0
    number = session["paymentMethod"]["virtualAccount"]["virtualAccountNumber"]
    assert number == prefix + "0" * (digits - 2) + "42"


async def test_sessions_can_be_read_back(sim: RunningSimulator) -> None:
    first = await sim.created(va_body("shop1"))
    await sim.created(qr_body("shop2"))

    by_id = await sim.call("GET", f"/v2/payments/{first['id']}")
    by_reference = await sim.call("GET", "/v2/payments", params={"clientReferenceId": "shop1"})
    everything = await sim.call("GET", "/v2/payments", params={"perPage": 1, "page": 2})
    missing = await sim.call("GET", "/v2/payments/no-such-session")

    assert by_id.json()["data"] == first
    assert [s["id"] for s in by_reference.json()["data"]] == [first["id"]]
    assert everything.json()["data"][0]["id"] == first["id"]  # newest first
    assert everything.json()["pagination"] == {
        "page": 2,
        "perPage": 1,
        "totalItems": 2,
        "totalPages": 2,
    }
    assert problem(missing)[:2] == (404, "resource_missing")


async def test_a_sessions_charges_come_a_page_at_a_time(sim: RunningSimulator) -> None:
    session = await sim.created(qr_body())
    charges = [sim.simulator.record_charge(session["id"], 1000, deliver=False) for _ in range(25)]
    newest_first = [charge.id for charge in reversed(charges)]

    first = (await sim.call("GET", f"/v2/payments/{session['id']}")).json()
    second = (await sim.call("GET", f"/v2/payments/{session['id']}", params={"page": 2})).json()
    whole = (
        await sim.call("GET", f"/v2/payments/{session['id']}", params={"perPage": 100})
    ).json()

    # 20 by default, as Pivot pages chargeDetails.
    assert [c["id"] for c in first["data"]["chargeDetails"]] == newest_first[:20]
    assert first["pagination"] == {"page": 1, "perPage": 20, "totalItems": 25, "totalPages": 2}
    assert [c["id"] for c in second["data"]["chargeDetails"]] == newest_first[20:]
    assert [c["id"] for c in whole["data"]["chargeDetails"]] == newest_first


@pytest.mark.parametrize(
    ("params", "field"),
    [({"perPage": 101}, "perPage"), ({"page": 0}, "page"), ({"page": "x"}, "page")],
)
@pytest.mark.parametrize("path", ["/v2/charges", "/v2/payments", "/v2/payments/any"])
async def test_paging_is_checked(
    sim: RunningSimulator, params: dict[str, Any], field: str, path: str
) -> None:
    response = await sim.call("GET", path, params=params)

    assert problem(response)[:2] == (400, "api_validation_error")
    assert response.json()["error"]["details"][0]["field"] == field


async def test_payment_method_configs(sim: RunningSimulator) -> None:
    data = (await sim.call("GET", "/v2/payment-method-configs")).json()["data"]

    assert data["virtualAccount"]["minimumAmount"]["value"] == 10000
    assert set(data["virtualAccount"]["acceptedChannels"]) == set(DEFAULT_VA_PREFIXES)
    assert data["qr"]["maximumAmount"]["value"] == 9999999


# QRIS


async def test_qris_content_is_a_valid_static_emvco_code(sim: RunningSimulator) -> None:
    session = await sim.created(qr_body())

    qr = session["paymentMethod"]["qr"]
    content = qr["qrContent"]
    tags = parse_tlv(content)
    assert tags["00"] == "01"
    assert tags["01"] == "11"  # static
    assert "54" not in tags  # no amount: the payer types it
    assert tags["53"] == "360"
    assert tags["58"] == "ID"
    assert "SIMULASI" in tags["59"]
    assert content.endswith("6304" + tags["63"])
    assert tags["63"] == f"{crc16_ccitt_false(content[:-4].encode()):04X}"
    assert parse_tlv(tags["26"])["02"] == qr["storeId"]
    assert "SIMULASI" in qr["merchantName"]
    # Two names, as in Pivot's static sample ("Pivot" here, "Pivot Pay 3" in tag 59).
    assert qr["merchantName"] != tags["59"]
    assert qr["qrType"] == "STATIC"
    assert session["amount"]["value"] == 0


async def test_qris_codes_are_unique_per_session(sim: RunningSimulator) -> None:
    sessions = [await sim.created(qr_body(f"qr{n}")) for n in range(5)]

    qrs = [s["paymentMethod"]["qr"] for s in sessions]
    assert len({qr["qrContent"] for qr in qrs}) == 5
    assert len({qr["storeId"] for qr in qrs}) == 5
    assert len({parse_tlv(qr["qrContent"])["51"] for qr in qrs}) == 5


async def test_qr_url_serves_the_code_as_a_png(sim: RunningSimulator) -> None:
    session = await sim.created(qr_body())
    qr = session["paymentMethod"]["qr"]

    assert qr["qrUrl"].startswith(sim.url)
    image = await sim.http.get(qr["qrUrl"])
    va = await sim.created(va_body())
    no_image = await sim.http.get(f"/_simulator/payments/{va['id']}/qr.png")

    assert image.headers["content-type"] == "image/png"
    assert decode_qr(image.content) == [qr["qrContent"]]
    assert problem(no_image)[:2] == (404, "resource_missing")


# Simulated payments and their callbacks


async def test_a_simulated_payment_records_a_charge_and_calls_back(sim: RunningSimulator) -> None:
    session = await sim.created(va_body())

    assert await sim.simulate(session["id"], 25_000) == 200
    await sim.delivered(1)

    [charge] = (await sim.call("GET", "/v2/charges", params={"clientReferenceId": "va1"})).json()[
        "data"
    ]
    assert charge["amount"] == {"value": 25000, "currency": "IDR"}
    assert charge["status"] == "SUCCESS"
    assert charge["paymentSessionId"] == session["id"]
    assert charge["virtualAccount"] == session["paymentMethod"]["virtualAccount"]
    stored = (await sim.call("GET", f"/v2/payments/{session['id']}")).json()["data"]
    assert [c["id"] for c in stored["chargeDetails"]] == [charge["id"]]
    [delivery] = sim.receiver.received
    assert delivery.headers["x-api-key"] == CALLBACK_KEY
    assert delivery.headers["content-type"] == "application/json"
    event = parse_callback(delivery.body)
    assert isinstance(event, ChargeSuccessEvent)
    assert event.session.id == session["id"]
    assert event.session.is_simulation
    assert [(c.id, c.amount.value) for c in event.charges] == [(charge["id"], 25000)]
    await delivery_log_has(sim, 1)
    assert outcomes(sim) == [(1, 200, "delivered")]


async def test_a_qris_payment_names_the_paying_app(sim: RunningSimulator) -> None:
    session = await sim.created(qr_body())

    assert await sim.simulate(session["id"], 15_000) == 200

    [charge] = sim.simulator.find_charges()
    details = charge.to_json()["qr"]
    assert details["issuerName"]
    assert details["retrievalReferenceNumber"].isdigit()


@pytest.mark.parametrize(
    ("amount", "status", "message"),
    [
        (None, 400, "Make sure amount value is fulfilled"),
        (49_999, 400, "must equal the closed Virtual Account's amount 50000"),
        (50_000, 200, "Success"),
    ],
)
async def test_a_closed_va_is_paid_its_amount_only(
    sim: RunningSimulator, amount: int | None, status: int, message: str
) -> None:
    session = await sim.created(va_body(amount=50_000))

    response = await sim.call(
        "POST",
        "/v2/payments/simulations",
        json={"paymentSessionId": session["id"], "chargeStatus": "SUCCESS"}
        | ({"amount": {"value": amount, "currency": "IDR"}} if amount else {}),
    )

    assert response.status_code == status
    said = problem(response)[2] if status != 200 else response.json()["message"]
    assert said.endswith(message)


async def test_simulation_amounts_respect_the_method_limits(sim: RunningSimulator) -> None:
    session = await sim.created(qr_body())

    response = await sim.call(
        "POST",
        "/v2/payments/simulations",
        json={
            "paymentSessionId": session["id"],
            "chargeStatus": "SUCCESS",
            "amount": {"value": 500, "currency": "IDR"},
        },
    )

    assert problem(response)[0] == 400
    assert "between 1000 and 9999999" in problem(response)[2]


async def test_an_expired_simulation_retires_the_session(sim: RunningSimulator) -> None:
    session = await sim.created(qr_body())

    assert await sim.simulate(session["id"], 10_000, status="EXPIRED") == 200
    again = await sim.call(
        "POST",
        "/v2/payments/simulations",
        json={
            "paymentSessionId": session["id"],
            "chargeStatus": "SUCCESS",
            "amount": {"value": 10_000, "currency": "IDR"},
        },
    )

    assert sim.simulator.sessions[session["id"]].status == "INACTIVE"
    assert problem(again)[0] == 422
    assert sim.receiver.received == []


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def test_only_a_closed_va_expires_thirty_days_after_it_is_made(
    sim: RunningSimulator,
) -> None:
    closed = await sim.created(va_body("closed", amount=50_000))
    open_va = await sim.created(va_body("open", suffix="000002"))
    qris = await sim.created(qr_body())

    # Pivot's limitation page: closed static 30 days, open static never.
    lifetime = _moment(closed["expiryAt"]) - _moment(closed["createdAt"])
    assert lifetime == CLOSED_STATIC_VA_LIFETIME
    assert closed["paymentMethod"]["virtualAccount"]["expiryAt"] == "0001-01-01T00:00:00Z"
    assert open_va["expiryAt"] is None
    assert qris["expiryAt"] is None
    # The client reads the date from the session.
    assert PaymentSession.model_validate(closed).valid_until == _moment(closed["expiryAt"])
    assert PaymentSession.model_validate(open_va).valid_until is None


async def test_an_expired_closed_va_is_inactive_and_takes_no_payment(
    sim: RunningSimulator,
) -> None:
    shortened = await sim.http.post("/_simulator/closed-va-lifetime", json={"seconds": 0.2})
    assert shortened.status_code == 200, shortened.text
    closed = await sim.created(va_body("closed", amount=50_000))
    open_va = await sim.created(va_body("open", suffix="000002"))
    assert closed["status"] == "ACTIVE"
    assert await sim.simulate(closed["id"], 50_000) == 200  # still valid

    async def inactive() -> bool:
        answer = await sim.call("GET", f"/v2/payments/{closed['id']}")
        return bool(answer.json()["data"]["status"] == "INACTIVE")

    await wait_for(inactive, timeout=5, what="the closed VA to expire")
    refused = await sim.call(
        "POST",
        "/v2/payments/simulations",
        json={
            "paymentSessionId": closed["id"],
            "chargeStatus": "SUCCESS",
            "amount": {"value": 50_000, "currency": "IDR"},
        },
    )

    assert refused.status_code == 422
    assert "INACTIVE" in refused.text
    assert len(sim.simulator.sessions[closed["id"]].charges) == 1
    listed = (await sim.call("GET", "/v2/payments", params={"clientReferenceId": "closed"})).json()
    assert [session["status"] for session in listed["data"]] == ["INACTIVE"]
    # An open VA made at the same time never expires.
    assert await sim.simulate(open_va["id"], 20_000) == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"seconds": 0},
        {"seconds": -1},
        {"seconds": "5"},
        {"seconds": True},
        {"seconds": 31 * 86400},
        [],
    ],
)
async def test_the_closed_va_lifetime_control_is_checked(
    sim: RunningSimulator, body: object
) -> None:
    response = await sim.http.post("/_simulator/closed-va-lifetime", json=body)

    assert problem(response)[:2] == (400, "api_validation_error")
    assert sim.simulator.closed_va_lifetime == CLOSED_STATIC_VA_LIFETIME


async def test_simulating_an_unknown_session_is_a_404(sim: RunningSimulator) -> None:
    assert await sim.simulate("no-such-session", 10_000) == 404


async def test_callbacks_are_retried_on_5xx_408_and_429() -> None:
    receiver = CallbackReceiver(answers=[503, 408, 429, 500, 200])
    async with running_simulator(receiver) as sim:
        session = await sim.created(qr_body())
        await sim.simulate(session["id"], 10_000)
        await delivery_log_has(sim, 5)

        assert outcomes(sim) == [
            (1, 503, "retrying"),
            (2, 408, "retrying"),
            (3, 429, "retrying"),
            (4, 500, "retrying"),
            (5, 200, "delivered"),
        ]
        assert len({d.body for d in receiver.received}) == 1
        assert all(d.headers["x-api-key"] == CALLBACK_KEY for d in receiver.received)


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_other_refusals_are_not_retried(status: int) -> None:
    async with running_simulator(CallbackReceiver(answers=[status])) as sim:
        session = await sim.created(qr_body())
        await sim.simulate(session["id"], 10_000)
        await delivery_log_has(sim, 1)

        assert outcomes(sim) == [(1, status, "rejected")]


async def test_after_the_last_retry_a_callback_needs_a_manual_retry() -> None:
    receiver = CallbackReceiver(answers=[503])
    async with running_simulator(receiver, callback_retry_delays=(0.01, 0.01)) as sim:
        session = await sim.created(qr_body())
        await sim.simulate(session["id"], 10_000)
        await delivery_log_has(sim, 3)

        assert outcomes(sim) == [
            (1, 503, "retrying"),
            (2, 503, "retrying"),
            (3, 503, "manual_retry_needed"),
        ]
        assert len(receiver.received) == 3


async def test_retries_wait_the_configured_delays() -> None:
    receiver = CallbackReceiver(answers=[503, 503, 200])
    async with running_simulator(receiver, callback_retry_delays=(0.2, 0.3)) as sim:
        session = await sim.created(qr_body())
        await sim.simulate(session["id"], 10_000)
        await delivery_log_has(sim, 3)

    first, second, third = sim.simulator.deliveries
    assert (second.at - first.at).total_seconds() >= 0.2
    assert (third.at - second.at).total_seconds() >= 0.3


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_an_unreachable_receiver_is_retried() -> None:
    async with running_simulator(
        callback_url=f"http://127.0.0.1:{closed_port()}/callback", callback_retry_delays=(0.01,)
    ) as sim:
        session = await sim.created(qr_body())
        await sim.simulate(session["id"], 10_000)
        await delivery_log_has(sim, 2)

        first, last = sim.simulator.deliveries
        assert (first.status_code, first.outcome) == (None, "retrying")
        assert first.error is not None
        assert first.error.startswith("ConnectError")
        assert last.outcome == "manual_retry_needed"


async def test_without_a_callback_url_callbacks_are_only_recorded() -> None:
    async with running_simulator(callback_url=None) as sim:
        session = await sim.created(qr_body())
        await sim.simulate(session["id"], 10_000)

        assert [(a.attempt, a.outcome) for a in sim.simulator.deliveries] == [(1, "not_sent")]
        assert sim.receiver.received == []


# Controls


async def test_a_charge_can_be_recorded_without_its_callback_then_redelivered(
    sim: RunningSimulator,
) -> None:
    session = await sim.created(va_body(amount=50_000))

    recorded = await sim.http.post(
        f"/_simulator/payments/{session['id']}/charges", json={"amount": 777, "deliver": False}
    )
    charge = recorded.json()["data"]

    # Any amount, even one a bank would refuse on a closed VA; nothing is sent.
    assert charge["amount"]["value"] == 777
    assert sim.simulator.pending_deliveries == 0
    assert sim.simulator.deliveries == []
    listed = await sim.call("GET", "/v2/charges", params={"clientReferenceId": "va1"})
    assert [c["id"] for c in listed.json()["data"]] == [charge["id"]]

    redelivered = await sim.http.post(f"/_simulator/charges/{charge['id']}/redeliver")
    await sim.delivered(1)

    assert redelivered.status_code == 200
    event = parse_callback(sim.receiver.received[0].body)
    assert isinstance(event, ChargeSuccessEvent)
    assert [c.id for c in event.charges] == [charge["id"]]


@pytest.mark.parametrize(
    ("details", "carried"),
    [("new", [2]), ("all", [2, 1, 0]), ("older", [1, 0]), ("none", [])],
)
async def test_a_charges_callback_can_take_any_event_name_and_charge_details(
    sim: RunningSimulator, details: str, carried: list[int]
) -> None:
    session = await sim.created(qr_body())
    made = []
    for amount in (1_000, 2_000):
        control = {"amount": amount, "deliver": False}
        made.append(
            (
                await sim.http.post(f"/_simulator/payments/{session['id']}/charges", json=control)
            ).json()["data"]["id"]
        )

    control = {"amount": 3_000, "event": "PAYMENT.PAID", "chargeDetails": details}
    answer = await sim.http.post(f"/_simulator/payments/{session['id']}/charges", json=control)
    made.append(answer.json()["data"]["id"])
    await sim.delivered(1)

    body = json.loads(sim.receiver.received[0].body)
    assert body["event"] == "PAYMENT.PAID"
    shown = body["data"]["chargeDetails"]
    # Go marshals an empty list as null.
    assert [c["id"] for c in shown or []] == [made[index] for index in carried]
    assert shown is None if not carried else isinstance(shown, list)


@pytest.mark.parametrize(
    ("control", "field"),
    [
        ({"amount": 1, "event": ""}, "event"),
        ({"amount": 1, "event": 7}, "event"),
        ({"amount": 1, "chargeDetails": "some"}, "chargeDetails"),
    ],
)
async def test_a_charge_control_with_a_bad_shape_is_refused(
    sim: RunningSimulator, control: dict[str, object], field: str
) -> None:
    session = await sim.created(qr_body())

    answer = await sim.http.post(f"/_simulator/payments/{session['id']}/charges", json=control)

    assert problem(answer)[:2] == (400, "api_validation_error")
    assert field in answer.json()["error"]["details"][0]["field"]
    assert sim.simulator.find_charges() == []


async def test_a_redelivery_repeats_the_first_body(sim: RunningSimulator) -> None:
    session = await sim.created(qr_body())
    await sim.simulate(session["id"], 10_000)
    await sim.delivered(1)
    [charge] = sim.simulator.find_charges()

    await sim.http.post(f"/_simulator/charges/{charge.id}/redeliver")
    await sim.delivered(2)

    first, second = sim.receiver.received
    assert first.body == second.body
    log = (await sim.http.get("/_simulator/callbacks")).json()["data"]
    assert [(entry["chargeId"], entry["attempt"]) for entry in log] == [(charge.id, 1)] * 2


async def test_redelivering_an_unknown_charge_is_a_404(sim: RunningSimulator) -> None:
    response = await sim.http.post("/_simulator/charges/nope/redeliver")

    assert problem(response)[:2] == (404, "resource_missing")


async def test_fail_next_answers_the_next_n_requests_with_an_error(sim: RunningSimulator) -> None:
    rule = {"method": "get", "path": "/v2/payment-method-configs", "count": 2, "status": 503}
    assert (await sim.http.post("/_simulator/fail-next", json=rule)).status_code == 200

    answers = [await sim.call("GET", "/v2/payment-method-configs") for _ in range(3)]

    assert [a.status_code for a in answers] == [503, 503, 200]
    assert problem(answers[0])[1] == "service_unavailable"
    assert answers[0].json()["error"]["traceId"]
    assert answers[0].headers["X-Pivot-Simulator"] == "true"


async def test_clear_failures_makes_pivot_answer_again(sim: RunningSimulator) -> None:
    rule = {"method": "GET", "path": "/v2/charges", "count": 1000, "status": 503}
    await sim.http.post("/_simulator/fail-next", json=rule)
    failing = await sim.call("GET", "/v2/charges")

    assert (await sim.http.post("/_simulator/clear-failures")).status_code == 200

    assert (failing.status_code, (await sim.call("GET", "/v2/charges")).status_code) == (503, 200)


async def test_fail_next_processed_loses_only_the_answer(sim: RunningSimulator) -> None:
    rule = {"method": "POST", "path": "/v2/payments", "status": 502, "processed": True}
    await sim.http.post("/_simulator/fail-next", json=rule)

    response = await sim.create(qr_body())

    assert response.status_code == 502
    assert len(sim.simulator.sessions) == 1


@pytest.mark.parametrize(
    "rule",
    [
        {"method": "GET"},
        {"method": "GET", "path": "v2/charges"},
        {"method": "GET", "path": "/v2/charges", "status": 200},
        {"method": "GET", "path": "/v2/charges", "count": 0},
        {"method": "GET", "path": "/v2/charges", "processed": "yes"},
    ],
)
async def test_fail_next_rules_are_checked(sim: RunningSimulator, rule: dict[str, Any]) -> None:
    response = await sim.http.post("/_simulator/fail-next", json=rule)

    assert problem(response)[:2] == (400, "api_validation_error")


async def test_reset_forgets_everything_but_tokens(sim: RunningSimulator) -> None:
    token = await sim.token()
    session = await sim.created(qr_body())
    await sim.simulate(session["id"], 10_000)
    await sim.delivered(1)

    await sim.http.post("/_simulator/reset")

    headers = {"Authorization": f"Bearer {token}"}
    listed = await sim.http.get("/v2/payments", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["data"] == []
    assert sim.simulator.charges == {}
    assert sim.simulator.deliveries == []


# Nobody may take it for Pivot


async def test_every_answer_says_it_comes_from_the_simulator(sim: RunningSimulator) -> None:
    session = await sim.created(qr_body())
    answers = [
        await sim.http.get("/"),
        await sim.http.get("/no/such/route"),
        await sim.http.get("/v2/payments"),  # 401
        await sim.call("GET", f"/v2/payments/{session['id']}"),
        await sim.http.get("/_simulator/callbacks"),
        await sim.http.post("/v1/access-token", content=b"not json"),
    ]

    assert [a.headers.get("X-Pivot-Simulator") for a in answers] == ["true"] * len(answers)
    assert answers[1].status_code == 404
    assert json.loads(answers[1].content)["code"] == "not_found"


async def test_the_index_page_says_what_it_is(sim: RunningSimulator) -> None:
    response = await sim.http.get("/")

    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert text.startswith("PIVOT PAYMENT SIMULATOR")
    assert "This is NOT Pivot Payment" in text
    assert "No money moves here" in text
    for route in ("POST /v1/access-token", "GET /v2/charges", "POST /_simulator/fail-next"):
        assert route in text
