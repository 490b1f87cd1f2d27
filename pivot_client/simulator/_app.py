"""The simulator's Starlette app: Pivot's routes, the control routes and the index page."""

from __future__ import annotations

import functools
import io
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Protocol

import qrcode
import qrcode.image.pil
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from pivot_client._constants import CLOSED_STATIC_VA_LIFETIME
from pivot_client.simulator._config import SimulatorConfig
from pivot_client.simulator._middleware import CONTROL_PREFIX, SimulatorMiddleware
from pivot_client.simulator._responses import PivotError, error_response, paginate, success
from pivot_client.simulator._simulator import Simulator
from pivot_client.simulator._validation import (
    check_grant,
    parse_charge_control,
    parse_fail_rule,
    parse_page,
    parse_request_id,
)

__all__ = ["create_app"]

Endpoint = Callable[[Request], Awaitable[Response]]

_INDEX = """\
PIVOT PAYMENT SIMULATOR (Kodebayar)

This is NOT Pivot Payment. It is a local simulator for trying and testing Kodebayar.
No money moves here: every code it issues is a simulation, its VA names and QRIS merchant
name say SIMULASI, and nothing it returns can be paid from a real bank or e-wallet.

Routes:
"""


def _simulator(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


async def _json_body(request: Request) -> object:
    try:
        body: object = json.loads(await request.body())
    except ValueError:
        raise PivotError.invalid("body", "Request body must be valid JSON") from None
    return body


def _authenticated(endpoint: Endpoint) -> Endpoint:
    """Let the request through only with a valid bearer token, as every Pivot route but one."""

    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        _simulator(request).check_token(request.headers.get("Authorization"))
        return await endpoint(request)

    return checked


async def access_token(request: Request) -> Response:
    """``POST /v1/access-token``: client credentials in headers, a bearer token out."""
    simulator = _simulator(request)
    check_grant(await _json_body(request))
    token = simulator.issue_token(
        request.headers.get("X-MERCHANT-ID"), request.headers.get("X-MERCHANT-SECRET")
    )
    # A string, as Pivot sends it; rounded down so a client never trusts a token too long.
    lifetime = str(int(simulator.config.token_lifetime))
    return success({"accessToken": token, "expiresIn": lifetime, "tokenType": "Bearer"})


@_authenticated
async def create_payment(request: Request) -> Response:
    """``POST /v2/payments``: a static VA or QRIS session, idempotent on ``X-REQUEST-ID``."""
    simulator = _simulator(request)
    request_id = parse_request_id(request.headers.get("X-REQUEST-ID"))
    payload = await _json_body(request)
    answer = simulator.replay(request_id, payload)
    if answer is not None:
        return Response(answer.body, answer.status, media_type="application/json")
    session = simulator.create_payment(payload, base_url=str(request.base_url))
    response = success(session.to_json())
    # Only a created session is remembered: whether Pivot also keeps a key whose request
    # failed is undocumented, and forgetting it lets a corrected retry through.
    simulator.remember(request_id, payload, response.status_code, bytes(response.body))
    return response


@_authenticated
async def get_payment(request: Request) -> Response:
    """``GET /v2/payments/{id}?page=&perPage=``: the session with one page of its charges."""
    page, per_page = parse_page(request.query_params)
    session = _simulator(request).get_payment(request.path_params["id"])
    charges, pagination = paginate(session.charges, page, per_page)
    return success(session.to_json(charges), pagination=pagination)


class _Listed(Protocol):
    """A session or a charge: anything a list route shows."""

    def to_json(self) -> dict[str, Any]: ...


def _one_page(request: Request, find: Callable[[str | None], Sequence[_Listed]]) -> Response:
    """One page of what ``find`` gives for the request's ``clientReferenceId`` (if any)."""
    page, per_page = parse_page(request.query_params)
    found = find(request.query_params.get("clientReferenceId"))
    shown, pagination = paginate(found, page, per_page)
    return success([item.to_json() for item in shown], pagination=pagination)


@_authenticated
async def list_payments(request: Request) -> Response:
    """``GET /v2/payments?clientReferenceId=&page=&perPage=``, newest first."""
    return _one_page(request, _simulator(request).find_payments)


@_authenticated
async def list_charges(request: Request) -> Response:
    """``GET /v2/charges?clientReferenceId=&page=&perPage=``, newest first."""
    return _one_page(request, _simulator(request).find_charges)


@_authenticated
async def payment_method_configs(request: Request) -> Response:
    """``GET /v2/payment-method-configs``."""
    return success(_simulator(request).config.method_configs())


@_authenticated
async def simulate_payment(request: Request) -> Response:
    """``POST /v2/payments/simulations``: a payment into a session, or its expiry."""
    _simulator(request).simulate(await _json_body(request))
    return success({"updated": "true"})


async def record_charge(request: Request) -> Response:
    """``POST /_simulator/payments/{id}/charges``: a SUCCESS charge and its callback's shape.

    ``{"amount": int, "deliver": bool, "event": str, "chargeDetails": "new"|"all"|"older"|"none"}``
    """
    control = parse_charge_control(await _json_body(request))
    charge = _simulator(request).record_charge(
        request.path_params["id"],
        control.amount,
        deliver=control.deliver,
        event=control.event,
        charge_details=control.charge_details,
    )
    return success(charge.to_json())


async def redeliver(request: Request) -> Response:
    """``POST /_simulator/charges/{charge_id}/redeliver``."""
    _simulator(request).redeliver(request.path_params["charge_id"])
    return success({"chargeId": request.path_params["charge_id"], "redelivering": True})


async def fail_next(request: Request) -> Response:
    """``POST /_simulator/fail-next`` ``{"method", "path", "count", "status", "processed"}``."""
    rule = parse_fail_rule(await _json_body(request))
    _simulator(request).fail_next(
        rule.method, rule.path, count=rule.remaining, status=rule.status, processed=rule.processed
    )
    return success(
        {
            "method": rule.method,
            "path": rule.path,
            "count": rule.remaining,
            "status": rule.status,
            "processed": rule.processed,
        }
    )


async def closed_va_lifetime(request: Request) -> Response:
    """``POST /_simulator/closed-va-lifetime`` ``{"seconds": 60}``: for closed VAs made next."""
    body = await _json_body(request)
    seconds = body.get("seconds") if isinstance(body, dict) else None
    longest = CLOSED_STATIC_VA_LIFETIME.total_seconds()
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not (math.isfinite(seconds) and 0 < seconds <= longest)
    ):
        raise PivotError.invalid("seconds", f"seconds must be a number above 0, at most {longest}")
    _simulator(request).closed_va_lifetime = timedelta(seconds=seconds)
    return success({"closedVaLifetimeSeconds": seconds})


