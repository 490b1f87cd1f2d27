"""OutboxRepository: dedupe, claim, send, retry, give up, crash recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import Database, DatabaseError, NewMessage, OutboxMessage, OutboxStatus
from storage._sqlite import SqliteSql
from tests.standins import NOW


async def _enqueue(db: Database, key: str, *, at: timedelta = timedelta(0)) -> bool:
    async with db.write() as tx:
        return await tx.outbox.enqueue(
            dedupe_key=key,
            chat_id=100,
            kind="payment",
            payload=f'{{"key": "{key}"}}',
            now=NOW + at,
        )


async def _claim(db: Database, *, at: timedelta = timedelta(0), limit: int = 10) -> list[int]:
    async with db.write() as tx:
        claimed = await tx.outbox.claim_due(now=NOW + at, limit=limit)
    return [message.id for message in claimed]


async def _message(db: Database, key: str) -> OutboxMessage:
    message = await db.outbox.by_dedupe_key(key)
    assert message is not None
    return message


async def test_enqueue_all_queues_in_order_and_skips_known_keys(db: Database) -> None:
    assert await _enqueue(db, "paid:2")
    messages = [NewMessage(f"paid:{n}", 100 + n, "payment", "{}") for n in (1, 2, 3, 3)]
    async with db.write() as tx:
        assert await tx.outbox.enqueue_all(messages, now=NOW) == 2
    queued = [await _message(db, key) for key in ("paid:2", "paid:1", "paid:3")]
    assert [message.chat_id for message in queued] == [100, 101, 103]
    assert queued[0].id < queued[1].id < queued[2].id


async def test_enqueue_dedupes_on_the_key(db: Database) -> None:
    assert await _enqueue(db, "paid:1")
    assert not await _enqueue(db, "paid:1", at=timedelta(minutes=1))
    message = await _message(db, "paid:1")
    assert (message.chat_id, message.kind, message.payload) == (
        100,
        "payment",
        '{"key": "paid:1"}',
    )
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.PENDING,
        0,
        None,
    )
    assert message.next_attempt_at == message.created_at == NOW
    assert await db.outbox.get(message.id) == message
    assert await db.outbox.count() == 1
    assert await db.outbox.by_dedupe_key("paid:2") is None


async def test_claim_takes_due_messages_oldest_first_once(db: Database) -> None:
    for key in ("a", "b", "c"):
        await _enqueue(db, key)
    await _enqueue(db, "future", at=timedelta(minutes=5))
    a, b, c = [(await _message(db, key)).id for key in ("a", "b", "c")]

    assert await _claim(db, limit=2) == [a, b]
    assert await _claim(db, limit=10) == [c]
    assert await _claim(db, limit=10) == []
    claimed = await _message(db, "a")
    assert (claimed.status, claimed.attempts) == (OutboxStatus.SENDING, 1)
    assert await db.outbox.pending_count() == 4
    assert await db.outbox.next_due_at() == NOW + timedelta(minutes=5)


async def test_a_rescheduled_message_goes_before_newer_ones_when_due(db: Database) -> None:
    await _enqueue(db, "old")
    (old,) = await _claim(db)
    async with db.write() as tx:
        await tx.outbox.reschedule(
            [old], next_attempt_at=NOW + timedelta(seconds=30), error="429 retry after 30"
        )
    await _enqueue(db, "new", at=timedelta(seconds=10))
    new = (await _message(db, "new")).id

    assert await _claim(db, at=timedelta(seconds=20)) == [new]
    assert await _claim(db, at=timedelta(seconds=30)) == [old]
    retried = await _message(db, "old")
    assert (retried.attempts, retried.last_error) == (2, "429 retry after 30")


async def test_mark_sent_several_messages_at_once(db: Database) -> None:
    for key in ("a", "b", "c"):
        await _enqueue(db, key)
    a, b, _ = await _claim(db)
    sent_at = NOW + timedelta(seconds=2)
    async with db.write() as tx:
        await tx.outbox.mark_sent([a, b], telegram_message_id=777, now=sent_at)
        await tx.outbox.mark_sent([], telegram_message_id=1, now=sent_at)
    for key in ("a", "b"):
        message = await _message(db, key)
        assert (message.status, message.telegram_message_id, message.sent_at) == (
            OutboxStatus.SENT,
            777,
            sent_at,
        )
    assert (await _message(db, "c")).status is OutboxStatus.SENDING
    assert await db.outbox.count(OutboxStatus.SENT) == 2
    assert await db.outbox.pending_count() == 1


async def test_mark_failed_keeps_the_message_and_its_error(db: Database) -> None:
    await _enqueue(db, "a")
    (a,) = await _claim(db)
    async with db.write() as tx:
        await tx.outbox.mark_failed([a], error="403 Forbidden: bot was blocked by the user")
    failed = await _message(db, "a")
    assert (failed.status, failed.last_error) == (
        OutboxStatus.FAILED,
        "403 Forbidden: bot was blocked by the user",
    )
    assert await db.outbox.pending_count() == 0
    assert await db.outbox.next_due_at() is None
    assert await _claim(db, at=timedelta(days=1)) == []


async def test_reset_sending_recovers_claims_a_crash_left_behind(db: Database) -> None:
    for key in ("a", "b", "c"):
        await _enqueue(db, key)
    await _claim(db, limit=2)
    async with db.write() as tx:
        assert await tx.outbox.reset_sending() == 2
        assert await tx.outbox.reset_sending() == 0
    assert await db.outbox.count(OutboxStatus.PENDING) == 3
    assert await db.outbox.count(OutboxStatus.SENDING) == 0
    assert len(await _claim(db)) == 3
    assert (await _message(db, "a")).attempts == 2


async def test_a_sent_message_is_never_put_back_or_failed(db: Database) -> None:
    await _enqueue(db, "a")
    (a,) = await _claim(db)
    async with db.write() as tx:
        await tx.outbox.mark_sent([a], telegram_message_id=5, now=NOW)
        await tx.outbox.reschedule([a], next_attempt_at=NOW, error="bot stopped")
        await tx.outbox.mark_failed([a], error="late")

    assert (await _message(db, "a")).status is OutboxStatus.SENT


async def test_a_message_can_be_queued_for_later_and_released_with_a_new_payload(
    db: Database,
) -> None:
    later = NOW + timedelta(minutes=1)
    messages = [
        NewMessage("payment:a", 100, "payment", '{"v": 1}', due_at=later),
        NewMessage("payment:b", 100, "payment", '{"v": 1}', due_at=later),
        NewMessage("alert:x", 100, "text", "{}"),
    ]
    async with db.write() as tx:
        await tx.outbox.enqueue_all(messages, now=NOW)
    assert len(await _claim(db)) == 1  # the alert alone is due now
    a = await _message(db, "payment:a")
    b = await _message(db, "payment:b")
    assert a.next_attempt_at == later

    held = NewMessage("payment:c", 300, "payment", '{"v": 1}', due_at=later)
    async with db.write() as tx:
        await tx.outbox.enqueue_all([held], now=NOW)
        await tx.outbox.hold_chat(300, error="blocked")
    c = await _message(db, "payment:c")

    soon = NOW + timedelta(seconds=5)
    async with db.write() as tx:
        await tx.outbox.claim_due(now=later, limit=1)  # b waits; a is being sent
        await tx.outbox.release(
            [(a.id, '{"v": 2}'), (b.id, '{"v": 2}'), (c.id, '{"v": 2}')], now=soon
        )
    assert (await _message(db, "payment:a")).payload == '{"v": 1}'  # being sent: unchanged
    released = await _message(db, "payment:b")
    assert (released.payload, released.next_attempt_at) == ('{"v": 2}', soon)
    still_held = await _message(db, "payment:c")  # it waits for its chat, with the new payload
    assert (still_held.status, still_held.payload) == (OutboxStatus.HELD, '{"v": 2}')

    found = await db.outbox.by_dedupe_keys(["payment:a", "payment:b", "payment:d"])
    assert set(found) == {"payment:a", "payment:b"}
    assert found["payment:a"].status is OutboxStatus.SENDING


class Listener:
    """Counts the calls a database makes to it after commits."""

    def __init__(self, db: Database) -> None:
        self.calls = 0
        db.add_outbox_listener(self)

    def __call__(self) -> None:
        self.calls += 1


async def test_a_commit_that_queued_messages_tells_the_listeners_once(db: Database) -> None:
    first, second = Listener(db), Listener(db)
    async with db.write() as tx:
        await tx.outbox.enqueue_all(
            [NewMessage(f"paid:{n}", 100, "payment", "{}") for n in (1, 2)], now=NOW
        )
        await tx.outbox.enqueue(
            dedupe_key="paid:3", chat_id=100, kind="payment", payload="{}", now=NOW
        )
        assert first.calls == 0  # not before the commit
    assert (first.calls, second.calls) == (1, 1)

    # Due later (a payment waiting for confirmation): told too, so its time is learnt.
    later = NewMessage("paid:4", 100, "payment", "{}", due_at=NOW + timedelta(minutes=1))
    async with db.write() as tx:
        await tx.outbox.enqueue_all([later], now=NOW)
    assert first.calls == 2


async def test_a_rolled_back_transaction_tells_nobody(db: Database) -> None:
    listener = Listener(db)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.write() as tx:
            await tx.outbox.enqueue(dedupe_key="k", chat_id=1, kind="text", payload="{}", now=NOW)
            raise Boom
    assert await db.outbox.count() == 0
    assert listener.calls == 0


@pytest.mark.sqlite_only  # a COMMIT made to fail after it committed: SQLite's is one call
async def test_a_commit_that_failed_after_queueing_still_tells_the_listeners(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = Listener(db)
    real_commit = SqliteSql.commit

    async def committed_then_lost(self: SqliteSql) -> None:
        await real_commit(self)
        raise DatabaseError("connection lost during COMMIT")  # the outcome looks unknown

    monkeypatch.setattr(SqliteSql, "commit", committed_then_lost)
    with pytest.raises(DatabaseError, match="during COMMIT"):
        async with db.write() as tx:
            await tx.outbox.enqueue(dedupe_key="k", chat_id=1, kind="text", payload="{}", now=NOW)
    assert await db.outbox.count() == 1  # it did commit: whoever delivers must look
    assert listener.calls == 1


async def test_a_write_that_queues_nothing_tells_nobody(db: Database) -> None:
    assert await _enqueue(db, "paid:1")
    listener = Listener(db)

    assert not await _enqueue(db, "paid:1")  # known already: nothing queued
    [claimed] = await _claim(db)
    async with db.write() as tx:
        await tx.outbox.mark_sent([claimed], telegram_message_id=7, now=NOW)
        await tx.outbox.enqueue(
            dedupe_key="later", chat_id=5, kind="text", payload="{}", now=NOW, held=True
        )
        await tx.invites.create(token="t1", created_by=1, now=NOW, expires_at=NOW)
    assert listener.calls == 0

    async with db.write() as tx:  # the held message becomes due: told
        assert await tx.outbox.release_chat(5, now=NOW) == 1
    assert listener.calls == 1


async def test_a_failing_listener_leaves_the_commit_and_the_others_alone(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("listener bug")

    db.add_outbox_listener(broken)
    listener = Listener(db)
    assert await _enqueue(db, "paid:1")  # no exception: the transaction is committed

    assert listener.calls == 1
    assert "an outbox listener failed" in caplog.text
    db.remove_outbox_listener(broken)
    assert await _enqueue(db, "paid:2")
    assert listener.calls == 2


async def test_a_message_awaiting_a_charge_moves_only_when_pivot_decides(db: Database) -> None:
    listener = Listener(db)
    messages = [
        NewMessage("receipt:c1:7", 7, "text", "{}", awaiting_charge="c1"),
        NewMessage("receipt:c2:7", 7, "text", "{}", awaiting_charge="c2"),
        NewMessage("receipt:c3:8", 8, "text", "{}", awaiting_charge="c3"),
    ]
    async with db.write() as tx:
        assert await tx.outbox.enqueue_all(messages, now=NOW, held=True) == 3
    assert listener.calls == 0  # nothing is due
    assert {(await _message(db, m.dedupe_key)).status for m in messages} == {OutboxStatus.AWAITING}
    assert (await _message(db, "receipt:c1:7")).awaiting_charge == "c1"

    # Nothing a chat or a clock does moves them: not a claim, a hold, a release, a pull.
    far = NOW + timedelta(days=30)
    async with db.write() as tx:
        assert await tx.outbox.claim_due(now=far, limit=10) == []
        assert await tx.outbox.hold_chat(7, error="blocked") == 0
        assert await tx.outbox.release_chat(7, now=far) == 0
        assert await tx.outbox.pull_forward(after=NOW, now=far) == 0
    assert await db.outbox.next_due_at() is None
    assert await db.outbox.pending_count() == 0

    soon = NOW + timedelta(seconds=3)
    async with db.write() as tx:
        assert await tx.outbox.release_awaiting(["c1", "c9"], now=soon) == 1
        assert await tx.outbox.fail_awaiting(["c2"], error="refuted") == 1
        assert await tx.outbox.release_awaiting(["c2"], now=soon) == 0  # decided for good
    assert listener.calls == 1
    released = await _message(db, "receipt:c1:7")
    assert (released.status, released.next_attempt_at) == (OutboxStatus.PENDING, soon)
    failed = await _message(db, "receipt:c2:7")
    assert (failed.status, failed.last_error) == (OutboxStatus.FAILED, "refuted")
    assert (await _message(db, "receipt:c3:8")).status is OutboxStatus.AWAITING
    assert await _claim(db, at=timedelta(seconds=3)) == [released.id]


async def test_unsent_in_chats_finds_a_prefix_in_those_chats_not_yet_sent(db: Database) -> None:
    messages = [
        NewMessage("receipt:a:1", 1, "text", "{}"),
        NewMessage("receipt:b:1", 1, "text", "{}", awaiting_charge="b"),
        NewMessage("receipt:c:1", 1, "text", "{}"),
        NewMessage("payment:a", 1, "payment", "{}"),
        NewMessage("receipt:a:2", 2, "text", "{}"),
    ]
    async with db.write() as tx:
        await tx.outbox.enqueue_all(messages, now=NOW)
        sent = await tx.outbox.by_dedupe_key("receipt:c:1")
        assert sent is not None
        await tx.outbox.mark_sent([sent.id], telegram_message_id=9, now=NOW)

    async with db.write() as tx:
        found = await tx.outbox.unsent_in_chats([1], key_prefix="receipt:")
    assert sorted(key for _, key in found) == ["receipt:a:1", "receipt:b:1"]
