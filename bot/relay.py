"""The notification relay: drains the outbox to Telegram, and nothing stops it.

Rows are claimed from the database (``pending`` → ``sending``), queued per chat in memory and
handed to the bot, whose ``bot.sending.Sender`` paces them under Telegram's limits. One message
per chat is in flight at a time, and at most ``max_in_flight`` overall: when Telegram's overall
limit is what holds messages back, the chats with the most waiting go first, each with all its
waiting payments in one combined message. A row is marked ``sent`` only after Telegram accepted
it, so a crash between the two can repeat that one message; rows left in ``sending`` go back to
``pending`` at start-up.

Nothing ends delivery. A failing step (the database locked, the disk full) is logged and tried
again with backoff, the relay reporting ``recovering`` meanwhile. A row that cannot be rendered
or that Telegram refuses as malformed is set aside alone (``failed``, with its reason, the
operators told). A chat that refuses the bot (blocked, deactivated) has its messages held, its
seller marked blocked and the operators told; they go out, combined, when the person writes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.alerts import alert_operators
from bot.clock import utcnow
from bot.notifications import (
    PAYMENT_KIND,
    TEXT_KIND,
    NoticeButton,
    PaymentNotice,
    TextNotice,
    payment_buttons,
    render_combined,
    render_payment,
)
from bot.sending import retry_after_seconds
from storage import Database, Lease, OutboxMessage, SellerStatus, Transaction

__all__ = ["Relay"]

logger = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Alerts are outbox rows too; one that fails is logged, not alerted about.
_ALERT_PREFIX = "alert:"

_T = TypeVar("_T")

# A chat whose oldest waiting message is this old goes before chats with more waiting.
_STARVING = timedelta(seconds=30)


class Relay:
    """Sends outbox rows through ``bot``, from ``start()`` to ``stop()``.

    While running it listens to the database: every commit that queued rows wakes it, so no
    caller has to. Rows written by another process are found at the latest ``max_backoff``
    seconds later.

    Args:
        db: The database holding the outbox.
        bot: The Telegram bot to send with (paced by its ``Sender``).
        admin_ids: The operators, told about set-aside rows and chats that refuse the bot.
        max_in_flight: Messages handed to the bot at once, over all chats.
        claim_limit: Rows held in memory at once.
        base_backoff: First wait before retrying a row after a network error, in seconds;
            it doubles with every failed attempt.
        max_backoff: Longest such wait; also the longest the relay sleeps without looking.
        lease: The leader's lease: rows are claimed only in a transaction that still sees it
            held, so a leader stepping down never claims rows after another took over (they
            would stay SENDING, unsent, since the new leader took back SENDING rows at its
            start). None for a relay that is the only one (tests).
        stop_grace: Seconds ``stop`` lets sends under way finish.
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        admin_ids: Iterable[int] = (),
        *,
        max_in_flight: int = 32,
        claim_limit: int = 5_000,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
        stop_grace: float = 3.0,
        lease: Lease | None = None,
    ) -> None:
        self._db = db
        self._lease = lease
        self._bot = bot
        self._admin_ids = tuple(admin_ids)
        self._max_in_flight = max_in_flight
        self._claim_limit = claim_limit
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._stop_grace = stop_grace
        self._queues: dict[int, deque[OutboxMessage]] = {}
        self._busy: set[int] = set()
        self._held: set[int] = set()  # chats with HELD rows: released when the person writes
        self._refusing: set[int] = set()  # chats whose new rows are held without a try
        self._released_at: dict[int, float] = {}  # when each chat last wrote after a hold
        self._to_release: set[int] = set()
        self._alone: set[int] = set()  # rows of a combined message Telegram refused: go alone
        self._accepted: set[asyncio.Task[None]] = set()  # sends Telegram took, being recorded
        self._sends: set[asyncio.Task[None]] = set()
        self._in_flight: dict[asyncio.Task[None], tuple[int, list[OutboxMessage]]] = {}
        self._claim_wanted = True
        self._timer: asyncio.TimerHandle | None = None
        self._wakeup = asyncio.Event()
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._resumed = False
        self.sent = 0
        self.recovering = False
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        """Whether the relay's loop is alive (it may be ``recovering`` from a failure)."""
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Rows may be due: look at the outbox now rather than at the next timer."""
        self._claim_wanted = True
        self._wakeup.set()

    def holds(self, chat_id: int) -> bool:
        """Whether messages to ``chat_id`` wait for the person to write again."""
        return chat_id in self._held

    async def start(self) -> None:
        """Start sending; rows a crash left in ``sending`` are taken back first, by the loop."""
        self._stopped.clear()
        self._resumed = False
        self._db.add_outbox_listener(self.wake)
        self._task = asyncio.create_task(self._run(), name="relay")

    async def _resume(self) -> None:
        """Take back rows a crash left in ``sending``; learn which chats have held rows."""
        async with self._db.write() as tx:
            reset = await tx.outbox.reset_sending()
        if reset:
            logger.warning("%d messages were in flight when the bot stopped; resending", reset)
        # A chat that wrote while the loop could not yet read this is released, not held.
        self._held |= await self._db.outbox.held_chats() - self._to_release
        self._resumed = True

    async def stop(self) -> None:
        """Let sends under way finish (briefly), then stop; unsent rows stay in the outbox.

        A send still waiting after ``stop_grace`` seconds (paced, or waiting out a
        ``retry_after``) is cancelled and its rows put back, due at once, for the next start.
        """
        self._stopped.set()
        self._wakeup.set()
        if self._task is not None:
            self._db.remove_outbox_listener(self.wake)
            await self._task
            self._task = None
        if self._timer is not None:
            self._timer.cancel()
        unsent = [row.id for queue in self._queues.values() for row in queue]
        self._queues.clear()
        if unsent:
            with contextlib.suppress(Exception):  # left in ``sending``, they are reset at start
                async with self._db.write() as tx:
                    await tx.outbox.reschedule(
                        unsent, next_attempt_at=utcnow(), error="bot stopped"
                    )

    def abandon(self) -> None:
        """Stop at once and write nothing more: another process delivers the outbox now (its
        relay takes back the rows this one claimed). A message being sent may go out twice,
        as after a crash (docs/money.md rule 10)."""
        self._stopped.set()
        if self._task is not None:
            self._db.remove_outbox_listener(self.wake)
            self._task.cancel()
            self._task = None
        for task in self._sends:
            task.cancel()
        if self._timer is not None:
            self._timer.cancel()
        self._queues.clear()

    def release(self, chat_id: int) -> None:
        """The person wrote again: their held messages go out now.

        Nothing here can fail: the loop writes it down (and retries like any step), so a
        database busy at the moment the person writes cannot leave the messages held.
        """
        if self._resumed and chat_id not in self._held:
            return  # the common case, answered from memory
        self._held.discard(chat_id)
        self._refusing.discard(chat_id)
        self._released_at[chat_id] = time.monotonic()
        self._to_release.add(chat_id)
        self.wake()

    async def _release_chats(self) -> None:
        """Make the held messages of every chat that wrote again due now."""
        for chat_id in sorted(self._to_release):
            async with self._db.write() as tx:
                released = await tx.outbox.release_chat(chat_id, now=utcnow())
            self._to_release.discard(chat_id)
            if released:
                logger.info("chat %d writes again: %d held messages released", chat_id, released)

    async def keep_for_later(self, chat_id: int, text: str, *, dedupe_key: str) -> None:
        """Queue ``text`` HELD: it goes out when the person next writes to the bot.

        The chat's other messages still go out as usual: only a refusal holds them.
        """
        payload = TextNotice(text=text).model_dump_json()

        async def write() -> None:
            async with self._db.write() as tx:
                await tx.outbox.enqueue(
                    dedupe_key=dedupe_key,
                    chat_id=chat_id,
                    kind=TEXT_KIND,
                    payload=payload,
                    now=utcnow(),
                    held=True,
                )

        self._held.add(chat_id)  # first: a person writing meanwhile releases it
        await self._durably(write)

    async def refused(self, chat_id: int, error: str, *, since: float | None = None) -> bool:
        """``chat_id`` refuses the bot: hold its messages, mark its seller, tell the operators.

        ``since`` is when the attempt that was refused began (``time.monotonic()``). If the
        person wrote to the bot after that, the refusal is out of date: nothing is held, and
        False says the caller's rows should simply be sent again.
        """
        if self._released_since(chat_id, since):
            return False
        marked = time.monotonic()
        # Before the write: a person who writes while it runs is seen by ``release``.
        self._held.add(chat_id)
        self._refusing.add(chat_id)
        self._queues.pop(chat_id, None)  # their rows are about to be held in the database
        async with self._db.write() as tx:
            if self._released_since(chat_id, since):  # while this write waited its turn
                return False
            held = await tx.outbox.hold_chat(chat_id, error=error[:500])
            # In a private chat the chat id is the person's user id: the chat's own seller, if
            # any. A buyer's chat (receipts, docs/buyers.md) finds none and marks nobody.
            seller = await tx.sellers.get(chat_id)
            if seller is not None and seller.status is SellerStatus.ACTIVE:
                await tx.sellers.set_status(chat_id, SellerStatus.BLOCKED)
                await self._alert(
                    tx,
                    "alert.chat_refuses",
                    dedupe=f"refuses:{chat_id}:{utcnow().isoformat()}",  # once: ACTIVE -> BLOCKED
                    name=seller.name,
                    seller_id=chat_id,
                    count=held,
                )
        logger.warning("chat %d refuses messages (%s); %d held", chat_id, error, held)
        if self._released_at.get(chat_id, -math.inf) >= marked:
            # The person wrote while the hold was being written: release what it just held.
            self._held.add(chat_id)
            self.release(chat_id)
        return True

    def _released_since(self, chat_id: int, since: float | None) -> bool:
        """Whether the person wrote to the bot after ``since`` (``time.monotonic()``)."""
        return since is not None and self._released_at.get(chat_id, -math.inf) >= since

    async def _run(self) -> None:
        """Loop until stopped; a failing step is retried with backoff, never the end."""
        failures = 0
        while not self._stopped.is_set():
            try:
                await self._step()
            except Exception as exc:
                failures += 1
                self.recovering = True
                self.last_error = type(exc).__name__
                delay = min(self._max_backoff, 30.0, 0.5 * 2.0 ** (failures - 1))
                logger.exception("the relay failed; trying again in %.1f s", delay)
                self._claim_wanted = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), delay)
                continue
            if failures:
                logger.info("the relay recovered")
                failures = 0
                self.recovering = False
            try:
                await asyncio.wait_for(self._wakeup.wait(), self._max_backoff)
            except TimeoutError:
                # A safety net: rows another process queued wake nobody here.
                self._claim_wanted = True
        await self._finish_sends()

    async def _finish_sends(self) -> None:
        """Wait ``stop_grace`` for the sends under way; cancel the rest, requeueing their rows."""
        if not self._sends:
            return
        _, late = await asyncio.wait(self._sends, timeout=self._stop_grace)
        for task in late - self._accepted:
            # Still waiting for its turn or for Telegram: put back, sent after the next start.
            task.cancel()
            chat_id, rows = self._in_flight[task]
            self._queues.setdefault(chat_id, deque()).extendleft(reversed(rows))
        if late:
            await asyncio.wait(late)

    async def _step(self) -> None:
        """One round: take rows back after a restart, claim what is due, hand out sends."""
        if not self._resumed:
            await self._resume()
        self._wakeup.clear()
        if self._to_release:
            await self._release_chats()
        if self._claim_wanted:
            await self._claim()
        self._dispatch()

    async def _claim(self) -> None:
        """Pull due rows into the per-chat queues, and learn when the next row is due."""
        room = self._claim_limit - sum(len(queue) for queue in self._queues.values())
        if room <= 0:
            return  # claim again once sends have made room
        async with self._db.write() as tx:
            if self._lease is not None and not await tx.holds(self._lease):
                # Another process leads: claim nothing; this one steps down (bot.leadership).
                logger.warning("the lease is no longer this process's: claiming nothing")
                self._claim_wanted = False
                return
            rows = await tx.outbox.claim_due(now=utcnow(), limit=room)
        self._claim_wanted = False
        for row in rows:
            self._queues.setdefault(row.chat_id, deque()).append(row)
        if len(rows) == room:
            self._claim_wanted = True  # more may be due
            return
        next_due = await self._db.outbox.next_due_at()
        if self._timer is not None:
            self._timer.cancel()
        if next_due is None:
            return
        now = utcnow()
        horizon = now + timedelta(seconds=self._max_backoff * 2)
        if next_due > horizon:
            # Later than any retry is ever scheduled: set by a clock that ran ahead and was
            # set back. Due now, rather than held back by the size of the jump.
            async with self._db.write() as tx:
                moved = await tx.outbox.pull_forward(after=horizon, now=now)
            logger.warning("the clock was set back: %d messages made due now", moved)
            return  # the commit woke the relay
        delay = max((next_due - now).total_seconds(), 0.0)
        self._timer = asyncio.get_running_loop().call_later(delay, self.wake)

    def _dispatch(self) -> None:
        """Hand the bot the next message of as many chats as may be in flight."""
        free = self._max_in_flight - len(self._busy)
        for chat in [chat for chat, queue in self._queues.items() if not queue]:
            del self._queues[chat]
        waiting = [chat for chat in self._queues if chat not in self._busy]
        if free <= 0 or not waiting:
            return
        if len(waiting) > free:
            # Telegram's overall limit is the bottleneck: most payments per message first,
            # then the longest waiting.
            starving = utcnow() - _STARVING
            waiting.sort(key=lambda chat: self._priority(chat, starving))
            waiting = waiting[:free]
        for chat_id in waiting:
            queue = self._queues[chat_id]
            work: Awaitable[None]
            if chat_id in self._refusing:
                rows = list(queue)
                queue.clear()
                work = self._refused_rows(chat_id, rows, time.monotonic())
            else:
                outgoing = _next_message(queue, self._alone)
                rows = outgoing.rows
                work = self._send(chat_id, outgoing)
            self._busy.add(chat_id)
            task = asyncio.create_task(self._settled(chat_id, work))
            self._sends.add(task)
            self._in_flight[task] = (chat_id, rows)
            task.add_done_callback(self._sent)

    def _priority(self, chat_id: int, starving: datetime) -> tuple[bool, int, int]:
        """Waiting since before ``starving`` first; then most payments per message; then the
        longest waiting."""
        queue = self._queues[chat_id]
        return queue[0].created_at > starving, -len(queue), queue[0].id

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sends.discard(task)
        self._accepted.discard(task)
        self._in_flight.pop(task, None)
        self._wakeup.set()

    async def _settled(self, chat_id: int, work: Awaitable[None]) -> None:
        """Run one chat's send; whatever happens, the chat is free again afterwards."""
        try:
            await work
        except Exception:
            # Only the database can fail here, after every retry: the rows stay ``sending``
            # and go out again after a restart.
            logger.exception("could not record what happened to a message for chat %d", chat_id)
        finally:
            self._busy.discard(chat_id)

    async def _refused_rows(
        self, chat_id: int, rows: Sequence[OutboxMessage], since: float
    ) -> None:
        reason = "the chat refused the bot earlier"
        if not await self._durably(lambda: self.refused(chat_id, reason, since=since)):
            await self._retry_later(rows, "the chat was released", 0.0)

    async def _send(self, chat_id: int, outgoing: _Outgoing) -> None:
        """Send one message and record what Telegram said."""
        batch = outgoing.rows
        started = time.monotonic()
        if outgoing.text is None:
            await self._set_aside(batch, f"cannot be rendered: {outgoing.problem}")
            return
        try:
            message = await self._bot.send_message(
                chat_id,
                outgoing.text,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
                reply_markup=outgoing.markup,
            )
        except Forbidden as exc:
            reason = f"forbidden: {exc}"
            if not await self._durably(lambda: self.refused(chat_id, reason, since=started)):
                await self._retry_later(batch, reason, 0.0)
        except BadRequest as exc:
            if len(batch) > 1:
                # One row may be the cause: each goes again alone, and only a bad one is set aside.
                self._alone.update(row.id for row in batch)
                self._queues.setdefault(chat_id, deque()).extendleft(reversed(batch))
                return
            await self._set_aside(batch, f"bad request: {exc}")
        except RetryAfter as exc:
            self.last_error = type(exc).__name__
            await self._retry_later(batch, str(exc), retry_after_seconds(exc))
        except (NetworkError, TelegramError) as exc:
            self.last_error = type(exc).__name__
            await self._retry_later(batch, str(exc), None)
        except Exception as exc:
            await self._set_aside(batch, f"{type(exc).__name__}: {exc}")
        else:
            task = asyncio.current_task()
            if task is not None:
                self._accepted.add(task)  # from here on, ``stop`` waits rather than cancels
            ids = [row.id for row in batch]
            await self._durably(lambda: self._mark_sent(ids, message.message_id))
            self._alone.difference_update(ids)
            self.sent += len(ids)

    async def _mark_sent(self, ids: Sequence[int], message_id: int) -> None:
        async with self._db.write() as tx:
            await tx.outbox.mark_sent(ids, telegram_message_id=message_id, now=utcnow())

    async def _set_aside(self, batch: Sequence[OutboxMessage], reason: str) -> None:
        """Give up on these rows alone, keep why, and tell the operators (not about alerts)."""
        reason = reason[:500]
        logger.error("outbox rows %s set aside: %s", [row.id for row in batch], reason)

        async def write() -> None:
            async with self._db.write() as tx:
                await tx.outbox.mark_failed([row.id for row in batch], error=reason)
                for row in batch:
                    if not row.dedupe_key.startswith(_ALERT_PREFIX):
                        await self._alert(
                            tx,
                            "alert.message_set_aside",
                            dedupe=f"set-aside:{row.id}",
                            row_id=row.id,
                            chat_id=row.chat_id,
                            reason=reason,
                        )

        await self._durably(write)

    async def _alert(self, tx: Transaction, key: str, /, *, dedupe: str, **values: object) -> None:
        await alert_operators(tx, self._admin_ids, key, dedupe=dedupe, now=utcnow(), **values)

    async def _retry_later(
        self, batch: Sequence[OutboxMessage], reason: str, after: float | None
    ) -> None:
        """Due again ``after`` seconds, or after an exponential backoff (with jitter, so chats
        do not retry in step)."""
        if after is None:
            attempts = max(row.attempts for row in batch)
            backoff = min(self._max_backoff, self._base_backoff * 2.0 ** (attempts - 1))
            after = backoff * random.uniform(0.5, 1.0)  # noqa: S311
        # Never past the longest backoff, even on a longer retry_after: a row due later than
        # that is taken for one a clock set back (``_claim``), and the next try only costs a 429.
        after = min(after, self._max_backoff)
        logger.warning("not sent (%s); trying again in %.1f s", reason, after)
        ids = [row.id for row in batch]

        async def write() -> None:
            async with self._db.write() as tx:
                await tx.outbox.reschedule(
                    ids, next_attempt_at=utcnow() + timedelta(seconds=after), error=reason[:500]
                )

        # Its commit wakes the relay: the next claim learns when these rows are due.
        await self._durably(write)

    async def _durably(self, write: Callable[[], Awaitable[_T]]) -> _T:
        """Run a database write, retrying with backoff until it works or the relay stops.

        What Telegram did cannot be undone, so what it did must be written down.
        """
        delay = 0.1
        while True:
            try:
                return await write()
            except Exception:
                if self._stopped.is_set():
                    raise
                logger.warning("database write failed; retrying in %.1f s", delay, exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), delay)
                delay = min(delay * 2, 5.0)


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One message to send: its outbox rows and its text (None when a row is unreadable)."""

    rows: list[OutboxMessage]
    text: str | None
    problem: str = ""
    markup: InlineKeyboardMarkup | None = None


def _next_message(queue: deque[OutboxMessage], alone: set[int]) -> _Outgoing:
    """Take the next message's rows: one row, or a run of waiting payments that fits one message.

    Each payload is read once, here; a row that cannot be read or rendered goes out alone, to
    be set aside. Anything may fail on a hostile row (a date past year 9999, say), so anything
    is caught.
    """
    first = queue.popleft()
    try:
        if first.kind == TEXT_KIND:
            queued = TextNotice.model_validate_json(first.payload)
            return _Outgoing([first], queued.text, markup=_markup([queued.buttons]))
        if first.kind != PAYMENT_KIND:
            raise ValueError(f"unknown outbox kind {first.kind!r}")
        notices = [PaymentNotice.model_validate_json(first.payload)]
        rows, text = [first], render_payment(notices[0])
        buttons = payment_buttons(notices)
    except Exception as exc:
        first_line = next(iter(str(exc).splitlines()), "")
        return _Outgoing([first], None, f"{type(exc).__name__}: {first_line}")
    if first.id not in alone:
        while queue and queue[0].kind == PAYMENT_KIND and queue[0].id not in alone:
            try:
                notice = PaymentNotice.model_validate_json(queue[0].payload)
                combined = render_combined([*notices, notice])
                combined_buttons = payment_buttons([*notices, notice])
            except Exception:
                break  # it becomes the first row of the next message, and fails alone
            if _telegram_length(combined) > MessageLimit.MAX_TEXT_LENGTH:
                break
            notices.append(notice)
            rows.append(queue.popleft())
            text, buttons = combined, combined_buttons
    return _Outgoing(rows, text, markup=_markup([[button] for button in buttons]))


def _telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def _markup(rows: Sequence[Sequence[NoticeButton]]) -> InlineKeyboardMarkup | None:
    """A queued message's buttons in these rows (empty ones left out), or None."""
    keyboard = [
        [InlineKeyboardButton(button.text, callback_data=button.data) for button in row]
        for row in rows
        if row
    ]
    return InlineKeyboardMarkup(keyboard) if keyboard else None
