"""What only PostgreSQL does: URLs and their errors, NOTIFY between processes, writers of
several processes one at a time, the leader lease (docs/storage.md)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from storage import (
    Database,
    DatabaseError,
    DatabaseRefusedError,
    DatabaseTooNewError,
    DatabaseUnreachableError,
    DatabaseUrlError,
    NewMessage,
    is_postgres_url,
)
from storage import _engine as engine_module
from storage import _postgres as postgres_module
from tests.standins import PostgresServer

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
DEADLINE = 10.0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _name(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def _admin(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://kb:secret@127.0.0.1:5432", "names no database"),
        ("postgresql://kb:secret@127.0.0.1:5432/", "names no database"),
        ("postgresql://kb:secret@127.0.0.1:port/kodebayar", "not a valid URL"),
    ],
)
async def test_a_url_that_names_no_database_is_refused_in_one_line(url: str, says: str) -> None:
    with pytest.raises(DatabaseUrlError, match=says) as caught:
        await Database.open(url)
    assert "secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_only_postgresql_urls_are_urls() -> None:
    assert is_postgres_url("postgresql://h/db")
    assert is_postgres_url("postgres://h/db")
    assert not is_postgres_url("./data/kodebayar.db")
    assert not is_postgres_url("postgresql.db")


async def test_an_unreachable_server_is_told_apart_and_names_no_password() -> None:
    url = f"postgresql://kb:s3cret-pw@127.0.0.1:{_closed_port()}/kodebayar"
    with pytest.raises(DatabaseUnreachableError, match=r"cannot reach kb@127\.0\.0\.1") as caught:
        await Database.open(url)
    assert "s3cret-pw" not in str(caught.value)


async def test_a_refused_password_is_told_apart_and_not_repeated(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    url = postgres_server.url(database, password="not-the-password")
    with pytest.raises(DatabaseRefusedError, match="refused the connection") as caught:
        await Database.open(url)
    assert "not-the-password" not in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_an_unknown_database_is_refused(postgres_server: PostgresServer) -> None:
    with pytest.raises(DatabaseRefusedError, match="does not exist"):
        await Database.open(postgres_server.url("no_such_database"))


async def test_a_database_from_a_newer_kodebayar_is_refused_untouched(postgres_url: str) -> None:
    async with await Database.open(postgres_url) as db:
        assert await db.schema_version() >= 1
        assert db.engine == "postgresql"
    admin = await _admin(postgres_url)
    try:
        await admin.execute("UPDATE kodebayar_schema SET version = 999")
        with pytest.raises(DatabaseTooNewError, match="999"):
            await Database.open(postgres_url)
        assert await admin.fetchval("SELECT version FROM kodebayar_schema") == 999
    finally:
        await admin.close()


async def test_processes_starting_together_migrate_once(empty_postgres_url: str) -> None:
    postgres_url = empty_postgres_url
    first, second = await asyncio.gather(Database.open(postgres_url), Database.open(postgres_url))
    try:
        assert await first.schema_version() == await second.schema_version()
        admin = await _admin(postgres_url)
        try:
            assert await admin.fetchval("SELECT count(*) FROM kodebayar_schema") == 1
        finally:
            await admin.close()
    finally:
        await first.close()
        await second.close()


@pytest.fixture
async def processes(postgres_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two processes' databases on the same PostgreSQL database, closed after the test."""
    async with (
        await Database.open(postgres_url) as first,
        await Database.open(postgres_url) as second,
    ):
        yield first, second


class _Calls:
    def __init__(self) -> None:
        self.count = 0
        self.changed = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self.changed.set()


