"""The outbox table: Telegram messages queued with the facts they report, sent by a relay."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from ._models import NewMessage, OutboxMessage, OutboxStatus
from ._sql import Row, Sql
from ._values import id_array, moment_from_db, moment_to_db, optional_moment_from_db

__all__ = ["OutboxRepository", "QueueMark"]


def _message(row: Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        dedupe_key=row["dedupe_key"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        payload=row["payload"],
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=moment_from_db(row["next_attempt_at"]),
        last_error=row["last_error"],
        telegram_message_id=row["telegram_message_id"],
        created_at=moment_from_db(row["created_at"]),
        sent_at=optional_moment_from_db(row["sent_at"]),
        awaiting_charge=row["awaiting_charge"],
    )


class QueueMark:
    """Set inside a write transaction by every statement that makes (or may make) messages
    PENDING, due now or later: its commit then tells the outbox listeners (``Database.write``)."""

    __slots__ = ("queued",)

    def __init__(self) -> None:
        self.queued = False


class OutboxRepository:
    """Messages: PENDING → SENDING (claimed) → SENT, or back to PENDING, or FAILED for good.

    A chat that refuses the bot has its messages HELD; they are PENDING again when the person
    writes to the bot (``release_chat``). A message queued for a charge Pivot has not confirmed
    yet waits AWAITING: PENDING once it is (``release_awaiting``), FAILED if it is refuted
    (``fail_awaiting``); nothing else moves it.
    """

    __slots__ = ("_mark", "_sql")

    def __init__(self, sql: Sql, mark: QueueMark | None = None) -> None:
        self._sql = sql
        self._mark = QueueMark() if mark is None else mark

    def _queued(self, count: int) -> int:
        """Note that ``count`` messages became PENDING; returns ``count``."""
        if count:
            self._mark.queued = True
        return count

    async def enqueue(
        self,
        *,
        dedupe_key: str,
        chat_id: int,
        kind: str,
        payload: str,
        now: datetime,
        held: bool = False,
    ) -> bool:
        """Queue a message due now (or HELD); False when one with that dedupe key exists."""
        message = NewMessage(dedupe_key, chat_id, kind, payload)
        return bool(await self.enqueue_all([message], now=now, held=held))

    async def enqueue_all(
        self, messages: Sequence[NewMessage], *, now: datetime, held: bool = False
    ) -> int:
        """Queue messages due now, or at their ``due_at`` (or HELD), in order; those whose
        dedupe key exists are left out. A message with an ``awaiting_charge`` is AWAITING
        whatever ``held`` says.

        Returns how many were queued.
        """
        status = OutboxStatus.HELD if held else OutboxStatus.PENDING
        at = moment_to_db(now)
        rows = await self._sql.insert_rows(
            """
            INSERT INTO outbox (
                dedupe_key, chat_id, kind, payload, status, attempts, next_attempt_at,
                created_at, awaiting_charge
            )""",
            [
                (
                    message.dedupe_key,
                    message.chat_id,
                    message.kind,
                    message.payload,
                    (status if message.awaiting_charge is None else OutboxStatus.AWAITING).value,
                    0,
                    at if message.due_at is None else moment_to_db(message.due_at),
                    at,
                    message.awaiting_charge,
                )
                for message in messages
            ],
            "ON CONFLICT (dedupe_key) DO NOTHING RETURNING status",
        )
        # HELD ones are due only once the chat writes (``release_chat`` tells), AWAITING ones
        # once their charge is confirmed (``release_awaiting`` tells).
        self._queued(sum(row["status"] == OutboxStatus.PENDING.value for row in rows))
        return len(rows)

    async def claim_due(self, *, now: datetime, limit: int) -> list[OutboxMessage]:
        """Mark up to ``limit`` due PENDING messages SENDING (attempts + 1), oldest first."""
        # Oldest by id, not by due time, so a chat's retried message still goes before newer ones.
        rows = await self._sql.rows(
            """
            UPDATE outbox SET status = 'sending', attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM outbox
                WHERE status = 'pending' AND next_attempt_at <= ?
                ORDER BY id LIMIT ?
            )
            RETURNING *
            """,
            (moment_to_db(now), limit),
        )
        # RETURNING has no defined order.
        return sorted((_message(row) for row in rows), key=lambda message: message.id)

    async def mark_sent(
        self, ids: Sequence[int], *, telegram_message_id: int | None, now: datetime
    ) -> None:
        """Record that Telegram accepted these messages (several when they were combined)."""
        if ids:
            await self._sql.rows(
                "UPDATE outbox SET status = 'sent', telegram_message_id = ?, sent_at = ?"
                " WHERE id IN (SELECT value FROM json_each(?))",
                (telegram_message_id, moment_to_db(now), id_array(ids)),
            )

    async def reschedule(
        self, ids: Sequence[int], *, next_attempt_at: datetime, error: str
    ) -> None:
        """Put SENDING messages back to PENDING, due again at ``next_attempt_at``."""
        if ids:
            await self._sql.rows(
                # Only rows still SENDING: one whose ``mark_sent`` won a race stays SENT.
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?"
                " WHERE id IN (SELECT value FROM json_each(?)) AND status = 'sending'",
                (moment_to_db(next_attempt_at), error, id_array(ids)),
            )
            self._queued(len(ids))

    async def mark_failed(self, ids: Sequence[int], *, error: str) -> None:
        """Give up on unsent messages (a SENT one stays SENT); FAILED, for operators to see."""
        if ids:
            await self._sql.rows(
                "UPDATE outbox SET status = 'failed', last_error = ?"
                " WHERE id IN (SELECT value FROM json_each(?)) AND status != 'sent'",
                (error, id_array(ids)),
            )

    async def unsent_in_chats(
        self, chat_ids: Iterable[int], *, key_prefix: str
    ) -> list[tuple[int, str]]:
        """(id, dedupe key) of the messages to these chats whose key starts with
        ``key_prefix`` and that are not sent nor being sent: AWAITING, PENDING or HELD."""
        rows = await self._sql.rows(
            "SELECT id, dedupe_key FROM outbox"
            " WHERE chat_id IN (SELECT value FROM json_each(?))"
            " AND status IN ('awaiting', 'pending', 'held')"
            " AND substr(dedupe_key, 1, ?) = ?",
            (id_array(chat_ids), len(key_prefix), key_prefix),
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    async def release_awaiting(self, charge_ids: Iterable[str], *, now: datetime) -> int:
        """Make the messages AWAITING these charges PENDING, due ``now``; say how many."""
        rows = await self._sql.rows(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?"
            " WHERE status = 'awaiting' AND awaiting_charge IN (SELECT value FROM json_each(?))"
            " RETURNING id",
            (moment_to_db(now), id_array(charge_ids)),
        )
        return self._queued(len(rows))

    async def fail_awaiting(self, charge_ids: Iterable[str], *, error: str) -> int:
        """Give up for good on the messages AWAITING these charges; say how many."""
        rows = await self._sql.rows(
            "UPDATE outbox SET status = 'failed', last_error = ?"
            " WHERE status = 'awaiting' AND awaiting_charge IN (SELECT value FROM json_each(?))"
            " RETURNING id",
            (error, id_array(charge_ids)),
        )
        return len(rows)

    async def release(self, payloads: Sequence[tuple[int, str]], *, now: datetime) -> None:
        """Give unsent messages a new payload: PENDING ones are due ``now``, HELD ones wait
        for their chat as before; messages being sent or sent are left as they are."""
        await self._sql.many(
            "UPDATE outbox SET payload = ?,"
            " next_attempt_at = CASE status WHEN 'pending' THEN ? ELSE next_attempt_at END"
            " WHERE id = ? AND status IN ('pending', 'held')",
            [(payload, moment_to_db(now), message_id) for message_id, payload in payloads],
        )
        self._queued(len(payloads))

    async def pull_forward(self, *, after: datetime, now: datetime) -> int:
        """Make PENDING messages due after ``after`` due ``now``; say how many.

        For messages scheduled by a clock that ran ahead and was then set back.
        """
        rows = await self._sql.rows(
            "UPDATE outbox SET next_attempt_at = ?"
            " WHERE status = 'pending' AND next_attempt_at > ? RETURNING id",
            (moment_to_db(now), moment_to_db(after)),
        )
        return self._queued(len(rows))

    async def hold_chat(self, chat_id: int, *, error: str) -> int:
        """HOLD every unsent message to ``chat_id`` (it refuses the bot); say how many."""
        rows = await self._sql.rows(
            "UPDATE outbox SET status = 'held', last_error = ?"
            " WHERE chat_id = ? AND status IN ('pending', 'sending') RETURNING id",
            (error, chat_id),
        )
        return len(rows)

    async def release_chat(self, chat_id: int, *, now: datetime) -> int:
        """Make ``chat_id``'s HELD messages due now; say how many."""
        rows = await self._sql.rows(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?"
            " WHERE chat_id = ? AND status = 'held' RETURNING id",
            (moment_to_db(now), chat_id),
        )
        return self._queued(len(rows))

    async def held_chats(self) -> set[int]:
        """The chats with HELD messages."""
        rows = await self._sql.rows("SELECT DISTINCT chat_id FROM outbox WHERE status = 'held'")
        return {row["chat_id"] for row in rows}

    async def reset_sending(self) -> int:
        """At start-up, return messages a crash left SENDING to PENDING; say how many."""
        rows = await self._sql.rows(
            "UPDATE outbox SET status = 'pending' WHERE status = 'sending' RETURNING id"
        )
        return self._queued(len(rows))

    async def pending_count(self) -> int:
        """How many messages are still to be sent (PENDING or SENDING)."""
        return await self._sql.integer(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
        )

    async def next_due_at(self) -> datetime | None:
        """When the next PENDING message falls due, or None when none is pending."""
        return optional_moment_from_db(
            await self._sql.optional_integer(
                "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'"
            )
        )

    async def get(self, message_id: int) -> OutboxMessage | None:
        """The message with that id, or None."""
        row = await self._sql.row("SELECT * FROM outbox WHERE id = ?", (message_id,))
        return None if row is None else _message(row)

    async def by_dedupe_key(self, key: str) -> OutboxMessage | None:
        """The message with that dedupe key, or None."""
        row = await self._sql.row("SELECT * FROM outbox WHERE dedupe_key = ?", (key,))
        return None if row is None else _message(row)

    async def by_dedupe_keys(self, keys: Iterable[str]) -> dict[str, OutboxMessage]:
        """The messages with these dedupe keys, by key; keys without one are left out."""
        rows = await self._sql.rows(
            "SELECT * FROM outbox WHERE dedupe_key IN (SELECT value FROM json_each(?))",
            (id_array(keys),),
        )
        return {row["dedupe_key"]: _message(row) for row in rows}

    async def count(self, status: OutboxStatus | None = None) -> int:
        """How many messages there are, all or in one status."""
        if status is None:
            return await self._sql.integer("SELECT count(*) FROM outbox")
        return await self._sql.integer(
            "SELECT count(*) FROM outbox WHERE status = ?", (OutboxStatus(status).value,)
        )
