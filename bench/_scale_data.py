"""The scale benchmark's database: 10k sellers, 100k codes, 1M charges, generated once and cached.

The schema comes from ``Database.open`` (storage's own migrations); the rows are bulk inserted
with plain sqlite3 in one transaction, which is ~50x faster than the repositories and is not
what is measured. The file is cached under ``bench/.cache/`` keyed by the schema version and
this generator's version, so a second ``make bench`` starts at once. ``load_postgres`` puts the
same rows into a PostgreSQL database, by COPY (its server is a throwaway one: nothing cached).

Every charge also has what its callback left behind, since nothing is ever pruned: its inbox
entry (a callback body of the usual size) and its payment message, sent. The data is skewed
the way real use is, so the queries meet their worst case: one big seller
has 1,000 codes, one of them paid 20,000 times, and 1,000 payments on the busiest day; everyone
else has ~10 codes with ~9 payments each, spread over a year.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from bench._common import CACHE, say
from bot.clock import day_bounds
from bot.notifications import PaymentNotice
from pivot_client.banks import DEFAULT_VA_RULES
from storage import Database
from storage._migrations import MIGRATIONS
from storage._values import moment_to_db
from tests.standins import charge_success_body

__all__ = ["ScaleData", "load_postgres", "scale_database"]

GENERATOR_VERSION = 1  # bump when the rows change, so a stale cache is not reused
SELLERS = 10_000
CODES = 100_000
CHARGES = 1_000_000
BIG_SELLER_CODES = 1_000
HOT_CODE_CHARGES = 20_000
BIG_SELLER_CHARGES = 100_000  # the hot code's included
BIG_SELLER_BUSY_DAY = 1_000  # of those, paid on the busy day
ZONE = ZoneInfo("Asia/Jakarta")
# Fixed, so every machine generates the same rows: noon in Jakarta on the busy day.
BUSY_MOMENT = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
_BODY = charge_success_body("sess-000000000001", "kb" + "0" * 30, [("CHARGE-ID", 25_000)])
_NOTICE = PaymentNotice(
    reference="ch-0000000001",
    amount=25_000,
    customer="Pelanggan 123456",
    kind="VA",
    bank="BCA",
    paid_at=BUSY_MOMENT,
    count=9,
    total=225_000,
    language="id",
    timezone=ZONE.key,
).model_dump_json()
_QRIS = "00020101021126570011ID.CO.QRIS.WWW0118936000000000000000000215SIMULASI0303UMI"


@dataclass(frozen=True)
class ScaleData:
    """Where the database is and who to ask about."""

    path: str  # the SQLite file, or the PostgreSQL database's URL
    big_seller: int  # telegram id of the seller with 1,000 codes
    hot_code: int  # the code paid 20,000 times
    typical_seller: int
    typical_code: int
    busy_moment: str  # ISO time on the busy day (for /today's day bounds)

    @property
    def busy_day(self) -> tuple[datetime, datetime]:
        """The busy day's bounds in Jakarta, as ``/today`` computes them."""
        return day_bounds(datetime.fromisoformat(self.busy_moment), ZONE)


_SELLER_COLUMNS = (
    "telegram_id",
    "chat_id",
    "name",
    "username",
    "language",
    "timezone",
    "role",
    "status",
    "invited_by",
    "created_at",
)
_CODE_COLUMNS = (
    "id",
    "seller_id",
    "kind",
    "bank",
    "va_suffix",
    "customer",
    "amount",
    "request_key",
    "client_reference_id",
    "pivot_session_id",
    "qr_content",
    "va_number",
    "merchant_name",
    "status",
    "created_at",
    "deactivated_at",
    "simulation",
)
_CHARGE_COLUMNS = (
    "id",
    "pivot_charge_id",
    "code_id",
    "seller_id",
    "session_id",
    "client_reference_id",
    "amount",
    "paid_at",
    "channel",
    "issuer",
    "reference",
    "source",
    "recorded_at",
)
_INBOX_COLUMNS = ("id", "received_at", "body", "outcome", "detail")
_OUTBOX_COLUMNS = (
    "id",
    "dedupe_key",
    "chat_id",
    "kind",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "telegram_message_id",
    "created_at",
    "sent_at",
)
# Tables whose ids the generator gives: on PostgreSQL their identity sequences move past them.
_GIVEN_IDS = ("codes", "charges", "callback_inbox", "outbox")
Table = tuple[str, tuple[str, ...], Iterable[tuple[object, ...]]]  # name, columns, rows