async def test_a_commit_that_queued_messages_wakes_the_other_processes_once(
    processes: tuple[Database, Database],
) -> None:
    writer, leader = processes
    here, there = _Calls(), _Calls()
    writer.add_outbox_listener(here)
    leader.add_outbox_listener(there)
    async with writer.write() as tx:
        await tx.outbox.enqueue_all([NewMessage("k1", 7, "text", "{}")], now=NOW)
    await asyncio.wait_for(there.changed.wait(), DEADLINE)
    # A write that queues nothing tells nobody, so the next wake is the next queue.
    async with writer.write() as tx:
        await tx.outbox.enqueue_all([NewMessage("k1", 7, "text", "{}")], now=NOW)
    there.changed.clear()
    async with writer.write() as tx:
        await tx.outbox.enqueue_all([NewMessage("k2", 7, "text", "{}")], now=NOW)
    await asyncio.wait_for(there.changed.wait(), DEADLINE)
    assert (here.count, there.count) == (2, 2)


async def test_a_rolled_back_queue_wakes_nobody_anywhere(
    processes: tuple[Database, Database],
) -> None:
    writer, leader = processes
    there = _Calls()
    leader.add_outbox_listener(there)
    with pytest.raises(RuntimeError):
        async with writer.write() as tx:
            await tx.outbox.enqueue_all([NewMessage("k1", 7, "text", "{}")], now=NOW)
            raise RuntimeError("changed my mind")
    # A later queue arrives alone: the rolled back one never notified.
    async with writer.write() as tx:
        await tx.outbox.enqueue_all([NewMessage("k2", 7, "text", "{}")], now=NOW)
    await asyncio.wait_for(there.changed.wait(), DEADLINE)
    assert there.count == 1
    assert await leader.outbox.by_dedupe_key("k1") is None


async def test_writers_of_two_processes_run_one_at_a_time(
    processes: tuple[Database, Database],
) -> None:
    first, second = processes
    order: list[str] = []
    inside = asyncio.Event()
    leave = asyncio.Event()

    async def holder() -> None:
        async with first.write() as tx:
            await tx.outbox.enqueue_all([NewMessage("a", 1, "text", "{}")], now=NOW)
            inside.set()
            await leave.wait()
            order.append("first commits")

    async def follower() -> None:
        await inside.wait()
        async with second.write() as tx:
            order.append("second writes")
            # It sees what the first committed: the lock is taken before any read.
            assert await tx.outbox.by_dedupe_key("a") is not None

    holding = asyncio.create_task(holder())
    following = asyncio.create_task(follower())
    await inside.wait()
    done, _ = await asyncio.wait({following}, timeout=0.5)
    assert not done, "the second process wrote while the first held the write lock"
    leave.set()
    await asyncio.wait_for(asyncio.gather(holding, following), DEADLINE)
    assert order == ["first commits", "second writes"]


async def test_a_writer_behind_another_process_fails_within_the_budget(
    monkeypatch: pytest.MonkeyPatch, processes: tuple[Database, Database]
) -> None:
    monkeypatch.setattr(engine_module, "WRITE_WAIT_MS", 1000)
    first, second = processes
    inside, leave = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with first.write():
            inside.set()
            await leave.wait()

    holding = asyncio.create_task(holder())
    await inside.wait()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DatabaseError, match="locked"):
        async with second.write():
            pass
    assert loop.time() - started < 3.0
    leave.set()
    await holding
    async with second.write() as tx:  # the failed writer left its connection usable
        await tx.outbox.enqueue_all([NewMessage("b", 1, "text", "{}")], now=NOW)


