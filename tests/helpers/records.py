"""Rows and Pivot bodies for tests that start from the money records, not from the chat."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from storage import Code, CodeKind, Database, Role, Seller

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


async def add_seller(
    db: Database, telegram_id: int, *, language: str = "id", role: Role = Role.SELLER
) -> Seller:
    """An active seller whose private chat id is their user id."""
    async with db.write() as tx:
        return await tx.sellers.add(
            telegram_id=telegram_id,
            chat_id=telegram_id,
            name=f"Seller {telegram_id}",
            username=None,
            language=language,
            timezone="Asia/Jakarta",
            role=role,
            invited_by=None,
            now=NOW,
        )


async def add_code(
    db: Database,
    seller_id: int,
    *,
    kind: CodeKind = CodeKind.VA,
    amount: int | None = None,
    customer: str = "Bu Ani",
    session_id: str | None = None,
    client_reference_id: str | None = None,
) -> Code:
    """An ACTIVE code as if Pivot had issued it (session and reference random unless given)."""
    reference = client_reference_id or "kb" + uuid.uuid4().hex[:30]
    async with db.write() as tx:
        code = await tx.codes.create(
            seller_id=seller_id,
            kind=kind,
            bank="BCA" if kind is CodeKind.VA else None,
            va_suffix=None,
            customer=customer,
            amount=amount,
            request_key=reference,
            client_reference_id=reference,
            now=NOW,
        )
        return await tx.codes.activate(
            code.id,
            session_id=session_id or str(uuid.uuid4()),
            qr_content=None,
            va_number="7663000000000001" if kind is CodeKind.VA else None,
            merchant_name=None,
            simulation=True,
        )


def charge_success_body(
    session_id: str,
    client_reference_id: str | None,
    charges: Sequence[tuple[str, int]],
    *,
    status: str = "SUCCESS",
) -> bytes:
    """A ``CHARGE.SUCCESS`` callback for a static VA with ``(charge id, amount)`` charges."""
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
        "event": "CHARGE.SUCCESS",
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
