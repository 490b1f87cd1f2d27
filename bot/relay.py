"""The notification relay: drains the outbox to Telegram, paced under Telegram's limits.

Rows are claimed from the database (``pending`` → ``sending``), queued per chat in memory and
sent at most one message a second per chat and ``global_rate`` a second overall (Telegram
allows about 1 and 30). A chat with several payments waiting gets them in one combined
message. A row is marked ``sent`` only after Telegram accepted it, so a crash between the two
can repeat that one message; rows left in ``sending`` go back to ``pending`` at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import utcnow
from bot.notifications import (
    PAYMENT_KIND,
    TEXT_KIND,
    PaymentNotice,
    TextNotice,
    render_combined,
    render_payment,
)
from storage import Database, OutboxMessage

__all__ = ["Relay"]

logger = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class Relay:
    """Sends outbox rows through ``bot``; ``wake()`` after queueing, ``start()``/``stop()``.

    Args:
        db: The database holding the outbox.
        bot: The Telegram bot to send with.
        chat_interval: Seconds between two messages to one chat.
        global_rate: Messages a second over all chats.
        claim_limit: Rows held in memory at once.
        base_backoff: First wait before retrying a row after a network error, in seconds;
            it doubles with every failed attempt.
        max_backoff: Longest such wait.
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        chat_interval: float = 1.0,
        global_rate: float = 25.0,
        claim_limit: int = 500,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
    ) -> None:
        self._db = db
        self._bot = bot
        self._chat_interval = chat_interval
        self._global_interval = 1.0 / global_rate
        self._claim_limit = claim_limit
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._queues: dict[int, deque[OutboxMessage]] = {}
        self._ready_at: dict[int, float] = {}
        self._busy: set[int] = set()
        self._sends: set[asyncio.Task[None]] = set()
        self._next_send_at = 0.0
        self._claim_wanted = True
        self._timer: asyncio.TimerHandle | None = None
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        """Whether the relay's loop is alive."""
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """New rows were committed: look at the outbox now rather than at the next timer."""
        self._claim_wanted = True
        self._wakeup.set()

    async def start(self) -> None:
        """Take back rows a crash left in ``sending``, then start sending."""
        async with self._db.write() as tx:
            reset = await tx.outbox.reset_sending()
        if reset:
            logger.warning("%d messages were in flight when the bot stopped; resending", reset)
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="relay")

    async def stop(self) -> None:
        """Finish the messages being sent, then stop; unsent rows stay in the outbox."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._timer is not None:
            self._timer.cancel()
        held = [row.id for queue in self._queues.values() for row in queue]
        self._queues.clear()
        if held:
            async with self._db.write() as tx:
                await tx.outbox.reschedule(held, next_attempt_at=utcnow(), error="bot stopped")

    async def _run(self) -> None:
        try:
            while not self._stopping:
                self._wakeup.clear()
                if self._claim_wanted:
                    await self._claim()
                wait = self._dispatch()
                if wait is None or wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), wait)
            if self._sends:
                await asyncio.wait(self._sends)
        except Exception as exc:
            self.last_error = type(exc).__name__
            logger.exception("the relay stopped; messages wait in the outbox until a restart")
            raise

    async def _claim(self) -> None:
        """Pull due rows into the per-chat queues, and learn when the next row is due."""
        room = self._claim_limit - sum(len(queue) for queue in self._queues.values())
        if room <= 0:
            return  # claim again once sends have made room
        self._claim_wanted = False
        async with self._db.write() as tx:
            rows = await tx.outbox.claim_due(now=utcnow(), limit=room)
        for row in rows:
            self._queues.setdefault(row.chat_id, deque()).append(row)
        if len(rows) == room:
            self._claim_wanted = True  # more may be due
            return
        next_due = await self._db.outbox.next_due_at()
        if self._timer is not None:
            self._timer.cancel()
        if next_due is not None:
            delay = max((next_due - utcnow()).total_seconds(), 0.0)
            self._timer = asyncio.get_running_loop().call_later(delay, self.wake)

    def _dispatch(self) -> float | None:
        """Start every send that pacing allows; seconds until the next could start, or None."""
        now = time.monotonic()
        waits: list[float] = []
        for chat_id, queue in list(self._queues.items()):
            if not queue:
                del self._queues[chat_id]
                continue
            if chat_id in self._busy:
                continue
            ready = max(self._ready_at.get(chat_id, 0.0), self._next_send_at)
            if ready > now:
                waits.append(ready - now)
                continue
            outgoing = _next_message(queue)
            self._busy.add(chat_id)
            self._ready_at[chat_id] = now + self._chat_interval
            self._next_send_at = now + self._global_interval
            task = asyncio.create_task(self._send(chat_id, outgoing))
            self._sends.add(task)
            task.add_done_callback(self._sent)
            now = time.monotonic()
        return min(waits) if waits else None

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sends.discard(task)
        self._wakeup.set()

    async def _send(self, chat_id: int, outgoing: _Outgoing) -> None:
        """Send one message and record what Telegram said."""
        batch = outgoing.rows
        ids = [row.id for row in batch]
        try:
            if outgoing.text is None:
                logger.error("outbox row %s cannot be rendered: %s", ids, outgoing.problem)
                await self._fail(ids, f"unreadable payload: {outgoing.problem}")
                return
            message = await self._bot.send_message(
                chat_id,
                outgoing.text,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
            )
        except RetryAfter as exc:
            # Telegram says when: hold the rows and this chat until then.
            pause = _retry_after_seconds(exc)
            logger.warning("Telegram asked to wait %.0f s before writing to a chat", pause)
            self._ready_at[chat_id] = time.monotonic() + pause
            self._queues.setdefault(chat_id, deque()).extendleft(reversed(batch))
        except Forbidden as exc:
            # The seller blocked the bot: the payment stays recorded, the message cannot go.
            logger.warning("chat %d refuses messages (%s); %d kept unsent", chat_id, exc, len(ids))
            await self._fail(ids, f"forbidden: {exc}")
        except BadRequest as exc:
            logger.error("Telegram refused a message for chat %d: %s", chat_id, exc)
            await self._fail(ids, f"bad request: {exc}")
        except (NetworkError, TelegramError) as exc:
            await self._retry_later(batch, exc)
        else:
            sent_id = message.message_id
            async with self._db.write() as tx:
                await tx.outbox.mark_sent(ids, telegram_message_id=sent_id, now=utcnow())
            self.sent += len(ids)
        finally:
            self._busy.discard(chat_id)

    async def _fail(self, ids: Sequence[int], error: str) -> None:
        async with self._db.write() as tx:
            await tx.outbox.mark_failed(ids, error=error[:500])

    async def _retry_later(self, batch: Sequence[OutboxMessage], exc: TelegramError) -> None:
        """Back off exponentially (with jitter, so chats do not retry in step)."""
        attempts = max(row.attempts for row in batch)
        backoff = min(self._max_backoff, self._base_backoff * 2.0 ** (attempts - 1))
        delay = backoff * random.uniform(0.5, 1.0)  # noqa: S311
        self.last_error = type(exc).__name__
        logger.warning("sending failed (%s); retrying in %.1f s", exc, delay)
        async with self._db.write() as tx:
            await tx.outbox.reschedule(
                [row.id for row in batch],
                next_attempt_at=utcnow() + timedelta(seconds=delay),
                error=str(exc)[:500],
            )
        self.wake()  # the next claim learns when these rows are due


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One message to send: its outbox rows and its text (None when a row is unreadable)."""

    rows: list[OutboxMessage]
    text: str | None
    problem: str = ""


def _next_message(queue: deque[OutboxMessage]) -> _Outgoing:
    """Take the next message's rows: one row, or a run of waiting payments that fits one message.

    Each payload is read once, here; a row that cannot be read goes out alone, to be failed.
    """
    first = queue.popleft()
    try:
        if first.kind == TEXT_KIND:
            return _Outgoing([first], TextNotice.model_validate_json(first.payload).text)
        if first.kind != PAYMENT_KIND:
            raise ValueError(f"unknown outbox kind {first.kind!r}")
        notices = [PaymentNotice.model_validate_json(first.payload)]
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        return _Outgoing([first], None, str(exc))
    rows, text = [first], render_payment(notices[0])
    while queue and queue[0].kind == PAYMENT_KIND:
        try:
            notice = PaymentNotice.model_validate_json(queue[0].payload)
        except ValueError:
            break  # it becomes the first row of the next message, and fails alone
        combined = render_combined([*notices, notice])
        if len(combined) > MessageLimit.MAX_TEXT_LENGTH:
            break
        notices.append(notice)
        rows.append(queue.popleft())
        text = combined
    return _Outgoing(rows, text)


def _retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds (a timedelta once PTB_TIMEDELTA is on, see ``bot``)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
