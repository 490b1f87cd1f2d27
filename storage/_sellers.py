"""The sellers table: who may use the bot, and how to reach them."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime

from ._models import Role, Seller, SellerStatus
from ._sql import Row, Sql
from ._values import id_array, moment_from_db, moment_to_db

__all__ = ["SellerRepository"]


def _seller(row: Row) -> Seller:
    return Seller(
        telegram_id=row["telegram_id"],
        chat_id=row["chat_id"],
        name=row["name"],
        username=row["username"],
        language=row["language"],
        timezone=row["timezone"],
        role=Role(row["role"]),
        status=SellerStatus(row["status"]),
        invited_by=row["invited_by"],
        created_at=moment_from_db(row["created_at"]),
        shop_name=row["shop_name"],
    )


class SellerRepository:
    """Sellers and operators, keyed by their Telegram user id."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def get(self, telegram_id: int) -> Seller | None:
        """The seller with that Telegram id, or None."""
        return (await self.get_many([telegram_id])).get(telegram_id)

    async def get_many(self, telegram_ids: Iterable[int]) -> dict[int, Seller]:
        """The sellers with those Telegram ids, by id; unknown ids left out."""
        rows = await self._sql.rows(
            "SELECT * FROM sellers WHERE telegram_id IN (SELECT value FROM json_each(?))",
            (id_array(telegram_ids),),
        )
        return {seller.telegram_id: seller for seller in map(_seller, rows)}

    async def add(
        self,
        *,
        telegram_id: int,
        chat_id: int,
        name: str,
        username: str | None,
        language: str,
        timezone: str,
        role: Role,
        invited_by: int | None,
        now: datetime,
    ) -> Seller:
        """Insert an ACTIVE seller; one who exists is refreshed and made ACTIVE again.

        A returning seller keeps their language, time zone, inviter and creation time.
        """
        row = await self._sql.one(
            """
            INSERT INTO sellers (
                telegram_id, chat_id, name, username, language, timezone, role, status,
                invited_by, created_at
            ) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)
            ON CONFLICT (telegram_id) DO UPDATE SET
                chat_id = excluded.chat_id,
                name = excluded.name,
                username = excluded.username,
                role = excluded.role,
                status = 'active'
            RETURNING *
            """,
            (
                telegram_id,
                chat_id,
                name,
                username,
                language,
                timezone,
                Role(role).value,
                invited_by,
                moment_to_db(now),
            ),
        )
        return _seller(row)

    async def set_language(self, telegram_id: int, language: str) -> None:
        """Remember the language a seller chose."""
        await self._sql.rows(
            "UPDATE sellers SET language = ? WHERE telegram_id = ?", (language, telegram_id)
        )

    async def set_shop_name(self, telegram_id: int, shop_name: str | None) -> bool:
        """Set the name buyers see of the seller (None: their Telegram name); False when
        there is no such seller."""
        rows = await self._sql.rows(
            "UPDATE sellers SET shop_name = ? WHERE telegram_id = ? RETURNING telegram_id",
            (shop_name, telegram_id),
        )
        return bool(rows)

    async def set_status(self, telegram_id: int, status: SellerStatus) -> bool:
        """Set a seller's status; False when there is no such seller."""
        rows = await self._sql.rows(
            "UPDATE sellers SET status = ? WHERE telegram_id = ? RETURNING telegram_id",
            (SellerStatus(status).value, telegram_id),
        )
        return bool(rows)

    async def list(self, *, offset: int, limit: int) -> builtins.list[Seller]:
        """One page of sellers, oldest first."""
        rows = await self._sql.rows(
            "SELECT * FROM sellers ORDER BY created_at, telegram_id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_seller(row) for row in rows]

    async def count(self) -> int:
        """How many sellers there are, in any status."""
        return await self._sql.integer("SELECT count(*) FROM sellers")

    async def operators(self) -> builtins.list[Seller]:
        """The ACTIVE operators, to alert about dead letters and failures."""
        rows = await self._sql.rows(
            "SELECT * FROM sellers WHERE role = 'operator' AND status = 'active'"
            " ORDER BY telegram_id"
        )
        return [_seller(row) for row in rows]
