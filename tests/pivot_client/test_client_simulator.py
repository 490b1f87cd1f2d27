"""PivotClient against the simulator over loopback HTTP: the whole static-payment cycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pivot_client import (
    ChargeStatus,
    ChargeSuccessEvent,
    Customer,
    IdempotencyConflictError,
    NotFoundError,
    PaymentMethodType,
    PivotClient,
    QRISAmountNotAllowedError,
    SessionStatus,
    StaticQRISLimitError,
    VANumberAlreadyAssignedError,
    VANumberOutOfRangeError,
    parse_callback,
    request_id_for,
    verify_callback_key,
)
from pivot_client._exceptions import status_error
from pivot_client.qris import parse_tlv
from pivot_client.simulator import DEFAULT_VA_PREFIXES
from tests.pivot_client.fakes import SleepRecorder
from tests.pivot_client.simulated import (
    CALLBACK_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    RunningSimulator,
    qr_body,
    running_simulator,
)


class Connected:
    """A PivotClient wired to a running simulator, recording what it sends."""

    def __init__(self, sim: RunningSimulator, http: httpx.AsyncClient) -> None:
        self.sim = sim
        self.sent: list[httpx.Request] = []
        self.sleeps = SleepRecorder()
        self.client = PivotClient(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=sim.url, http_client=http
        )
        self.client._sleep = self.sleeps

    async def record(self, request: httpx.Request) -> None:
        """httpx request hook."""
        self.sent.append(request)

    def sent_to(self, method: str, path: str) -> list[httpx.Request]:
        """What the client sent to ``method path``."""
        return [r for r in self.sent if (r.method, r.url.path) == (method, path)]


@pytest.fixture
def config() -> dict[str, Any]:
    """Simulator settings a test can override before the simulator starts."""
    return {}


@pytest.fixture
async def pivot(config: dict[str, Any]) -> AsyncIterator[Connected]:
    async with running_simulator(**config) as sim:
        http = httpx.AsyncClient(trust_env=False)
        connected = Connected(sim, http)
        http.event_hooks["request"].append(connected.record)
        async with http:
            yield connected


async def closed_bca(
    client: PivotClient, reference: str = "kbbca1", suffix: str = "000001"
) -> Any:
    return await client.create_static_payment(
        client_reference_id=reference,
        method="VIRTUAL_ACCOUNT",
        amount=50_000,
        channel="BCA",
        virtual_account_number=suffix,
        virtual_account_name="Toko Budi",
        customer=Customer(email="budi@example.com"),
        metadata={"tgUserId": "7"},
    )


async def test_create_a_closed_va(pivot: Connected) -> None:
    session = await closed_bca(pivot.client)

    assert session.status is SessionStatus.ACTIVE
    assert session.is_simulation
    assert session.payment_type == "MULTIPLE"
    assert session.amount is not None
    assert session.amount.value == 50_000
    assert session.metadata == {"tgUserId": "7"}
    assert session.payment_method is not None
    assert session.payment_method.type is PaymentMethodType.VIRTUAL_ACCOUNT
    account = session.payment_method.virtual_account
    assert account is not None
    assert account.virtual_account_number == DEFAULT_VA_PREFIXES["BCA"] + "000001"
    assert account.virtual_account_name == "SIMULASI - Toko Budi"
    assert account.expiry_at is None  # Go's zero time: never expires


async def test_create_an_open_va(pivot: Connected) -> None:
    session = await pivot.client.create_static_payment(
        client_reference_id="kbbri1",
        method="VIRTUAL_ACCOUNT",
        channel="BRI",
        virtual_account_number="0000042",
    )

    assert session.amount is not None
    assert session.amount.value == 0
    assert session.payment_method is not None
    assert session.payment_method.virtual_account is not None
    assert session.payment_method.virtual_account.virtual_account_number.endswith("0000042")


async def test_create_a_qris(pivot: Connected) -> None:
    session = await pivot.client.create_static_payment(client_reference_id="kbqr1", method="QR")

    assert session.payment_method is not None
    qr = session.payment_method.qr
    assert qr is not None
    assert qr.qr_content is not None
    assert parse_tlv(qr.qr_content)["01"] == "11"
    assert qr.merchant_name is not None
    assert "SIMULASI" in qr.merchant_name


async def test_read_sessions_pay_one_and_see_the_charge_and_its_callback(
    pivot: Connected,
) -> None:
    created = await closed_bca(pivot.client)

    fetched = await pivot.client.get_payment(created.id)
    found = await pivot.client.find_payments("kbbca1")
    assert fetched.id == created.id
    assert [s.id for s in found] == [created.id]
    assert await pivot.client.list_charges("kbbca1") == []

    await pivot.client.simulate_payment(created.id, 50_000)

    [charge] = await pivot.client.list_charges("kbbca1")
    assert charge.status is ChargeStatus.SUCCESS
    assert charge.amount.value == 50_000
    assert charge.payment_session_id == created.id
    assert charge.paid_at is not None
    await pivot.sim.delivered(1)
    [delivery] = pivot.sim.receiver.received
    assert verify_callback_key(delivery.headers.get("x-api-key"), CALLBACK_KEY)
    event = parse_callback(delivery.body)
    assert isinstance(event, ChargeSuccessEvent)
    assert [c.id for c in event.charges] == [charge.id]
    assert (await pivot.client.get_payment(created.id)).charge_details[0].id == charge.id


async def test_list_charges_walks_the_simulators_pages(pivot: Connected) -> None:
    session = await pivot.client.create_static_payment(client_reference_id="kbmany", method="QR")
    recorded = [
        pivot.sim.simulator.record_charge(session.id, 1000 + n, deliver=False) for n in range(150)
    ]

    charges = await pivot.client.list_charges("kbmany")

    assert [c.id for c in charges] == [c.id for c in reversed(recorded)]  # newest first
    assert [r.url.params["page"] for r in pivot.sent_to("GET", "/v2/charges")] == ["1", "2"]


async def test_get_payment_reads_every_page_of_a_sessions_charges(pivot: Connected) -> None:
    session = await pivot.client.create_static_payment(client_reference_id="kbpaged", method="QR")
    recorded = [
        pivot.sim.simulator.record_charge(session.id, 1000 + n, deliver=False) for n in range(130)
    ]

    read = await pivot.client.get_payment(session.id)

    assert [c.id for c in read.charge_details] == [c.id for c in reversed(recorded)]
    assert [r.url.params["page"] for r in pivot.sent_to("GET", f"/v2/payments/{session.id}")] == [
        "1",
        "2",
    ]


async def test_one_page_of_the_merchants_charges_reports_many_sessions(pivot: Connected) -> None:
    first = await pivot.client.create_static_payment(client_reference_id="kbpage1", method="QR")
    second = await pivot.client.create_static_payment(client_reference_id="kbpage2", method="QR")
    recorded = [
        pivot.sim.simulator.record_charge(session.id, 1000 + n, deliver=False)
        for n in range(30)
        for session in (first, second)
    ]

    newest = await pivot.client.list_charges_page(per_page=50)
    older = await pivot.client.list_charges_page(page=2, per_page=50)
    own = await pivot.client.list_charges_page("kbpage1", per_page=50)

    assert [c.id for c in newest.items + older.items] == [c.id for c in reversed(recorded)]
    assert (newest.last, older.last, own.last) == (False, True, True)
    assert {c.payment_session_id for c in own.items} == {first.id}
    assert len(own.items) == 30
    [request] = pivot.sent_to("GET", "/v2/charges")[-1:]
    assert dict(request.url.params) == {
        "clientReferenceId": "kbpage1",
        "page": "1",
        "perPage": "50",
    }
    with pytest.raises(ValueError, match="per_page"):
        await pivot.client.list_charges_page(per_page=101)


async def test_a_lost_answer_is_retried_with_the_same_key_into_one_session(
    pivot: Connected,
) -> None:
    pivot.sim.simulator.fail_next("POST", "/v2/payments", status=503, processed=True)

    session = await closed_bca(pivot.client)

    attempts = pivot.sent_to("POST", "/v2/payments")
    assert len(attempts) == 2
    assert {r.headers["X-REQUEST-ID"] for r in attempts} == {request_id_for("kbbca1")}
    assert len(pivot.sleeps.delays) == 1
    assert list(pivot.sim.simulator.sessions) == [session.id]


async def test_an_expired_token_is_replaced_once(pivot: Connected) -> None:
    await pivot.client.payment_method_configs()
    # The simulator's clock runs ahead of the client's: its token dies early.
    pivot.sim.clock.advance(901)

    configs = await pivot.client.payment_method_configs()

    assert configs.virtual_account is not None
    assert len(pivot.sent_to("POST", "/v1/access-token")) == 2
    assert len(pivot.sent_to("GET", "/v2/payment-method-configs")) == 3


async def test_a_taken_va_number_is_its_own_error(pivot: Connected) -> None:
    await closed_bca(pivot.client, "kbfirst")

    with pytest.raises(VANumberAlreadyAssignedError) as caught:
        await closed_bca(pivot.client, "kbsecond")

    assert caught.value.trace_id
    assert caught.value.details[0].field == (
        "paymentMethodOptions.virtualAccount.virtualAccountNumber"
    )
    assert len(pivot.sent_to("POST", "/v2/payments")) == 2  # never retried


async def test_a_va_number_out_of_range_is_its_own_error(pivot: Connected) -> None:
    with pytest.raises(VANumberOutOfRangeError):
        await closed_bca(pivot.client, suffix="000100")


@pytest.mark.parametrize("config", [{"qris_limit": 1}])
async def test_the_qris_limit_is_its_own_error(pivot: Connected) -> None:
    await pivot.client.create_static_payment(client_reference_id="kbqr1", method="QR")

    with pytest.raises(StaticQRISLimitError):
        await pivot.client.create_static_payment(client_reference_id="kbqr2", method="QR")


async def test_a_qris_amount_is_refused_by_the_client_and_by_the_simulator(
    pivot: Connected,
) -> None:
    with pytest.raises(QRISAmountNotAllowedError):
        await pivot.client.create_static_payment(
            client_reference_id="kbqr1", method="QR", amount=10_000
        )
    assert pivot.sent == []

    body = qr_body() | {"amount": {"value": 10_000, "currency": "IDR"}}
    response = await pivot.sim.create(body)
    raised = status_error(response.status_code, response.json(), method="POST", path="/")

    assert type(raised) is QRISAmountNotAllowedError


async def test_a_reference_reused_with_another_body_is_an_idempotency_conflict(
    pivot: Connected,
) -> None:
    await closed_bca(pivot.client, "kbsame", suffix="000001")

    with pytest.raises(IdempotencyConflictError) as caught:
        await closed_bca(pivot.client, "kbsame", suffix="000002")

    assert caught.value.status_code == 409
    assert caught.value.code == "idempotency_error"


async def test_the_same_call_repeated_returns_the_same_session(pivot: Connected) -> None:
    first = await closed_bca(pivot.client)
    again = await closed_bca(pivot.client)

    assert again.id == first.id
    assert len(pivot.sim.simulator.sessions) == 1


async def test_an_unknown_session_is_not_found(pivot: Connected) -> None:
    with pytest.raises(NotFoundError) as caught:
        await pivot.client.get_payment("no-such-session")

    assert caught.value.code == "resource_missing"
    assert caught.value.trace_id


async def test_payment_method_configs_are_typed(pivot: Connected) -> None:
    configs = await pivot.client.payment_method_configs()

    assert configs.virtual_account is not None
    assert configs.virtual_account.minimum_amount is not None
    assert configs.virtual_account.minimum_amount.value == 10_000
    assert "BCA" in configs.virtual_account.accepted_channels
    assert configs.qr is not None
    assert configs.qr.enabled
