"""The codes table: each seller's static QRIS and Virtual Account codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from ._errors import RecordNotFoundError
from ._models import Code, CodeKind, CodeStatus, CodeSummary
from ._sql import Row, Sql
from ._values import (
    id_array,
    like_containing,
    moment_from_db,
    moment_to_db,
    optional_moment_from_db,
    optional_moment_to_db,
)

__all__ = ["CodeRepository"]


def _code(row: Row) -> Code:
    return Code(
        id=row["id"],
        seller_id=row["seller_id"],
        kind=CodeKind(row["kind"]),
        bank=row["bank"],
        va_suffix=row["va_suffix"],
        customer=row["customer"],
        amount=row["amount"],
        request_key=row["request_key"],
        client_reference_id=row["client_reference_id"],
        pivot_session_id=row["pivot_session_id"],
        qr_content=row["qr_content"],
        va_number=row["va_number"],
        merchant_name=row["merchant_name"],
        simulation=bool(row["simulation"]),
        status=CodeStatus(row["status"]),
        failure=row["failure"],
        created_at=moment_from_db(row["created_at"]),
        deactivated_at=optional_moment_from_db(row["deactivated_at"]),
        last_payment_at=optional_moment_from_db(row["last_payment_at"]),
        expires_at=optional_moment_from_db(row["expires_at"]),
        photo_file_id=row["photo_file_id"],
        receipts=bool(row["receipts"]),
    )


def _of_seller(seller_id: int, customer_contains: str) -> tuple[str, tuple[object, ...]]:
    """The WHERE clause and parameters for a seller's codes, their customer containing
    ``customer_contains`` if it is not empty."""
    if not customer_contains:
        return "seller_id = ?", (seller_id,)
    return "seller_id = ? AND lower(customer) LIKE lower(?) ESCAPE '\\'", (
        seller_id,
        like_containing(customer_contains),
    )


class CodeRepository:
    """Codes: created PENDING, then ACTIVE with Pivot's session, or FAILED; later DEACTIVATED,
    and maybe ACTIVE again."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def _code_or_none(self, sql: str, params: tuple[object, ...]) -> Code | None:
        row = await self._sql.row(sql, params)
        return None if row is None else _code(row)

    async def _codes(self, sql: str, params: tuple[object, ...]) -> list[Code]:
        return [_code(row) for row in await self._sql.rows(sql, params)]

    async def create(
        self,
        *,
        seller_id: int,
        kind: CodeKind,
        bank: str | None,
        va_suffix: int | None,
        customer: str,
        amount: int | None,
        request_key: str,
        client_reference_id: str,
        now: datetime,
    ) -> Code:
        """Store a PENDING code before Pivot is asked for it.

        A (bank, va_suffix) pair already taken, by a code in any status, raises ConstraintError.
        """
        row = await self._sql.one(
            """
            INSERT INTO codes (
                seller_id, kind, bank, va_suffix, customer, amount, request_key,
                client_reference_id, simulation, status, created_at
            ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'pending', ?)
            RETURNING *
            """,
            (
                seller_id,
                CodeKind(kind).value,
                bank,
                va_suffix,
                customer,
                amount,
                request_key,
                client_reference_id,
                moment_to_db(now),
            ),
        )
        return _code(row)

    async def activate(
        self,
        code_id: int,
        *,
        session_id: str,
        qr_content: str | None,
        va_number: str | None,
        merchant_name: str | None,
        simulation: bool,
        expires_at: datetime | None = None,
    ) -> Code:
        """Record the session Pivot created and make the code ACTIVE.

        A FAILED code may still be activated (Pivot answered after all); a DEACTIVATED or
        missing one raises RecordNotFoundError.
        """
        row = await self._sql.row(
            """
            UPDATE codes SET
                pivot_session_id = ?, qr_content = ?, va_number = ?, merchant_name = ?,
                simulation = ?, expires_at = ?, status = 'active', failure = NULL
            WHERE id = ? AND status != 'deactivated'
            RETURNING *
            """,
            (
                session_id,
                qr_content,
                va_number,
                merchant_name,
                int(simulation),
                optional_moment_to_db(expires_at),
                code_id,
            ),
        )
        if row is None:
            raise RecordNotFoundError(f"no code {code_id} that can be activated")
        return _code(row)

    async def mark_failed(
        self, code_id: int, reason: str, *, release_suffix: bool = False
    ) -> None:
        """Record why Pivot refused a PENDING code; other statuses are left alone.

        ``release_suffix`` also gives the code's VA suffix back, for a refusal after which
        Pivot holds nothing under that number: the next code at the bank may take it.
        """
        await self._sql.rows(
            "UPDATE codes SET status = 'failed', failure = ?,"
            " va_suffix = CASE WHEN ? = 1 THEN NULL ELSE va_suffix END"
            " WHERE id = ? AND status = 'pending'",
            (reason, int(release_suffix), code_id),
        )

    async def deactivate(self, code_id: int, *, now: datetime) -> bool:
        """Retire an ACTIVE code; False when it was not ACTIVE."""
        rows = await self._sql.rows(
            "UPDATE codes SET status = 'deactivated', deactivated_at = ?"
            " WHERE id = ? AND status = 'active' RETURNING id",
            (moment_to_db(now), code_id),
        )
        return bool(rows)

    async def reactivate(self, code_id: int) -> bool:
        """Make a DEACTIVATED code ACTIVE again; False when it was not DEACTIVATED."""
        rows = await self._sql.rows(
            "UPDATE codes SET status = 'active', deactivated_at = NULL"
            " WHERE id = ? AND status = 'deactivated' RETURNING id",
            (code_id,),
        )
        return bool(rows)

    async def rename(self, code_id: int, customer: str) -> Code | None:
        """Give the code another customer name; None if there is no such code."""
        return await self._code_or_none(
            "UPDATE codes SET customer = ? WHERE id = ? RETURNING *", (customer, code_id)
        )

    async def set_receipts(self, code_id: int, on: bool) -> Code | None:
        """Switch receipts to the code's buyers on or off; the code, or None if there is none."""
        return await self._code_or_none(
            "UPDATE codes SET receipts = ? WHERE id = ? RETURNING *", (int(on), code_id)
        )

    async def get(self, code_id: int) -> Code | None:
        """The code with that id, or None."""
        return await self._code_or_none("SELECT * FROM codes WHERE id = ?", (code_id,))

    async def get_for_seller(self, code_id: int, seller_id: int) -> Code | None:
        """The code with that id if that seller owns it, else None."""
        return await self._code_or_none(
            "SELECT * FROM codes WHERE id = ? AND seller_id = ?", (code_id, seller_id)
        )

    async def find_by_request_key(self, seller_id: int, request_key: str) -> Code | None:
        """The newest code of that seller with that request key that did not fail."""
        return await self._code_or_none(
            "SELECT * FROM codes WHERE request_key = ? AND seller_id = ? AND status != 'failed'"
            " ORDER BY id DESC LIMIT 1",
            (request_key, seller_id),
        )

    async def find_by_sessions(self, session_ids: Iterable[str]) -> dict[str, Code]:
        """The (newest) code holding each of those Pivot session ids; unknown ones left out."""
        codes = await self._codes(
            "SELECT * FROM codes WHERE pivot_session_id IN (SELECT value FROM json_each(?))"
            " ORDER BY id",
            (id_array(session_ids),),
        )
        # By id, so a newer code with the same session id replaces an older one.
        return {code.pivot_session_id: code for code in codes if code.pivot_session_id}

    async def find_by_reference(self, client_reference_id: str) -> Code | None:
        """The code with that clientReferenceId."""
        return await self._code_or_none(
            "SELECT * FROM codes WHERE client_reference_id = ?", (client_reference_id,)
        )

    async def lowest_free_va_suffix(self, bank: str, first: int, last: int) -> int | None:
        """The smallest suffix from ``first`` to ``last`` that no code at that bank holds.

        None when every one is held. Only the suffix after a held one (or ``first``) can be
        the answer, so the held suffixes in the range are the only rows read.
        """
        return await self._sql.optional_integer(
            """
            SELECT min(candidate) FROM (
                SELECT CAST(?2 AS BIGINT) AS candidate
                UNION ALL
                SELECT va_suffix + 1 FROM codes
                WHERE bank = ?1 AND va_suffix >= ?2 AND va_suffix < ?3
            ) AS candidates
            WHERE NOT EXISTS (SELECT 1 FROM codes WHERE bank = ?1 AND va_suffix = candidate)
            """,
            (bank, first, last),
        )

    async def count_va_suffixes(self, bank: str, first: int, last: int) -> int:
        """How many suffixes from ``first`` to ``last`` codes at that bank hold."""
        return await self._sql.integer(
            "SELECT count(*) FROM codes WHERE bank = ? AND va_suffix BETWEEN ? AND ?",
            (bank, first, last),
        )

    async def count_made_since(self, seller_id: int, since: datetime) -> int:
        """How many codes the seller made from ``since`` on.

        A failed code does not count, unless it still holds a VA number: that number is used up
        for every seller, so it counts against the one who used it.
        """
        return await self._sql.integer(
            "SELECT count(*) FROM codes WHERE seller_id = ? AND created_at >= ?"
            " AND (status != 'failed' OR va_suffix IS NOT NULL)",
            (seller_id, moment_to_db(since)),
        )

    async def count_open_va(self, seller_id: int, bank: str) -> int:
        """How many open-amount VA numbers the seller holds at ``bank``.

        Deactivated codes count: Pivot cannot close a static VA, and an open one never expires.
        """
        return await self._sql.integer(
            "SELECT count(*) FROM codes WHERE seller_id = ? AND kind = 'VA' AND bank = ?"
            " AND amount IS NULL AND status != 'failed'",
            (seller_id, bank),
        )

    async def list_for_seller(
        self, seller_id: int, *, offset: int, limit: int, customer_contains: str = ""
    ) -> list[CodeSummary]:
        """One page of a seller's codes, newest first, with their payments' count and total;
        only those whose customer contains ``customer_contains`` (see ``count_for_seller``)."""
        where, params = _of_seller(seller_id, customer_contains)
        # Correlated subqueries read charges_by_code alone (amount is in the index).
        rows = await self._sql.rows(
            f"""
            SELECT codes.*,
                (SELECT count(*) FROM charges WHERE charges.code_id = codes.id) AS payment_count,
                (SELECT CAST(coalesce(sum(amount), 0) AS BIGINT) FROM charges
                 WHERE charges.code_id = codes.id)
                    AS payment_total
            FROM codes
            WHERE {where}
            ORDER BY id DESC
            LIMIT ? OFFSET ?
            """,  # noqa: S608 - ``where`` is one of two fixed strings
            (*params, limit, offset),
        )
        return [
            CodeSummary(
                code=_code(row),
                payment_count=row["payment_count"],
                payment_total=row["payment_total"],
            )
            for row in rows
        ]

    async def active_for_seller(self, seller_id: int, kind: CodeKind, *, limit: int) -> list[Code]:
        """The seller's ACTIVE codes of ``kind``, newest first."""
        return await self._codes(
            "SELECT * FROM codes WHERE seller_id = ? AND kind = ? AND status = 'active'"
            " ORDER BY id DESC LIMIT ?",
            (seller_id, CodeKind(kind).value, limit),
        )

    async def shareable_for_seller(
        self, seller_id: int, *, customer: str, now: datetime, offset: int, limit: int
    ) -> list[Code]:
        """The seller's ACTIVE codes Pivot still takes payments on whose customer contains
        ``customer`` ("" for any; letters in any case), newest first."""
        return await self._codes(
            "SELECT * FROM codes WHERE seller_id = ? AND status = 'active'"
            " AND (expires_at IS NULL OR expires_at > ?)"
            " AND lower(customer) LIKE lower(?) ESCAPE '\\'"
            " ORDER BY id DESC LIMIT ? OFFSET ?",
            (seller_id, moment_to_db(now), like_containing(customer), limit, offset),
        )

    async def keep_photo(self, code_id: int, file_id: str) -> None:
        """Keep the Telegram file id of the code's QR photo."""
        await self._sql.rows("UPDATE codes SET photo_file_id = ? WHERE id = ?", (file_id, code_id))

    async def count_by_status(self, kind: CodeKind) -> dict[CodeStatus, int]:
        """How many codes of ``kind`` are in each status (statuses without one left out)."""
        rows = await self._sql.rows(
            "SELECT status, count(*) AS n FROM codes WHERE kind = ? GROUP BY status",
            (CodeKind(kind).value,),
        )
        return {CodeStatus(row["status"]): row["n"] for row in rows}

    async def count_for_seller(self, seller_id: int, *, customer_contains: str = "") -> int:
        """How many codes the seller has, in any status; with ``customer_contains``, only those
        whose customer contains it, letters in any case (SQLite's ``lower`` knows ASCII only)."""
        where, params = _of_seller(seller_id, customer_contains)
        return await self._sql.integer(
            f"SELECT count(*) FROM codes WHERE {where}",  # noqa: S608 - a fixed string
            params,
        )

    async def touch_payments(self, paid: Mapping[int, datetime]) -> None:
        """Move each code's last_payment_at forward to its time, never back (charges come
        out of order)."""
        await self._sql.many(
            "UPDATE codes SET last_payment_at ="
            " CASE WHEN last_payment_at > ?1 THEN last_payment_at ELSE ?1 END WHERE id = ?2",
            [(moment_to_db(paid_at), code_id) for code_id, paid_at in paid.items()],
        )

    async def recently_active(self, *, limit: int) -> list[Code]:
        """ACTIVE codes, most recently paid first, never-paid ones last, then newest first."""
        # NULLS LAST is SQLite's own DESC order, said aloud for PostgreSQL (whose index has it).
        return await self._codes(
            "SELECT * FROM codes WHERE status = 'active'"
            " ORDER BY last_payment_at DESC NULLS LAST, id DESC LIMIT ?",
            (limit,),
        )

    async def reconcilable_after(self, cursor_id: int, *, limit: int) -> list[Code]:
        """Codes Pivot may still take payments on (ACTIVE and DEACTIVATED: Pivot cannot
        switch a static code off) with an id above ``cursor_id``, by id."""
        return await self._codes(
            "SELECT * FROM codes WHERE id > ? AND status IN ('active', 'deactivated')"
            " ORDER BY id LIMIT ?",
            (cursor_id, limit),
        )

    async def sweep_cursor(self) -> int:
        """The id of the last code reconciliation's sweep checked; 0 before the first."""
        cursor = await self._sql.optional_integer(
            "SELECT code_id FROM reconcile_cursor WHERE id = 1"
        )
        return cursor or 0

    async def move_sweep_cursor(self, code_id: int) -> None:
        """Record that the sweep has got as far as the code ``code_id``."""
        await self._sql.rows(
            "INSERT INTO reconcile_cursor (id, code_id) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET code_id = excluded.code_id",
            (code_id,),
        )

    async def due_expiry_warnings(self, *, before: datetime, limit: int) -> list[Code]:
        """ACTIVE codes expiring before ``before``, their seller not warned yet; soonest first."""
        return await self._codes(
            "SELECT * FROM codes WHERE status = 'active' AND expires_at IS NOT NULL"
            " AND expiry_warned_at IS NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?",
            (moment_to_db(before), limit),
        )

    async def mark_expiry_warned(self, code_id: int, *, now: datetime) -> bool:
        """Note that the seller was warned of the code's expiry; False if already noted."""
        rows = await self._sql.rows(
            "UPDATE codes SET expiry_warned_at = ? WHERE id = ? AND expiry_warned_at IS NULL"
            " RETURNING id",
            (moment_to_db(now), code_id),
        )
        return bool(rows)
