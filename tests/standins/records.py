"""Records for tests that start from the money rather than the chat: sellers, codes and
charges in the database or built without one, and the charges and callbacks Pivot would send."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pivot_client.simulator import Charge as SimulatedCharge
from pivot_client.simulator import Session
from storage import (
    Buyer,
    Charge,
    ChargeConfirmation,
    ChargeSource,
    Code,
    CodeKind,
    CodeStatus,
    Database,
    NewCharge,
    Role,
    Seller,
    Transaction,
)

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
_serial = itertools.count(1)


async def add_seller(
    db: Database,
    telegram_id: int = 100,
    *,
    role: Role = Role.SELLER,
    name: str | None = None,
    language: str = "id",
    timezone: str = "Asia/Jakarta",
    invited_by: int | None = None,
    now: datetime = NOW,
) -> Seller:
    """An ACTIVE seller (or operator), named after its id unless ``name`` is given, its chat id
    equal to its user id."""
    async with db.write() as tx:
        return await tx.sellers.add(
            telegram_id=telegram_id,
            chat_id=telegram_id,
            name=f"Seller {telegram_id}" if name is None else name,
            username=None,
            language=language,
            timezone=timezone,
            role=role,
            invited_by=invited_by,
            now=now,
        )


async def add_code(
    db: Database,
    seller_id: int = 100,
    *,
    kind: CodeKind = CodeKind.QRIS,
    bank: str | None = None,
    va_suffix: int | None = None,
    customer: str = "Budi",
    amount: int | None = None,
    request_key: str | None = None,
    session_id: str | None = None,
    client_reference_id: str | None = None,
    activate: bool = True,
    expires_at: datetime | None = None,
    now: datetime = NOW,
) -> Code:
    """A code, ACTIVE with a Pivot session unless ``activate`` is False (then PENDING).

    Give ``session_id`` and ``client_reference_id`` to match a session Pivot (or the
    simulator) really issued.
    """
    serial = next(_serial)
    async with db.write() as tx:
        code = await tx.codes.create(
            seller_id=seller_id,
            kind=kind,
            bank=bank,
            va_suffix=va_suffix,
            customer=customer,
            amount=amount,
            request_key=request_key or f"request-{serial}",
            client_reference_id=client_reference_id or f"reference-{serial}",
            now=now,
        )
        if not activate:
            return code
        return await tx.codes.activate(
            code.id,
            session_id=session_id or f"session-{serial}",
            qr_content="000201..." if kind is CodeKind.QRIS else None,
            va_number=f"1234{va_suffix}" if kind is CodeKind.VA else None,
            merchant_name="Warung Budi",
            simulation=True,
            expires_at=expires_at,
        )


async def buyer_opens(
    tx: Transaction,
    telegram_id: int,
    code_id: int,
    link_id: int,
    *,
    language: str = "id",
    now: datetime = NOW,
) -> Buyer:
    """The person ``telegram_id`` (chatting from their own id) opened the buyer link
    ``link_id`` of ``code_id``."""
    return await tx.buyers.record(
        telegram_id=telegram_id,
        chat_id=telegram_id,
        code_id=code_id,
        link_id=link_id,
        language=language,
        now=now,
    )


def new_charge(
    pivot_charge_id: str,
    code: Code | None,
    *,
    amount: int = 25_000,
    paid_at: datetime = NOW,
    source: ChargeSource = ChargeSource.CALLBACK,
    flags: frozenset[str] = frozenset(),
    channel: str = "QRIS",
    issuer: str | None = "GOPAY",
    confirmation: ChargeConfirmation = ChargeConfirmation.CONFIRMED,
) -> NewCharge:
    """A successful charge on ``code`` (or on no known code); QRIS paid from GoPay unless said."""
    return NewCharge(
        pivot_charge_id=pivot_charge_id,
        code_id=None if code is None else code.id,
        seller_id=None if code is None else code.seller_id,
        session_id="unknown-session" if code is None else str(code.pivot_session_id),
        client_reference_id=None if code is None else code.client_reference_id,
        amount=amount,
        paid_at=paid_at,
        channel=channel,
        issuer=issuer,
        reference=f"ref-{pivot_charge_id}",
        source=source,
        flags=flags,
        confirmation=confirmation,
    )


async def record_charge(
    db: Database,
    pivot_charge_id: str,
    code: Code | None,
    *,
    amount: int = 25_000,
    paid_at: datetime = NOW,
    channel: str = "QRIS",
    issuer: str | None = "GOPAY",
    confirmation: ChargeConfirmation = ChargeConfirmation.CONFIRMED,
) -> Charge:
    """Record a new charge in its own transaction."""
    async with db.write() as tx:
        [charge] = await tx.charges.insert_new(
            [
                new_charge(
                    pivot_charge_id,
                    code,
                    amount=amount,
                    paid_at=paid_at,
                    channel=channel,
                    issuer=issuer,
                    confirmation=confirmation,
                )
            ],
            now=paid_at + timedelta(seconds=1),
        )
    return charge


def code_row(code_id: int, **fields: Any) -> Code:
    """A code built without a database: an ACTIVE QRIS of seller 501 for Bu Ani expecting
    Rp 25.000, made at ``NOW``, unless ``fields`` say otherwise."""
    code = Code(
        id=code_id,
        seller_id=501,
        kind=CodeKind.QRIS,
        bank=None,
        va_suffix=None,
        customer="Bu Ani",
        amount=25_000,
        request_key="1:2",
        client_reference_id=f"kb{code_id:030d}",
        pivot_session_id="sess",
        qr_content="000201...",
        va_number=None,
        merchant_name=None,
        simulation=True,
        status=CodeStatus.ACTIVE,
        failure=None,
        created_at=NOW,
        deactivated_at=None,
        last_payment_at=None,
    )
    return replace(code, **fields)


def charge_row(charge_id: int, amount: int, **fields: Any) -> Charge:
    """A recorded charge built without a database: a QRIS callback on code 1 of seller 501,
    paid and recorded at ``NOW``, unless ``fields`` say otherwise."""
    charge = Charge(
        id=charge_id,
        pivot_charge_id=f"ch-{charge_id}",
        code_id=1,
        seller_id=501,
        session_id="sess",
        client_reference_id=None,
        amount=amount,
        paid_at=NOW,
        channel="QRIS",
        issuer=None,
        reference=None,
        source=ChargeSource.CALLBACK,
        flags=frozenset(),
        recorded_at=NOW,
    )
    return replace(charge, **fields)


def unrecorded_charge(session: Session, charge_id: str, amount: int) -> SimulatedCharge:
    """A charge into ``session`` in the simulator's own shape that the simulator never made:
    what a forged or mistaken callback claims."""
    return SimulatedCharge(
        id=charge_id,
        session_id=session.id,
        client_reference_id=session.client_reference_id,
        amount=amount,
        method_key=session.method_key,
        method_details=session.method_details,
        created_at=datetime.now(UTC),
    )


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
