"""The buyer_links table: the links that show one code to a buyer, until revoked."""

from __future__ import annotations

from datetime import datetime

from ._models import BuyerLink
from ._sql import Row, Sql
from ._values import moment_from_db, moment_to_db, optional_moment_from_db

__all__ = ["BuyerLinkRepository"]


def _link(row: Row) -> BuyerLink:
    return BuyerLink(
        id=row["id"],
        token=row["token"],
        code_id=row["code_id"],
        created_at=moment_from_db(row["created_at"]),
        revoked_at=optional_moment_from_db(row["revoked_at"]),
    )


class BuyerLinkRepository:
    """Buyer links: at most one live (not revoked) per code; a revoked one stays, to say so."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def create(self, *, code_id: int, token: str, now: datetime) -> BuyerLink:
        """Store a live link to ``code_id``.

        A code that already has a live link, or a token already used, raises ConstraintError.
        """
        row = await self._sql.one(
            "INSERT INTO buyer_links (token, code_id, created_at) VALUES (?, ?, ?) RETURNING *",
            (token, code_id, moment_to_db(now)),
        )
        return _link(row)

    async def live_for_code(self, code_id: int) -> BuyerLink | None:
        """The code's live link, or None."""
        row = await self._sql.row(
            "SELECT * FROM buyer_links WHERE code_id = ? AND revoked_at IS NULL", (code_id,)
        )
        return None if row is None else _link(row)

    async def by_token(self, token: str) -> BuyerLink | None:
        """The link with that token, live or revoked, or None."""
        row = await self._sql.row("SELECT * FROM buyer_links WHERE token = ?", (token,))
        return None if row is None else _link(row)

    async def revoke_for_code(self, code_id: int, *, now: datetime) -> bool:
        """Revoke the code's live link; False when it had none."""
        rows = await self._sql.rows(
            "UPDATE buyer_links SET revoked_at = ?"
            " WHERE code_id = ? AND revoked_at IS NULL RETURNING id",
            (moment_to_db(now), code_id),
        )
        return bool(rows)
