"""PostgreSQL: a pool of connections through asyncpg, for several processes at once.

Every write transaction first takes one transaction-level advisory lock, so writers run one
at a time across every process, as they do on SQLite: each rule ``docs/money.md`` proves for
SQLite's single writer holds here unchanged, and the UNIQUE constraints still decide. Reads
use the pool and see the last committed state. A commit that queued outbox messages sends a
NOTIFY in the same transaction, so the process that delivers them wakes, whichever wrote them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from urllib.parse import unquote, urlsplit

import asyncpg

from ._engine import Engine, Lease
from ._errors import (
    ConstraintError,
    DatabaseError,
    DatabaseRefusedError,
    DatabaseTooNewError,
    DatabaseUnreachableError,
    DatabaseUrlError,
)
from ._outbox import QueueMark
from ._postgres_migrations import MIGRATIONS
from ._sql import Row, Sql

__all__ = ["PostgresEngine", "PostgresSql", "describe_url", "is_postgres_url", "postgres_text"]

logger = logging.getLogger(__name__)

_SCHEMES = ("postgresql", "postgres")
_CHANNEL = "kodebayar_outbox"
_CONNECT_TIMEOUT = 10.0
_POOL_SIZE = 10
# How often the leader proves it still holds its lease, and how long one proof may take.
_LEASE_CHECK_EVERY = 1.0
_LEASE_CHECK_TIMEOUT = 2.0
_LEASE_RETRY_EVERY = 0.5  # first wait after a failed attempt to reach the server
_LEASE_WAIT_SLICE = 5.0
# The server drops a leader's silent session after about 5 + 3 x 2 = 11 s, freeing the lease;
# by then the leader's own checks (above) have failed for ~8 s, so it has already stepped down.
_LEASE_KEEPALIVES = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}
# A write transaction left idle this long (ms) is ended by the server, freeing the write lock:
# a process frozen inside a write (SIGSTOP, a paused VM) keeps its socket open, and would
# otherwise stall every process's writers until it woke. Far past any writer's wait
# (``_engine.WRITE_WAIT_MS``); read at ``open``, so tests may shorten it.
IDLE_IN_WRITE_MS = 30_000
# Errors that mean the server could not be reached or went away: worth trying again.
_UNREACHABLE = (OSError, TimeoutError, asyncpg.CannotConnectNowError)
# Everything the driver raises: the server's errors, the client's own (a connection in a state
# it cannot use, as after the server ended its session mid-operation), a lost socket.
_DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    *_UNREACHABLE,
)
_REFUSED = (
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.InsufficientPrivilegeError,
)


def is_postgres_url(target: str) -> bool:
    """Whether ``target`` is a PostgreSQL URL rather than a SQLite path."""
    return target.split(":", 1)[0].lower() in _SCHEMES and "://" in target


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name``, unlikely to meet another app's."""
    digest = hashlib.sha256(f"kodebayar:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_CONSTRAINT_KINDS = {
    "23505": "UNIQUE",
    "23503": "FOREIGN KEY",
    "23514": "CHECK",
    "23502": "NOT NULL",
}
_WRITE_KEY = _lock_key("write")
_MIGRATE_KEY = _lock_key("migrate")

_IN_IDS = re.compile(r"\s+IN\s+\(SELECT value FROM json_each\((\?\d*)\)\)")
_PARAMETER = re.compile(r"\?(\d*)")


@functools.lru_cache(maxsize=1024)
def postgres_text(sql: str) -> str:
    """``sql`` in PostgreSQL's words: ``$n`` parameters, and an ``Ids`` list as ``= ANY(...)``."""
    sql = _IN_IDS.sub(r" = ANY(\1)", sql)
    unnumbered = itertools.count(1)
    return _PARAMETER.sub(lambda match: f"${match.group(1) or next(unnumbered)}", sql)


def describe_url(url: str) -> str:
    """Where ``url`` points, for messages: user, host, port and database, never the password."""
    parts = urlsplit(url)
    user = f"{unquote(parts.username)}@" if parts.username else ""
    host = parts.hostname or "localhost"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ":?"
    return f"{user}{host}{port}{parts.path or '/'}"


