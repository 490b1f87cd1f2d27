"""The invites table: one-time links an operator hands out."""

from __future__ import annotations

from datetime import datetime

from ._models import Invite, InviteResult
from ._sql import Row, Sql
from ._values import moment_from_db, moment_to_db, optional_moment_from_db

__all__ = ["InviteRepository"]


def _invite(row: Row) -> Invite:
    return Invite(
        token=row["token"],
        created_by=row["created_by"],
        created_at=moment_from_db(row["created_at"]),
        expires_at=moment_from_db(row["expires_at"]),
        used_by=row["used_by"],
        used_at=optional_moment_from_db(row["used_at"]),
    )


class InviteRepository:
    """Invite tokens: created by operators, redeemed once."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def create(
        self, *, token: str, created_by: int, now: datetime, expires_at: datetime
    ) -> Invite:
        """Store a new unused invite."""
        row = await self._sql.one(
            "INSERT INTO invites (token, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?) RETURNING *",
            (token, created_by, moment_to_db(now), moment_to_db(expires_at)),
        )
        return _invite(row)

    async def get(self, token: str) -> Invite | None:
        """The invite with that token, or None."""
        row = await self._sql.row("SELECT * FROM invites WHERE token = ?", (token,))
        return None if row is None else _invite(row)

    async def redeem(self, token: str, *, used_by: int, now: datetime) -> InviteResult:
        """Use an invite once: ACCEPTED marks it used; otherwise say why not."""
        at = moment_to_db(now)
        # One conditional UPDATE decides, so two people racing for one token cannot both win.
        accepted = await self._sql.rows(
            "UPDATE invites SET used_by = ?, used_at = ?"
            " WHERE token = ? AND used_by IS NULL AND expires_at > ? RETURNING token",
            (used_by, at, token, at),
        )
        if accepted:
            return InviteResult.ACCEPTED
        invite = await self.get(token)
        if invite is None:
            return InviteResult.UNKNOWN
        if invite.used_by is not None:
            return InviteResult.USED
        return InviteResult.EXPIRED
