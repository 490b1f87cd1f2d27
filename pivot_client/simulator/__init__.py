"""A local stand-in for Pivot Payment's sandbox, for trying Kodebayar and for its tests.

It answers Pivot's routes the way docs/pivot-api.md describes them (envelope, error codes and
messages, idempotency, bearer tokens) for static VA and QRIS sessions, records charges,
and sends ``CHARGE.SUCCESS`` callbacks with ``X-API-Key``, retried on Pivot's schedule.

Pivot's routes (all but the first need ``Authorization: Bearer <token>``):

* ``POST /v1/access-token``
* ``POST /v2/payments`` (``X-REQUEST-ID`` required) and
  ``GET /v2/payments/{id}?page=&perPage=`` (its ``chargeDetails`` paged, 20 by default)
* ``GET /v2/payments?clientReferenceId=&page=&perPage=``
* ``GET /v2/charges?clientReferenceId=&page=&perPage=``
* ``GET /v2/payment-method-configs``
* ``POST /v2/payments/simulations`` ``{"paymentSessionId", "chargeStatus", "amount"}``:
  ``SUCCESS`` records a charge and sends its callback; ``EXPIRED`` makes the session INACTIVE.

Control routes, for tests and trials (no authentication):

* ``POST /_simulator/payments/{id}/charges`` ``{"amount": 25000, "deliver": false}``: record
  a SUCCESS charge of any amount (even one a closed VA's bank would refuse), with or without
  its callback. ``"event"`` names the callback's event (default ``CHARGE.SUCCESS``; Pivot's
  only published sample is ``PAYMENT.PAID``), and ``"chargeDetails"`` says what it carries:
  ``"new"`` (default), ``"all"`` (the session's first page of 20), ``"older"`` (that page
  without the new charge) or ``"none"`` (null).
* ``POST /_simulator/charges/{charge_id}/redeliver``: send a charge's callback again.
* ``POST /_simulator/fail-next`` ``{"method": "POST", "path": "/v2/payments", "count": 1,
  "status": 503, "processed": false}``: answer the next ``count`` requests to that route with
  Pivot's error envelope for ``status``; with ``processed`` the request is handled first and
  only its answer is lost.
* ``GET /_simulator/callbacks``: the delivery log, one entry per attempt.
* ``POST /_simulator/closed-va-lifetime`` ``{"seconds": 600}``: closed VAs made from now on
  expire after that long instead of Pivot's 30 days (past its ``expiryAt`` a session is
  INACTIVE and takes no simulated payment).
* ``POST /_simulator/reset``: forget everything but the issued tokens.
* ``GET /_simulator/payments/{id}/qr.png``: the image behind a QRIS session's ``qrUrl``.

Nobody can mistake it for Pivot: every response carries ``X-Pivot-Simulator: true``,
``GET /`` says what it is, sessions carry ``"simulation": true``, and VA names and the QRIS
merchant name say SIMULASI.
"""

from __future__ import annotations

from pivot_client.simulator._app import create_app
from pivot_client.simulator._callbacks import DeliveryAttempt
from pivot_client.simulator._config import DEFAULT_VA_PREFIXES, SimulatorConfig
from pivot_client.simulator._qris import build_static_qris
from pivot_client.simulator._simulator import Simulator
from pivot_client.simulator._state import Charge, Session

__all__ = [
    "DEFAULT_VA_PREFIXES",
    "Charge",
    "DeliveryAttempt",
    "Session",
    "Simulator",
    "SimulatorConfig",
    "build_static_qris",
    "create_app",
]