def _checked_url(url: str) -> str:
    """``url`` if it can name a PostgreSQL database; else DatabaseUrlError saying why."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise DatabaseUrlError(f"not a valid URL ({exc})") from None
    if parts.scheme.lower() not in _SCHEMES:
        raise DatabaseUrlError("it must start with postgresql://")
    if not parts.path.strip("/"):
        raise DatabaseUrlError(
            "it names no database: end it with /<database>, as in "
            "postgresql://user:password@host:5432/kodebayar"
        )
    return url


def _wrap(error: BaseException) -> DatabaseError:
    """The storage error that stands for a driver error, in one line (the server's DETAIL
    line may quote row values, such as a token: it stays on the ``__cause__``)."""
    message = (str(error).splitlines() or [type(error).__name__])[0]
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        # Worded as SQLite words it, so one message reads the same on either engine.
        kind = _CONSTRAINT_KINDS.get(error.sqlstate, "integrity")
        return ConstraintError(f"{kind} constraint failed: {error.constraint_name or message}")
    if isinstance(error, asyncpg.LockNotAvailableError):
        return DatabaseError("database is locked: other writers held it too long")
    if isinstance(error, _REFUSED):
        return DatabaseRefusedError(message)
    if isinstance(error, (*_UNREACHABLE, asyncpg.ConnectionDoesNotExistError)):
        return DatabaseUnreachableError(message)
    return DatabaseError(message)


@contextmanager
def _wrapped_errors() -> Iterator[None]:
    """Re-raise the driver's errors as storage errors, with the original as the cause."""
    try:
        yield
    except _DRIVER_ERRORS as error:
        raise _wrap(error) from error


class PostgresSql(Sql):
    """Runs statements on one asyncpg connection, or on any connection of a pool."""

    __slots__ = ("_on",)

    def __init__(
        self, on: asyncpg.pool.PoolConnectionProxy[asyncpg.Record] | asyncpg.Pool[asyncpg.Record]
    ) -> None:
        self._on = on

    async def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        with _wrapped_errors():
            return list(await self._on.fetch(postgres_text(sql), *params))

    async def many(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        with _wrapped_errors():
            await self._on.executemany(postgres_text(sql), [tuple(each) for each in params])

    async def copy_in(
        self, table: str, columns: Sequence[str], records: Sequence[Sequence[object]]
    ) -> None:
        """Add ``records`` to ``table`` by COPY, one round trip for any number of rows."""
        with _wrapped_errors():
            await self._on.copy_records_to_table(table, records=records, columns=columns)


async def _connect(url: str, **settings: str) -> asyncpg.Connection:
    """One connection outside the pool (lease, notifications), errors wrapped."""
    with _wrapped_errors():
        return await asyncpg.connect(url, timeout=_CONNECT_TIMEOUT, server_settings=settings)


async def _migrate(pool: asyncpg.Pool) -> int:
    """Bring the database up to the newest migration, one transaction each; the version.

    A migration lock keeps two processes starting at once from running the same script.
    """
    async with pool.acquire() as conn:
        while True:
            async with conn.transaction():
                await conn.execute("SET TRANSACTION READ WRITE")
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATE_KEY)
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS kodebayar_schema (version INTEGER NOT NULL)"
                )
                version = await conn.fetchval("SELECT max(version) FROM kodebayar_schema") or 0
                if version > len(MIGRATIONS):
                    raise DatabaseTooNewError(version, len(MIGRATIONS))
                if version == len(MIGRATIONS):
                    return version
                await conn.execute(MIGRATIONS[version])
                await conn.execute("DELETE FROM kodebayar_schema")
                await conn.execute("INSERT INTO kodebayar_schema VALUES ($1)", version + 1)


