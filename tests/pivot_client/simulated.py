"""The Pivot simulator on loopback for tests, a callback receiver, and raw Pivot requests."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pivot_client import request_id_for
from pivot_client.simulator import Simulator, SimulatorConfig, create_app
from tests.standins import FakeClock, LoopbackServer, wait_for

CALLBACK_KEY = "sim-callback-key-for-tests"
CLIENT_ID = "sim-client-id"
CLIENT_SECRET = "sim-client-secret"
FAST_RETRIES = (0.01,) * 6  # Pivot's six retries, in milliseconds instead of hours


@dataclass(frozen=True, slots=True)
class Delivery:
    """One callback as the receiver got it."""

    headers: dict[str, str]
    body: bytes


@dataclass
class CallbackReceiver:
    """A tiny Starlette app standing in for the bot's callback route.

    It answers the statuses in ``answers`` in turn (the last one repeating) and records every
    request it got.
    """

    answers: list[int] = field(default_factory=lambda: [200])
    received: list[Delivery] = field(default_factory=list)

    def app(self) -> Starlette:
        """The receiver's ASGI app."""

        async def callback(request: Request) -> Response:
            self.received.append(Delivery(dict(request.headers), await request.body()))
            status = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            return Response(status_code=status)

        return Starlette(routes=[Route("/callback", callback, methods=["POST"])])


@dataclass
class RunningSimulator:
    """A simulator served on loopback, with a raw HTTP client pointed at it."""

    url: str
    simulator: Simulator
    receiver: CallbackReceiver
    clock: FakeClock
    http: httpx.AsyncClient

    async def token(self) -> str:
        """A fresh access token."""
        response = await self.http.post(
            "/v1/access-token",
            json={"grantType": "client_credentials"},
            headers={"X-MERCHANT-ID": CLIENT_ID, "X-MERCHANT-SECRET": CLIENT_SECRET},
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["data"]["accessToken"]
        return token

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A request with a fresh bearer token (unless ``headers`` set Authorization)."""
        sent = {"Authorization": f"Bearer {await self.token()}", **(headers or {})}
        return await self.http.request(method, path, json=json, params=params, headers=sent)

    async def create(self, body: dict[str, Any], request_id: str | None = None) -> httpx.Response:
        """``POST /v2/payments``; the request id defaults to the client's, from the reference."""
        key = request_id or request_id_for(str(body.get("clientReferenceId") or "none"))
        return await self.call("POST", "/v2/payments", json=body, headers={"X-REQUEST-ID": key})

    async def created(self, body: dict[str, Any]) -> dict[str, Any]:
        """The session of a ``POST /v2/payments`` that must succeed."""
        response = await self.create(body)
        assert response.status_code == 200, response.text
        session: dict[str, Any] = response.json()["data"]
        return session

    async def simulate(self, session_id: str, amount: int | None, status: str = "SUCCESS") -> int:
        """``POST /v2/payments/simulations``; the HTTP status."""
        body: dict[str, Any] = {"paymentSessionId": session_id, "chargeStatus": status}
        if amount is not None:
            body["amount"] = {"value": amount, "currency": "IDR"}
        response = await self.call("POST", "/v2/payments/simulations", json=body)
        return response.status_code

    async def delivered(self, count: int) -> None:
        """Wait until the receiver has got ``count`` callbacks."""
        await wait_for(
            lambda: len(self.receiver.received) >= count, timeout=5, what=f"{count} callback(s)"
        )


@contextlib.asynccontextmanager
async def running_simulator(
    receiver: CallbackReceiver | None = None, **config: Any
) -> AsyncIterator[RunningSimulator]:
    """Serve a simulator (and its callback receiver) on loopback for the block.

    ``config`` overrides the ``SimulatorConfig`` defaults used here: the test credentials, a
    fake clock, and callback retries shortened to milliseconds.
    """
    receiver = receiver or CallbackReceiver()
    clock = FakeClock()
    callback_server = LoopbackServer(receiver.app())
    settings = SimulatorConfig(
        callback_url=f"{callback_server.url}/callback",
        callback_key=CALLBACK_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        callback_retry_delays=FAST_RETRIES,
        clock=clock,
    )
    app = create_app(dataclasses.replace(settings, **config))
    server = LoopbackServer(app)
    await asyncio.gather(callback_server.start(), server.start())
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
            yield RunningSimulator(server.url, app.state.simulator, receiver, clock, http)
    finally:
        # Side by side: each stop waits for uvicorn's next tick.
        await asyncio.gather(server.stop(), callback_server.stop())


REDIRECT = {
    "successReturnUrl": "https://example.com/s",
    "failureReturnUrl": "https://example.com/f",
    "expirationReturnUrl": "https://example.com/e",
}


def va_body(
    reference: str = "va1",
    *,
    channel: str = "BCA",
    suffix: str = "000001",
    amount: int | None = None,
) -> dict[str, Any]:
    """A raw static VA request, as Pivot documents it (closed when ``amount`` is given)."""
    body: dict[str, Any] = {
        "clientReferenceId": reference,
        "paymentType": "MULTIPLE",
        "paymentMethod": {"type": "VIRTUAL_ACCOUNT"},
        "paymentMethodOptions": {
            "virtualAccount": {
                "channel": channel,
                "virtualAccountName": "Toko Budi",
                "virtualAccountNumber": suffix,
            }
        },
        "mode": "API",
        "redirectUrl": copy.deepcopy(REDIRECT),
        "customer": {"givenName": "Budi", "email": "budi@example.com"},
        "orderInformation": {
            "productDetails": [
                {
                    "type": "DIGITAL",
                    "name": "Top up",
                    "quantity": 1,
                    "price": {"value": 10000, "currency": "IDR"},
                }
            ]
        },
        "autoConfirm": True,
        "metadata": {"tgUserId": "123"},
    }
    if amount is not None:
        body["amount"] = {"value": amount, "currency": "IDR"}
    return body


def qr_body(reference: str = "qr1") -> dict[str, Any]:
    """A raw static QRIS request: no amount, no payment method options."""
    body = va_body(reference)
    body["paymentMethod"] = {"type": "QR"}
    del body["paymentMethodOptions"]
    return body


def problem(response: httpx.Response) -> tuple[int, str, str]:
    """Status, Pivot error code and specific message of an error answer.

    The specific message is the first ``error.details[].message``: a 400 carries a generic
    top-level message, as Pivot's do. Without details it is the top-level message.
    """
    body = response.json()
    details = body.get("error", {}).get("details") or [{"message": body["message"]}]
    return response.status_code, body["code"], details[0]["message"]