def _seller_rows() -> list[tuple[object, ...]]:
    created = moment_to_db(BUSY_MOMENT - YEAR)
    return [
        (
            1_000_000 + n,
            1_000_000 + n,
            f"Seller {n}",
            None,
            "id",
            ZONE.key,
            "seller",
            "active",
            None,
            created,
        )
        for n in range(SELLERS)
    ]


def _code_rows(rng: random.Random) -> tuple[list[tuple[object, ...]], list[int]]:
    """Codes 1..CODES and the seller of each (index = code id)."""
    banks = sorted(DEFAULT_VA_RULES)
    owners = [0] * (CODES + 1)
    rows: list[tuple[object, ...]] = []
    start = moment_to_db(BUSY_MOMENT - YEAR)
    for code_id in range(1, CODES + 1):
        if code_id <= BIG_SELLER_CODES:
            seller = 1_000_000
        else:
            seller = 1_000_001 + (code_id - BIG_SELLER_CODES) % (SELLERS - 1)
        owners[code_id] = seller
        qris = code_id % 2 == 0
        status = "deactivated" if code_id % 50 == 0 else "active"
        created = start + code_id * 300_000_000  # five minutes apart, in id order
        rows.append(
            (
                code_id,
                seller,
                "QRIS" if qris else "VA",
                None if qris else banks[code_id % 8],
                None if qris else code_id,
                f"Pelanggan {rng.randrange(10**6)}",
                rng.choice((None, 25_000, 50_000, 150_000)),
                f"rk{code_id}",
                f"kb{code_id:030d}",
                f"sess-{code_id:012d}",
                f"{_QRIS}{code_id:012d}" if qris else None,
                None if qris else f"7663{code_id:012d}",
                "SIMULASI" if qris else None,
                status,
                created,
                created + 3_600_000_000 if status == "deactivated" else None,
                1,
            )
        )
    return rows, owners


def _charge_plan(rng: random.Random) -> list[tuple[int, int]]:
    """(code id, paid_at) for every charge, in insertion order."""
    year_start, busy = moment_to_db(BUSY_MOMENT - YEAR), moment_to_db(BUSY_MOMENT)
    day_start, day_end = (moment_to_db(bound) for bound in day_bounds(BUSY_MOMENT, ZONE))
    plan = [(1, rng.randrange(year_start, busy)) for _ in range(HOT_CODE_CHARGES)]
    for _ in range(BIG_SELLER_BUSY_DAY):
        plan.append((rng.randrange(1, BIG_SELLER_CODES + 1), rng.randrange(day_start, day_end)))
    for _ in range(BIG_SELLER_CHARGES - len(plan)):
        plan.append((rng.randrange(2, BIG_SELLER_CODES + 1), rng.randrange(year_start, busy)))
    for _ in range(CHARGES - len(plan)):
        plan.append(
            (rng.randrange(BIG_SELLER_CODES + 1, CODES + 1), rng.randrange(year_start, busy))
        )
    rng.shuffle(plan)  # arrival order is not code order
    return plan


def _body(number: int) -> bytes:
    """A callback body of the usual size (one VA charge), unique to the charge."""
    return _BODY.replace(b"CHARGE-ID", f"ch-{number:010d}".encode())


