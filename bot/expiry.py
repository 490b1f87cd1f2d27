"""Closed static VAs expire at Pivot: which codes are expired, and the seller's warning before.

Pivot's Virtual Account limitation page: a closed (fixed-amount) static VA takes payments for
30 days, an open one (and a QRIS) for ever. A code keeps the date Pivot's session gave
(``Code.expires_at``). ``WARNING_LEAD`` before it, its seller gets one message with a button
that makes a new code for the same customer, bank and amount (``bot.handlers.renew``).

``ExpiryWatch`` queues the warnings that are due, at start-up and then every ``interval``
seconds (the reconciliation interval): each through the outbox, under the dedupe key
``expiry:<code id>``, in the transaction that marks the code warned, so it is sent once
however often the watch looks and whatever restarts in between. A code first seen already
expired (the bot was down) gets the "has expired" wording instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.amounts import format_rupiah
from bot.clock import format_datetime, utcnow
from bot.keyboards import code_data
from bot.notifications import TEXT_KIND, NoticeButton, TextNotice
from bot.texts import text
from storage import Code, CodeStatus, Database, Seller, Transaction

__all__ = [
    "WARNING_LEAD",
    "ExpiryWatch",
    "expires_soon",
    "is_expired",
    "render_warning",
    "renewable",
]

logger = logging.getLogger(__name__)

WARNING_LEAD = timedelta(days=3)
_BATCH = 100  # warnings queued per transaction


def is_expired(code: Code, now: datetime) -> bool:
    """Whether Pivot no longer takes payments on ``code``."""
    return code.expires_at is not None and now >= code.expires_at


def expires_soon(code: Code, now: datetime) -> bool:
    """Whether ``code`` expires within ``WARNING_LEAD`` (or has expired)."""
    return code.expires_at is not None and now >= code.expires_at - WARNING_LEAD


def renewable(code: Code, now: datetime) -> bool:
    """Whether to offer a new code in place of ``code``: an ACTIVE one that expires soon."""
    return code.status is CodeStatus.ACTIVE and expires_soon(code, now)


def render_warning(code: Code, language: str, zone: ZoneInfo, now: datetime) -> str:
    """The seller's message about ``code`` expiring (or having expired)."""
    if code.expires_at is None:
        raise ValueError(f"code {code.id} does not expire")
    return text(
        language,
        "expiry.expired" if is_expired(code, now) else "expiry.warning",
        customer=code.customer,
        bank=code.bank or "",
        amount=format_rupiah(code.amount or 0),
        date=format_datetime(code.expires_at, zone),
        number=code.va_number or "",
    )


def warning_notice(code: Code, seller: Seller, now: datetime) -> TextNotice:
    """The outbox payload of the warning: its text and the renew button."""
    language = seller.language
    return TextNotice(
        text=render_warning(code, language, ZoneInfo(seller.timezone), now),
        buttons=(
            NoticeButton(text=text(language, "button.renew"), data=code_data(code.id, "renew")),
        ),
    )


class ExpiryWatch:
    """Queues due expiry warnings at start-up and every ``interval`` seconds, until stopped.

    Args:
        db: The database (a commit that queued warnings wakes the relay).
        interval: Seconds between two looks.
    """

    def __init__(self, db: Database, *, interval: float) -> None:
        self._db = db
        self._interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the loop is alive."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Look now, then every ``interval`` seconds."""
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="expiry-warnings")

    async def stop(self) -> None:
        """Stop between two looks (a look under way finishes its transaction)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.queue_due(utcnow())
            except Exception:
                # The next look tries again; a failure must not end the warnings.
                logger.exception("could not queue expiry warnings")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)
            if self._stop.is_set():
                return

    async def queue_due(self, now: datetime) -> int:
        """Queue the warning of every code that expires within ``WARNING_LEAD``; how many."""
        queued = 0
        while True:
            # Read first: most looks find nothing, and take no turn at the one writer.
            due = await self._db.codes.due_expiry_warnings(before=now + WARNING_LEAD, limit=_BATCH)
            if due:
                async with self._db.write() as tx:
                    queued += await self._queue(tx, due, now)
            if len(due) < _BATCH:
                break
        if queued:
            logger.info("%d expiry warnings queued", queued)
        return queued

    @staticmethod
    async def _queue(tx: Transaction, codes: list[Code], now: datetime) -> int:
        sellers = await tx.sellers.get_many({code.seller_id for code in codes})
        queued = 0
        for code in codes:
            warned_now = await tx.codes.mark_expiry_warned(code.id, now=now)
            seller = sellers.get(code.seller_id)
            if not warned_now or seller is None:  # warned since it was read
                continue
            queued += await tx.outbox.enqueue(
                dedupe_key=f"expiry:{code.id}",
                chat_id=seller.chat_id,
                kind=TEXT_KIND,
                payload=warning_notice(code, seller, now).model_dump_json(),
                now=now,
            )
        return queued
