"""The buyers table: who opened a code's buyer link, and where their receipts go."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ._models import Buyer
from ._sql import Row, Sql
from ._values import id_array, moment_from_db, moment_to_db

__all__ = ["BuyerRepository"]


def _buyer(row: Row) -> Buyer:
    return Buyer(
        telegram_id=row["telegram_id"],
        code_id=row["code_id"],
        link_id=row["link_id"],
        chat_id=row["chat_id"],
        language=row["language"],
        first_seen=moment_from_db(row["first_seen"]),
    )


class BuyerRepository:
    """Buyers: one row per person and code, kept by the link they last opened."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def record(
        self,
        *,
        telegram_id: int,
        chat_id: int,
        code_id: int,
        link_id: int,
        language: str,
        now: datetime,
    ) -> Buyer:
        """Note that the person opened ``link_id`` of ``code_id``; one who had already opened
        a link of that code keeps their first time and now holds this link."""
        row = await self._sql.one(
            """
            INSERT INTO buyers (telegram_id, code_id, link_id, chat_id, language, first_seen)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (telegram_id, code_id) DO UPDATE SET
                link_id = excluded.link_id,
                chat_id = excluded.chat_id,
                language = excluded.language
            RETURNING *
            """,
            (telegram_id, code_id, link_id, chat_id, language, moment_to_db(now)),
        )
        return _buyer(row)

    async def is_buyer(self, telegram_id: int) -> bool:
        """Whether the person ever opened a buyer link."""
        row = await self._sql.row(
            "SELECT 1 FROM buyers WHERE telegram_id = ? LIMIT 1", (telegram_id,)
        )
        return row is not None

    async def holding_live_links(self, code_ids: Iterable[int]) -> dict[int, list[Buyer]]:
        """The buyers of each code whose link is still live, by code, oldest first; codes
        without one left out. Those who opened a link since revoked are not among them."""
        rows = await self._sql.rows(
            "SELECT buyers.* FROM buyers"
            " JOIN buyer_links ON buyer_links.id = buyers.link_id"
            " WHERE buyers.code_id IN (SELECT value FROM json_each(?))"
            " AND buyer_links.revoked_at IS NULL"
            " ORDER BY buyers.code_id, buyers.first_seen, buyers.telegram_id",
            (id_array(code_ids),),
        )
        found: dict[int, list[Buyer]] = {}
        for row in rows:
            buyer = _buyer(row)
            found.setdefault(buyer.code_id, []).append(buyer)
        return found

    async def count_for_link(self, link_id: int) -> int:
        """How many people hold the link ``link_id`` (opened it last of their code's links)."""
        return await self._sql.integer("SELECT count(*) FROM buyers WHERE link_id = ?", (link_id,))