class _AdvisoryLease(Lease):
    """A session advisory lock, held on a connection of its own for as long as it lives.

    The server frees it the moment that connection ends (a SIGKILLed holder's socket closes),
    and hands it at once to the process waiting in ``pg_advisory_lock``.
    """

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], key: int) -> None:
        self._connect = connect
        self._key = key
        self._conn: asyncpg.Connection | None = None
        self._pid: int | None = None  # the server process of the session holding the lock
        self._watch: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    @property
    def held(self) -> bool:
        return self._watch is not None and not self._lost.is_set()

    async def acquire(self) -> None:
        # The server answers the moment the holder's session ends: failover waits on no timer.
        # The wait is cut into slices, each on a fresh session, so that a session gone silent
        # under a waiting follower (a cut network) is replaced, not waited on for ever.
        delay = _LEASE_RETRY_EVERY
        while True:
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await self._connect()
                with _wrapped_errors():
                    try:
                        await self._conn.execute(
                            "SELECT pg_advisory_lock($1)", self._key, timeout=_LEASE_WAIT_SLICE
                        )
                    except TimeoutError:
                        await self._drop()
                        continue
                break
            except DatabaseError as exc:
                logger.warning(
                    "cannot wait for the leader lease (%s); again in %.0f s", exc, delay
                )
                await self._drop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        self._pid = self._conn.get_server_pid()
        self._lost.clear()
        self._watch = asyncio.create_task(self._keep(), name="lease watch")

    async def _keep(self) -> None:
        """Prove the session is alive every second; the first failure loses the lease."""
        assert self._conn is not None  # noqa: S101 - set by acquire
        try:
            while True:
                await asyncio.sleep(_LEASE_CHECK_EVERY)
                async with asyncio.timeout(_LEASE_CHECK_TIMEOUT):
                    await self._conn.fetchval("SELECT 1")
        except Exception as exc:  # any failure to prove it: another process may lead now
            logger.error("lost the leader lease: its database session failed (%s)", exc)
        self._lost.set()
        await self._drop()

    async def lost(self) -> None:
        await self._lost.wait()

    async def held_in(self, sql: Sql) -> bool:
        if self._pid is None or self._lost.is_set():
            return False
        # A bigint advisory key shows in pg_locks as its high and low halves, objsubid 1.
        return bool(
            await sql.integer(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = ? AND classid = ? AND objid = ? AND objsubid = 1",
                (self._pid, (self._key >> 32) & 0xFFFFFFFF, self._key & 0xFFFFFFFF),
            )
        )

    async def release(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        self._pid = None
        await self._drop()

    async def _drop(self) -> None:
        """Close the lease's connection, which frees the lock on the server."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                async with asyncio.timeout(_LEASE_CHECK_TIMEOUT):
                    await conn.close()
            except _DRIVER_ERRORS:
                conn.terminate()


class _Notifications:
    """LISTENs on a connection of its own, reconnecting when it drops, and calls back when
    another process queued outbox messages."""

    def __init__(self, url: str, token: str) -> None:
        self._url = url
        self._token = token
        self.on_queued: Callable[[], None] = _nothing
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen before returning, so that no commit after ``open`` goes unheard."""
        self._conn = await self._listen()
        self._task = asyncio.create_task(self._keep(), name="outbox notifications")

    async def _listen(self) -> asyncpg.Connection:
        conn = await _connect(self._url)
        try:
            with _wrapped_errors():
                await conn.add_listener(_CHANNEL, self._notified)
        except BaseException:
            conn.terminate()
            raise
        return conn

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if payload != self._token:  # our own commits told the listeners already
            self.on_queued()

    async def _keep(self) -> None:
        """Wait for the connection to end, then listen again, backing off while it fails."""
        while self._conn is not None:
            ended = asyncio.Event()
            self._conn.add_termination_listener(functools.partial(_set, ended))
            await ended.wait()
            self._conn.terminate()
            self._conn = None
            logger.warning("the connection listening for queued messages ended; reconnecting")
            delay = 1.0
            while self._conn is None:
                try:
                    self._conn = await self._listen()
                except DatabaseError as exc:
                    logger.warning(
                        "cannot listen for queued messages (%s); again in %.0f s", exc, delay
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
            self.on_queued()  # messages queued while no one listened: look once

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None


class PostgresEngine(Engine):
    """A PostgreSQL database shared by any number of Kodebayar processes."""

    name = "postgresql"

    def __init__(
        self, url: str, pool: asyncpg.Pool, notifications: _Notifications, token: str
    ) -> None:
        self._url = url
        self._pool = pool
        self.reader = PostgresSql(pool)
        self._notifications = notifications
        self._token = token
        self._leases: list[_AdvisoryLease] = []

    @classmethod
    async def open(cls, url: str) -> PostgresEngine:
        """Connect a pool to ``url`` and migrate; errors name the server, never the password."""
        where = describe_url(_checked_url(url))
        try:
            with _wrapped_errors():
                pool = await asyncpg.create_pool(
                    url,
                    min_size=1,
                    max_size=_POOL_SIZE,
                    timeout=_CONNECT_TIMEOUT,
                    statement_cache_size=512,
                    # Pool connections keep no session state (no LISTEN, no session lock, no
                    # SET): asyncpg's reset query would only cost a round trip per release.
                    reset=_keep_session,
                    # Like SQLite's read-only reader: only ``db.write()`` (BEGIN READ WRITE)
                    # may write, so a write through ``db.<repository>`` fails.
                    server_settings={
                        "application_name": "kodebayar",
                        "default_transaction_read_only": "on",
                        "idle_in_transaction_session_timeout": str(IDLE_IN_WRITE_MS),
                    },
                )
        except DatabaseRefusedError as exc:
            raise DatabaseRefusedError(f"{where} refused the connection: {exc}") from None
        except DatabaseError as exc:
            raise DatabaseUnreachableError(f"cannot reach {where}: {exc}") from None
        except ValueError as exc:  # asyncpg's own URL checks (sslmode=..., options)
            raise DatabaseUrlError(str(exc)) from None
        # Names this process in its NOTIFYs, so that it does not wake itself twice.
        token = uuid.uuid4().hex
        notifications = _Notifications(url, token)
        try:
            with _wrapped_errors():
                await _migrate(pool)
            await notifications.start()
        except BaseException:
            pool.terminate()
            raise
        return cls(url, pool, notifications, token)

    @asynccontextmanager
    async def transaction(self, budget_ms: int, mark: QueueMark) -> AsyncIterator[Sql]:
        started = asyncio.get_running_loop().time()
        try:
            conn = await self._pool.acquire(timeout=max(budget_ms, 1) / 1000)
        except TimeoutError:
            raise DatabaseError("database is busy: no connection came free in time") from None
        except _DRIVER_ERRORS as exc:
            raise _wrap(exc) from exc
        try:
            left_ms = budget_ms - int((asyncio.get_running_loop().time() - started) * 1000)
            try:
                with _wrapped_errors():
                    # One round trip: the lock waits at most what is left of the budget.
                    await conn.execute(
                        f"BEGIN READ WRITE; SET LOCAL lock_timeout = {max(left_ms, 1)};"
                        f" SELECT pg_advisory_xact_lock({_WRITE_KEY})"
                    )
                yield PostgresSql(conn)
            except BaseException:
                await _roll_back(conn)
                raise
            try:
                with _wrapped_errors():
                    # One round trip while the write lock is held; the token is hex.
                    notify = f"NOTIFY {_CHANNEL}, '{self._token}'; " if mark.queued else ""
                    await conn.execute(f"{notify}COMMIT")
            except BaseException:
                await _roll_back(conn)
                raise
        finally:
            await self._pool.release(conn)

    async def ping(self) -> None:
        await self.reader.integer("SELECT 1")

    async def schema_version(self) -> int:
        return await self.reader.integer("SELECT max(version) FROM kodebayar_schema")

    def lease(self, name: str) -> Lease:
        lease = _AdvisoryLease(
            functools.partial(_connect, self._url, **_LEASE_KEEPALIVES), _lock_key(f"lease:{name}")
        )
        self._leases.append(lease)
        return lease

    def listen(self, on_queued: Callable[[], None]) -> None:
        self._notifications.on_queued = on_queued

    async def close(self) -> None:
        for lease in self._leases:
            await lease.release()
        await self._notifications.close()
        await self._pool.close()


async def _keep_session(_conn: object) -> None:
    """What the pool does to a connection given back: nothing (see ``create_pool``)."""


def _nothing() -> None:
    """No one to tell yet."""


def _set(event: asyncio.Event, _conn: object) -> None:
    """A termination listener that sets ``event``."""
    event.set()


async def _roll_back(conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record]) -> None:
    """End a failed transaction; a connection that cannot is closed by the pool on release."""
    with suppress(*_DRIVER_ERRORS):
        await conn.execute("ROLLBACK")