def _tables() -> Iterator[Table]:
    """Every table's rows, in an order the foreign keys allow, generated as they are consumed;
    charge ``n`` has id ``n``, and so have its inbox entry and its message."""
    rng = random.Random(20261124)
    codes, owners = _code_rows(rng)
    plan = _charge_plan(rng)
    yield "sellers", _SELLER_COLUMNS, _seller_rows()
    yield "codes", _CODE_COLUMNS, codes
    yield (
        "charges",
        _CHARGE_COLUMNS,
        (
            (
                number,
                f"ch-{number:010d}",
                code_id,
                owners[code_id],
                f"sess-{code_id:012d}",
                f"kb{code_id:030d}",
                10_000 + number % 500 * 1_000,
                paid_at,
                "QRIS" if code_id % 2 == 0 else "BCA",
                None,
                f"{number:012d}",
                "callback",
                paid_at,
            )
            for number, (code_id, paid_at) in enumerate(plan, start=1)
        ),
    )
    yield (
        "callback_inbox",
        _INBOX_COLUMNS,
        (
            (number, paid_at, _body(number), "recorded", "ChargeSuccessEvent")
            for number, (_, paid_at) in enumerate(plan, start=1)
        ),
    )
    yield (
        "outbox",
        _OUTBOX_COLUMNS,
        (
            (
                number,
                f"payment:ch-{number:010d}",
                owners[code_id],
                "payment",
                _NOTICE,
                "sent",
                1,
                paid_at,
                number,
                paid_at,
                paid_at + 1_000_000,
            )
            for number, (code_id, paid_at) in enumerate(plan, start=1)
        ),
    )


# Each code's last payment, once the charges are in (the same SQL on both engines).
_LAST_PAYMENTS = (
    "UPDATE codes SET last_payment_at ="
    " (SELECT max(paid_at) FROM charges WHERE charges.code_id = codes.id)"
)


def _generate(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Fast and unsafe is fine here: a crash leaves a temp file that is simply regenerated.
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -400000")
        conn.execute("BEGIN")
        for table, columns, rows in _tables():
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)})"  # noqa: S608 - our own names
                f" VALUES ({', '.join('?' * len(columns))})",
                rows,
            )
        conn.execute(_LAST_PAYMENTS)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def load_postgres(url: str) -> ScaleData:
    """The same rows in the empty PostgreSQL database ``url`` (migrated here by
    ``Database.open``), by COPY; then vacuumed and analysed, as autovacuum would leave a
    database that has been in use."""
    started = time.perf_counter()
    await (await Database.open(url)).close()
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            for table, columns, rows in _tables():
                await conn.copy_records_to_table(table, records=rows, columns=columns)
            await conn.execute(_LAST_PAYMENTS)
            for table in _GIVEN_IDS:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                    f" (SELECT max(id) FROM {table}))"
                )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    say(f"  loaded the data set into PostgreSQL in {time.perf_counter() - started:.0f} s")
    return _scale_data(url)


def _scale_data(target: str) -> ScaleData:
    """Who to ask about, in the database at ``target``."""
    return ScaleData(
        path=target,
        big_seller=1_000_000,
        hot_code=1,
        typical_seller=1_005_000,
        typical_code=50_001,
        busy_moment=BUSY_MOMENT.isoformat(),
    )


async def scale_database() -> ScaleData:
    """The cached database (generated first if needed) and the ids worth querying."""
    name = f"scale-schema{len(MIGRATIONS)}-gen{GENERATOR_VERSION}"
    path, meta = CACHE / f"{name}.db", CACHE / f"{name}.json"
    if path.exists() and meta.exists():
        return ScaleData(**json.loads(meta.read_text(encoding="utf-8")))
    building = CACHE / f"{name}.building.db"
    for leftover in CACHE.glob(f"{name}.building.db*"):
        leftover.unlink()
    started = time.perf_counter()
    await (await Database.open(building)).close()  # storage's schema, migrations and all
    _generate(building)
    building.replace(path)
    data = _scale_data(str(path))
    meta.write_text(json.dumps(asdict(data)), encoding="utf-8")
    say(f"  generated {path.name} in {time.perf_counter() - started:.0f} s (cached from now on)")
    return data
