"""Rows and Pivot bodies for tests that start from the money records, not from the chat."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tests.storage.factories import add_code, add_seller, record_charge

__all__ = ["add_code", "add_seller", "charge_success_body", "record_charge"]


def charge_success_body(
    session_id: str,
    client_reference_id: str | None,
    charges: Sequence[tuple[str, int]],
    *,
    status: str = "SUCCESS",
    event: str = "CHARGE.SUCCESS",
) -> bytes:
    """A ``CHARGE.SUCCESS`` (or ``event``) callback for a static VA with ``(charge id, amount)``
    charges."""
    details = [
        {
            "id": charge_id,
            "paymentSessionId": session_id,
            "paymentSessionClientReferenceId": client_reference_id,
            "amount": {"value": amount, "currency": "IDR"},
            "status": status,
            "paidAt": "2026-11-24T07:05:00Z",
            "virtualAccount": {"channel": "BCA", "virtualAccountNumber": "7663000000000001"},
        }
        for charge_id, amount in charges
    ]
    body = {
        "event": event,
        "data": {
            "id": session_id,
            "clientReferenceId": client_reference_id,
            "amount": {"value": 0, "currency": "IDR"},
            "paymentType": "MULTIPLE",
            "status": "ACTIVE",
            "paymentMethod": {"type": "VIRTUAL_ACCOUNT"},
            "chargeDetails": details,
        },
    }
    return json.dumps(body).encode()