async def test_a_writer_that_stalls_holding_the_write_lock_is_cut_off_and_the_others_go_on(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A process frozen inside a write (SIGSTOP, a paused VM, a blocked event loop) keeps its
    # socket open, so neither keepalives nor a closed socket free the lock it holds.
    monkeypatch.setattr(postgres_module, "IDLE_IN_WRITE_MS", 1000)
    monkeypatch.setattr(engine_module, "WRITE_WAIT_MS", 1000)
    async with (
        await Database.open(postgres_url) as frozen,
        await Database.open(postgres_url) as other,
    ):
        inside, thaw = asyncio.Event(), asyncio.Event()

        async def stalled_writer() -> None:
            async with frozen.write() as tx:
                await tx.outbox.enqueue_all([NewMessage("half", 1, "text", "{}")], now=NOW)
                inside.set()
                await thaw.wait()

        stalled = asyncio.create_task(stalled_writer())
        await inside.wait()

        async def other_writes() -> None:
            while True:
                try:
                    async with other.write() as tx:
                        await tx.outbox.enqueue_all([NewMessage("b", 1, "text", "{}")], now=NOW)
                    return
                except DatabaseError:
                    await asyncio.sleep(0.1)

        try:
            await asyncio.wait_for(other_writes(), DEADLINE)
        finally:
            thaw.set()
        with pytest.raises(DatabaseError):
            await stalled  # its transaction was ended by the server: nothing of it commits
        assert await other.outbox.by_dedupe_key("half") is None
        async with frozen.write() as tx:  # and its process writes again afterwards
            await tx.outbox.enqueue_all([NewMessage("c", 1, "text", "{}")], now=NOW)


async def test_reads_outside_a_transaction_cannot_write(postgres_url: str) -> None:
    async with await Database.open(postgres_url) as db:
        with pytest.raises(DatabaseError, match="read-only"):
            await db.outbox.release_chat(7, now=NOW)


async def test_the_lease_has_one_holder_and_passes_on_when_it_is_given_up(
    processes: tuple[Database, Database],
) -> None:
    first, second = processes
    mine, theirs = first.lease(), second.lease()
    await asyncio.wait_for(mine.acquire(), DEADLINE)
    assert mine.held
    waiting = asyncio.create_task(theirs.acquire())
    done, _ = await asyncio.wait({waiting}, timeout=0.5)
    assert not done and not theirs.held
    await mine.release()
    await asyncio.wait_for(waiting, DEADLINE)
    assert theirs.held and not mine.held


async def test_the_lease_passes_on_when_its_holder_closes_its_database(postgres_url: str) -> None:
    first = await Database.open(postgres_url)
    async with await Database.open(postgres_url) as second:
        await asyncio.wait_for(first.lease().acquire(), DEADLINE)
        theirs = second.lease()
        waiting = asyncio.create_task(theirs.acquire())
        await first.close()
        await asyncio.wait_for(waiting, DEADLINE)
        assert theirs.held


async def test_a_lease_whose_session_dies_is_lost_and_taken_over(
    postgres_server: PostgresServer, postgres_url: str, processes: tuple[Database, Database]
) -> None:
    first, second = processes
    mine, theirs = first.lease(), second.lease()
    await asyncio.wait_for(mine.acquire(), DEADLINE)
    waiting = asyncio.create_task(theirs.acquire())
    async with first.write() as tx:
        assert await tx.holds(mine)
    # The holder's session ends as a dead process's or a cut network's would.
    assert postgres_server.end_lease_sessions(_name(postgres_url)) == 1
    # Before the holder notices, the database already says it does not hold the lease:
    # what fences a stepping-down leader's claims.
    async with first.write() as tx:
        assert not await tx.holds(mine)
    await asyncio.wait_for(mine.lost(), DEADLINE)
    assert not mine.held
    await asyncio.wait_for(waiting, DEADLINE)
    assert theirs.held
    async with second.write() as tx:
        assert await tx.holds(theirs)


async def test_a_follower_waiting_through_many_slices_still_takes_the_lease_over(
    processes: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each slice of the wait is on a fresh session: one gone silent is never waited on for ever.
    monkeypatch.setattr(postgres_module, "_LEASE_WAIT_SLICE", 0.2)
    first, second = processes
    mine, theirs = first.lease(), second.lease()
    await asyncio.wait_for(mine.acquire(), DEADLINE)
    waiting = asyncio.create_task(theirs.acquire())
    done, _ = await asyncio.wait({waiting}, timeout=1.0)  # five slices and more
    assert not done and not theirs.held
    await mine.release()
    await asyncio.wait_for(waiting, DEADLINE)
    assert theirs.held
