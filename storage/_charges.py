"""The charges table: every successful payment, once per Pivot charge id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from ._models import (
    Charge,
    ChargeConfirmation,
    ChargeSource,
    CodeKind,
    NewCharge,
    SellerDay,
    SellerPayment,
)
from ._sql import Row, Sql
from ._values import (
    flags_from_db,
    flags_to_db,
    id_array,
    moment_from_db,
    moment_to_db,
    optional_moment_from_db,
)

__all__ = ["ChargeRepository"]


def _charge(row: Row) -> Charge:
    return Charge(
        id=row["id"],
        pivot_charge_id=row["pivot_charge_id"],
        code_id=row["code_id"],
        seller_id=row["seller_id"],
        session_id=row["session_id"],
        client_reference_id=row["client_reference_id"],
        amount=row["amount"],
        paid_at=moment_from_db(row["paid_at"]),
        channel=row["channel"],
        issuer=row["issuer"],
        reference=row["reference"],
        source=ChargeSource(row["source"]),
        flags=flags_from_db(row["flags"]),
        recorded_at=moment_from_db(row["recorded_at"]),
        confirmation=ChargeConfirmation(row["confirmation"]),
        confirmed_at=optional_moment_from_db(row["confirmed_at"]),
    )


class ChargeRepository:
    """Charges: recorded once, from a callback or from reconciliation.

    What a charge says is never changed; only Pivot's confirmation of it is recorded later
    (``settle``).
    """

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert_new(self, charges: Sequence[NewCharge], *, now: datetime) -> list[Charge]:
        """Record charges; return those recorded now, in no particular order.

        A charge whose Pivot charge id is already recorded, or appears earlier in ``charges``,
        is left out.
        """
        # The UNIQUE constraint decides, not a SELECT first: two deliveries of one charge in a
        # race still make one row.
        at = moment_to_db(now)
        rows = await self._sql.insert_rows(
            """
            INSERT INTO charges (
                pivot_charge_id, code_id, seller_id, session_id, client_reference_id, amount,
                paid_at, channel, issuer, reference, source, flags, recorded_at,
                confirmation, confirmed_at
            )""",
            [
                (
                    charge.pivot_charge_id,
                    charge.code_id,
                    charge.seller_id,
                    charge.session_id,
                    charge.client_reference_id,
                    charge.amount,
                    moment_to_db(charge.paid_at),
                    charge.channel,
                    charge.issuer,
                    charge.reference,
                    ChargeSource(charge.source).value,
                    flags_to_db(charge.flags),
                    at,
                    ChargeConfirmation(charge.confirmation).value,
                    at if charge.confirmation is ChargeConfirmation.CONFIRMED else None,
                )
                for charge in charges
            ],
            "ON CONFLICT (pivot_charge_id) DO NOTHING RETURNING *",
        )
        return [_charge(row) for row in rows]

    async def exists(self, pivot_charge_id: str) -> bool:
        """Whether that Pivot charge is recorded."""
        row = await self._sql.row(
            "SELECT 1 FROM charges WHERE pivot_charge_id = ?", (pivot_charge_id,)
        )
        return row is not None

    async def awaiting_confirmation(self) -> list[Charge]:
        """The charges on our codes that Pivot's API has not confirmed yet, oldest first."""
        rows = await self._sql.rows(
            "SELECT * FROM charges WHERE confirmation = 'pending' AND code_id IS NOT NULL"
            " ORDER BY id"
        )
        return [_charge(row) for row in rows]

    async def settle(
        self, verdicts: Mapping[str, ChargeConfirmation], *, now: datetime
    ) -> set[str]:
        """Record what Pivot's API said of charges still PENDING; the ids it changed.

        A charge Pivot refutes (UNKNOWN, MISMATCH) is kept, but taken off its code and
        seller: no count, total or list shows it as paid.
        """
        if ChargeConfirmation.PENDING in verdicts.values():
            raise ValueError("a verdict cannot be PENDING")
        confirmed = [
            key for key, verdict in verdicts.items() if verdict is ChargeConfirmation.CONFIRMED
        ]
        settled: set[str] = set()
        if confirmed:
            rows = await self._sql.rows(
                "UPDATE charges SET confirmation = 'confirmed', confirmed_at = ?"
                " WHERE confirmation = 'pending'"
                " AND pivot_charge_id IN (SELECT value FROM json_each(?))"
                " RETURNING pivot_charge_id",
                (moment_to_db(now), id_array(confirmed)),
            )
            settled |= {row[0] for row in rows}
        for key, verdict in verdicts.items():
            if verdict is ChargeConfirmation.CONFIRMED:
                continue
            row = await self._sql.row(
                "UPDATE charges SET confirmation = ?, code_id = NULL, seller_id = NULL"
                " WHERE confirmation = 'pending' AND pivot_charge_id = ?"
                " RETURNING pivot_charge_id",
                (ChargeConfirmation(verdict).value, key),
            )
            if row is not None:
                settled.add(row[0])
        return settled

    async def get(self, pivot_charge_id: str) -> Charge | None:
        """The charge with that Pivot charge id, or None."""
        row = await self._sql.row(
            "SELECT * FROM charges WHERE pivot_charge_id = ?", (pivot_charge_id,)
        )
        return None if row is None else _charge(row)

    async def on_code(self, pivot_charge_ids: Iterable[str], code_id: int) -> set[str]:
        """Which of these Pivot charge ids are recorded on the code ``code_id``."""
        rows = await self._sql.rows(
            "SELECT pivot_charge_id FROM charges WHERE code_id = ?"
            " AND pivot_charge_id IN (SELECT value FROM json_each(?))",
            (code_id, id_array(pivot_charge_ids)),
        )
        return {str(row[0]) for row in rows}

    async def stats_for_code(self, code_id: int) -> tuple[int, int]:
        """How many payments a code received, and their total in rupiah."""
        return (await self.stats_for_codes([code_id])).get(code_id, (0, 0))

    async def stats_for_codes(self, code_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """(count, total in rupiah) of each code's payments; codes never paid are left out."""
        rows = await self._sql.rows(
            "SELECT code_id, count(*), CAST(sum(amount) AS BIGINT) FROM charges"
            " WHERE code_id IN (SELECT value FROM json_each(?)) GROUP BY code_id",
            (id_array(code_ids),),
        )
        return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}

    async def list_for_code(self, code_id: int, *, offset: int, limit: int) -> list[Charge]:
        """One page of a code's payments, latest first."""
        rows = await self._sql.rows(
            "SELECT * FROM charges WHERE code_id = ?"
            " ORDER BY paid_at DESC, id DESC LIMIT ? OFFSET ?",
            (code_id, limit, offset),
        )
        return [_charge(row) for row in rows]

    async def count_for_code(self, code_id: int) -> int:
        """How many payments a code received."""
        return await self._sql.integer(
            "SELECT count(*) FROM charges WHERE code_id = ?", (code_id,)
        )

    async def day_for_seller(
        self, seller_id: int, start: datetime, end: datetime, *, limit: int
    ) -> SellerDay:
        """A seller's payments with start <= paid_at < end: count, total (and how much of it
        waits for Pivot's confirmation) and the first few.

        The first ``limit`` come in time order, with their code's customer and kind.
        """
        if limit < 1:
            # No row must mean no payment: the count and total ride on the listed rows.
            raise ValueError(f"limit must be at least 1, not {limit}")
        # One statement, so the figures and the lines come from the same snapshot; the
        # aggregates are uncorrelated subqueries, which SQLite runs once, on charges_by_seller.
        rows = await self._sql.rows(
            """
            SELECT charges.*, codes.customer AS customer, codes.kind AS kind,
                codes.amount AS expected,
                (SELECT count(*) FROM charges
                 WHERE seller_id = ?1 AND paid_at >= ?2 AND paid_at < ?3) AS day_count,
                (SELECT CAST(sum(amount) AS BIGINT) FROM charges
                 WHERE seller_id = ?1 AND paid_at >= ?2 AND paid_at < ?3) AS day_total,
                (SELECT CAST(coalesce(sum(amount), 0) AS BIGINT) FROM charges
                 WHERE seller_id = ?1 AND paid_at >= ?2 AND paid_at < ?3
                   AND confirmation = 'pending') AS day_unconfirmed
            FROM charges LEFT JOIN codes ON codes.id = charges.code_id
            WHERE charges.seller_id = ?1 AND charges.paid_at >= ?2 AND charges.paid_at < ?3
            ORDER BY charges.paid_at, charges.id LIMIT ?4
            """,
            (seller_id, moment_to_db(start), moment_to_db(end), limit),
        )
        if not rows:
            return SellerDay(count=0, total=0, payments=())
        return SellerDay(
            count=rows[0]["day_count"],
            total=rows[0]["day_total"],
            unconfirmed=rows[0]["day_unconfirmed"],
            payments=tuple(
                SellerPayment(
                    charge=_charge(row),
                    customer=row["customer"],
                    kind=None if row["kind"] is None else CodeKind(row["kind"]),
                    expected=row["expected"],
                )
                for row in rows
            ),
        )

    async def count(self) -> int:
        """How many charges are recorded."""
        return await self._sql.integer("SELECT count(*) FROM charges")