async def clear_failures(request: Request) -> Response:
    """``POST /_simulator/clear-failures``: every ``fail-next`` rule still pending is dropped."""
    _simulator(request).clear_failures()
    return success({"cleared": True})


async def callbacks(request: Request) -> Response:
    """``GET /_simulator/callbacks``: every delivery attempt, oldest first."""
    return success([attempt.to_json() for attempt in _simulator(request).deliveries])


async def reset(request: Request) -> Response:
    """``POST /_simulator/reset``."""
    await _simulator(request).reset()
    return success({"reset": True})


async def qr_image(request: Request) -> Response:
    """``GET /_simulator/payments/{id}/qr.png``: the image behind a QRIS session's ``qrUrl``."""
    session = _simulator(request).get_payment(request.path_params["id"])
    if session.method != "QR":
        raise PivotError(404, "Payment session has no QR code", code="resource_missing")
    # Pillow, as the bot: the package's runtime dependencies have no pypng.
    image = qrcode.make(
        session.method_details["qrContent"], image_factory=qrcode.image.pil.PilImage
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(buffer.getvalue(), media_type="image/png")


async def index(request: Request) -> Response:
    """``GET /``: a plain page that says what this server is."""
    lines = [
        f"  {' '.join(sorted((route.methods or set()) - {'HEAD'}))} {route.path}"
        for route in request.app.routes
        if isinstance(route, Route) and route.path != "/"
    ]
    return PlainTextResponse(_INDEX + "\n".join(lines) + "\n")


def _on_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, PivotError):
        return error_response(exc)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error"
    return error_response(PivotError(status, detail))


_ROUTES: list[BaseRoute] = [
    Route("/", index, methods=["GET"]),
    Route("/v1/access-token", access_token, methods=["POST"]),
    Route("/v2/payments", create_payment, methods=["POST"]),
    Route("/v2/payments", list_payments, methods=["GET"]),
    Route("/v2/payments/simulations", simulate_payment, methods=["POST"]),
    Route("/v2/payments/{id}", get_payment, methods=["GET"]),
    Route("/v2/charges", list_charges, methods=["GET"]),
    Route("/v2/payment-method-configs", payment_method_configs, methods=["GET"]),
    Route(f"{CONTROL_PREFIX}payments/{{id}}/charges", record_charge, methods=["POST"]),
    Route(f"{CONTROL_PREFIX}payments/{{id}}/qr.png", qr_image, methods=["GET"]),
    Route(f"{CONTROL_PREFIX}charges/{{charge_id}}/redeliver", redeliver, methods=["POST"]),
    Route(f"{CONTROL_PREFIX}fail-next", fail_next, methods=["POST"]),
    Route(f"{CONTROL_PREFIX}closed-va-lifetime", closed_va_lifetime, methods=["POST"]),
    Route(f"{CONTROL_PREFIX}clear-failures", clear_failures, methods=["POST"]),
    Route(f"{CONTROL_PREFIX}callbacks", callbacks, methods=["GET"]),
    Route(f"{CONTROL_PREFIX}reset", reset, methods=["POST"]),
]


def create_app(config: SimulatorConfig) -> Starlette:
    """Build the simulator app.

    Args:
        config: credentials, callback target, bank rules and limits.

    Returns:
        A Starlette app whose ``state.simulator`` is its :class:`Simulator`. Its lifespan
        stops pending callbacks and closes their HTTP client on shutdown.
    """
    simulator = Simulator(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await simulator.aclose()

    app = Starlette(
        routes=_ROUTES,
        middleware=[Middleware(SimulatorMiddleware, simulator=simulator)],
        exception_handlers={PivotError: _on_error, HTTPException: _on_error},
        lifespan=lifespan,
    )
    app.state.simulator = simulator
    return app
