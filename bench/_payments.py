"""Payments for the end-to-end benchmarks: callbacks to the running bot, messages read back.

Codes are made at the simulator and payments recorded there before their callbacks are
posted, as Pivot would: the bot confirms every payment with Pivot's API before announcing it
(docs/confirmation.md), so a payment the simulator never made would be refused as a forgery.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from bench._common import CACHE
from storage import Code, CodeKind
from tests.standins import CALLBACK_KEY, BotEnv, Call, add_code, running_bot

__all__ = [
    "CALLBACK_HEADERS",
    "amounts_listed",
    "bot_for_bench",
    "pay_at_simulator",
    "post_payment",
    "reference_of",
    "sent_messages",
    "simulator_code",
]

CALLBACK_HEADERS = {"X-API-Key": CALLBACK_KEY, "Content-Type": "application/json"}

_REFERENCE = re.compile(r"Ref: <code>([^<]+)</code>")
_SINGLE = re.compile(r"(?:Payment received|Pembayaran masuk): (Rp [\d.]+)</b>")
_COMBINED = re.compile(r"<b>(\d+) (?:payments received|pembayaran masuk) · total")
_LINE = re.compile(r"^• .*?<b>(Rp [\d.]+)</b>", re.MULTILINE)


@contextlib.asynccontextmanager
async def bot_for_bench(*, flood_control: bool, **settings: Any) -> AsyncIterator[BotEnv]:
    """The whole bot (``Runtime``) against the stand-ins, on a scratch database file.

    ``settings`` are passed on as the operator's (``seller_codes_per_day=...``).
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bot-", dir=CACHE))
    try:
        async with running_bot(
            folder, flood_control=flood_control, log_level="WARNING", **settings
        ) as env:
            yield env
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def simulator_code(
    env: BotEnv, seller: int, *, kind: CodeKind = CodeKind.QRIS, customer: str = "Budi"
) -> Code:
    """A code made at the simulator (a BCA VA, or a QRIS), recorded as the bot records its
    codes."""
    number = len(env.simulator.sessions) + 1
    reference = f"kbbench{number:08d}"
    pivot = env.services.pivot
    if kind is CodeKind.QRIS:
        session = await pivot.create_static_payment(client_reference_id=reference, method="QR")
    else:
        session = await pivot.create_static_payment(
            client_reference_id=reference,
            method="VIRTUAL_ACCOUNT",
            channel="BCA",
            virtual_account_number=f"{number:06d}",  # BCA's default range: up to 100 codes
        )
    return await add_code(
        env.services.db,
        seller,
        kind=kind,
        bank="BCA" if kind is CodeKind.VA else None,
        customer=customer,
        session_id=session.id,
        client_reference_id=reference,
    )


def pay_at_simulator(env: BotEnv, code: Code, amount: int) -> str:
    """A payment into ``code`` that Pivot knows of (its callback not sent); its charge id."""
    assert code.pivot_session_id is not None
    return env.simulator.record_charge(code.pivot_session_id, amount, deliver=False).id


async def post_payment(http: httpx.AsyncClient, env: BotEnv, charge_id: str) -> None:
    """The charge's ``CHARGE.SUCCESS`` callback, exactly as the simulator would post it."""
    body = env.simulator.callback_body(charge_id)
    response = await http.post(env.callback_url, content=body, headers=CALLBACK_HEADERS)
    response.raise_for_status()


def sent_messages(env: BotEnv, chat_id: int | None = None) -> list[Call]:
    """The sendMessage calls the fake Bot API accepted, to ``chat_id`` or anywhere."""
    return [
        call
        for call in env.telegram.calls_to("sendMessage")
        if call.status == 200 and (chat_id is None or call.params.get("chat_id") == chat_id)
    ]


def reference_of(call: Call) -> str | None:
    """The payment reference of a single payment message (the charge id for a VA)."""
    match = _REFERENCE.search(str(call.params.get("text", "")))
    return match.group(1) if match else None


def amounts_listed(call: Call) -> list[str]:
    """Every payment amount a message reports: one for a single message, one per line of a
    combined one (whose title must agree with its lines)."""
    text = str(call.params.get("text", ""))
    single = _SINGLE.search(text)
    if single:
        return [single.group(1)]
    combined = _COMBINED.search(text)
    if combined is None:
        return []
    lines = _LINE.findall(text)
    if len(lines) != int(combined.group(1)):
        raise ValueError(f"a combined message lists {len(lines)} of {combined.group(1)}")
    return lines
