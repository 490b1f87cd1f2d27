"""The queries behind /codes, a code's payments, /today and the relay's claim use indexes.

Each case runs the real repository method, records the statements it sent, and asks SQLite for
their plans: a full scan of charges or outbox would make those paths slow at a million rows.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import pytest

from storage import Database, _sqlite
from tests.standins import NOW, add_code, add_seller, record_charge

# SQLite's plans; PostgreSQL's queries are timed at scale instead (BENCHMARKS.md).
pytestmark = pytest.mark.sqlite_only

_Run = Callable[[Database], Awaitable[object]]
_FULL_SCAN = re.compile(r"^SCAN (charges|outbox)\b|^SCAN \w+$")
# Partial indexes hold only the few rows a query wants: scanning one is not a full scan.
_PARTIAL_SCAN = re.compile(r"^SCAN \w+ USING INDEX charges_awaiting_confirmation$")


async def _claim(db: Database) -> object:
    async with db.write() as tx:
        return await tx.outbox.claim_due(now=NOW, limit=10)


async def _release_awaiting(db: Database) -> object:
    async with db.write() as tx:
        return await tx.outbox.release_awaiting(["c1"], now=NOW)


CASES: dict[str, tuple[_Run, set[str]]] = {
    "the /codes list": (
        lambda db: db.codes.list_for_seller(100, offset=0, limit=10),
        {"codes_by_seller", "COVERING INDEX charges_by_code"},
    ),
    "/codes <text>": (
        lambda db: db.codes.list_for_seller(100, offset=0, limit=10, customer_contains="an"),
        {"codes_by_seller", "COVERING INDEX charges_by_code"},
    ),
    "/codes <text>, how many": (
        lambda db: db.codes.count_for_seller(100, customer_contains="an"),
        {"codes_by_seller (seller_id=?)"},
    ),
    "a code's payments": (
        lambda db: db.charges.list_for_code(1, offset=0, limit=10),
        {"charges_by_code"},
    ),
    "a code's count and total": (
        lambda db: db.charges.stats_for_code(1),
        {"COVERING INDEX charges_by_code (code_id=?)"},
    ),
    "/today": (
        lambda db: db.charges.day_for_seller(100, NOW, NOW + timedelta(days=1), limit=30),
        {
            "USING INDEX charges_by_seller (seller_id=? AND paid_at>? AND paid_at<?)",
            # The count reads the index alone; the total and the lines the rows it points to.
            "COVERING INDEX charges_by_seller (seller_id=? AND paid_at>? AND paid_at<?)",
        },
    ),
    # The clock-set-back clause (next_attempt_at > horizon) leaves SQLite only the status prefix.
    "the relay's claim": (_claim, {"outbox_due (status=? AND next_attempt_at<?)"}),
    "the relay's next wake-up": (lambda db: db.outbox.next_due_at(), {"outbox_due"}),
    "the health check's backlog": (lambda db: db.outbox.pending_count(), {"outbox_due"}),
    "reconciliation, recent codes": (
        lambda db: db.codes.recently_active(limit=10),
        {"codes_active_by_payment"},
    ),
    "reconciliation, sweep over every code": (
        lambda db: db.codes.reconcilable_after(0, limit=10),
        {"codes USING INTEGER PRIMARY KEY (rowid>?)"},
    ),
    "reconciliation, where the sweep is": (
        lambda db: db.codes.sweep_cursor(),
        {"reconcile_cursor USING INTEGER PRIMARY KEY (rowid=?)"},
    ),
    "the codes an inline query offers": (
        lambda db: db.codes.shareable_for_seller(100, customer="bu", now=NOW, offset=0, limit=20),
        {"codes_by_seller (seller_id=?)"},
    ),
    "the next VA suffix": (
        lambda db: db.codes.lowest_free_va_suffix("BCA", 0, 99),
        {
            "codes_va_suffix (bank=? AND va_suffix>? AND va_suffix<?)",
            "codes_va_suffix (bank=? AND va_suffix=?)",
        },
    ),
    "a VA range's use": (
        lambda db: db.codes.count_va_suffixes("BCA", 0, 99),
        {"COVERING INDEX codes_va_suffix (bank=? AND va_suffix>? AND va_suffix<?)"},
    ),
    "a seller's codes today": (
        lambda db: db.codes.count_made_since(100, NOW),
        {"codes_by_seller (seller_id=?)"},
    ),
    "a seller's open VAs": (
        lambda db: db.codes.count_open_va(100, "BCA"),
        {"codes_by_seller (seller_id=?)"},
    ),
    "a double tap": (lambda db: db.codes.find_by_request_key(100, "k"), {"codes_by_request_key"}),
    "expiry warnings due": (
        lambda db: db.codes.due_expiry_warnings(before=NOW, limit=10),
        {"USING INDEX codes_expiry_due (expires_at>? AND expires_at<?)"},
    ),
    "a callback's code": (
        lambda db: db.codes.find_by_sessions(["s"]),
        {"codes_by_session (pivot_session_id=?)"},
    ),
    "charges awaiting Pivot's confirmation": (
        lambda db: db.charges.awaiting_confirmation(),
        {"charges_awaiting_confirmation"},
    ),
    "a buyer link opened": (
        lambda db: db.buyer_links.by_token("b_x"),
        {"sqlite_autoindex_buyer_links_1 (token=?)"},
    ),
    "a code's live buyer link": (
        lambda db: db.buyer_links.live_for_code(1),
        {"buyer_links_live (code_id=?)"},
    ),
    "is this person a buyer": (
        lambda db: db.buyers.is_buyer(501),
        {"sqlite_autoindex_buyers_1 (telegram_id=?)"},
    ),
    "how many hold a buyer link": (
        lambda db: db.buyers.count_for_link(1),
        {"COVERING INDEX buyers_by_link (link_id=?)"},
    ),
    "a payment's receipts": (
        lambda db: db.buyers.holding_live_links([1]),
        {"buyers_by_code (code_id=?)", "buyer_links USING INTEGER PRIMARY KEY (rowid=?)"},
    ),
    "receipts Pivot confirmed": (
        _release_awaiting,
        {"outbox_due (status=?)"},
    ),
    "a payment's seller": (
        lambda db: db.sellers.get_many([100]),
        {"sellers USING INTEGER PRIMARY KEY (rowid=?)"},
    ),
}


@pytest.fixture
async def statements(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, Sequence[object]]]:
    """Every statement sent through storage from now on, with its parameters."""
    await add_seller(db, 100)
    code = await add_code(db)
    await record_charge(db, "c1", code)
    recorded: list[tuple[str, Sequence[object]]] = []
    real_rows = _sqlite.SqliteSql.rows

    async def recording_rows(
        self: _sqlite.SqliteSql, sql: str, params: Sequence[object] = ()
    ) -> object:
        recorded.append((sql, params))
        return await real_rows(self, sql, params)

    monkeypatch.setattr(_sqlite.SqliteSql, "rows", recording_rows)
    return recorded


async def _plan(db: Database, sql: str, params: Sequence[object]) -> list[str]:
    rows = await db._engine._writer.execute_fetchall(
        f"EXPLAIN QUERY PLAN {sql}", _sqlite._bound(params)
    )
    return [row["detail"] for row in rows]


@pytest.mark.parametrize("case", list(CASES))
async def test_uses_its_index_and_scans_no_big_table(
    db: Database, statements: list[tuple[str, Sequence[object]]], case: str
) -> None:
    run, expected = CASES[case]
    await run(db)
    queries = [(sql, params) for sql, params in statements if not sql.startswith("BEGIN")]
    assert queries, "nothing was recorded"
    details = [line for sql, params in queries for line in await _plan(db, sql, params)]
    for index in expected:
        assert any(index in line for line in details), f"{index} not used: {details}"
    scans = [line for line in details if _FULL_SCAN.search(line)]
    assert not [line for line in scans if not _PARTIAL_SCAN.search(line)], details
