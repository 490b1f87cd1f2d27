"""The callback_inbox table: Pivot callback bodies, kept before they are parsed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ._models import InboxEntry, InboxOutcome
from ._sql import Sql
from ._values import moment_from_db, moment_to_db, optional_moment_from_db

__all__ = ["InboxRepository"]


class InboxRepository:
    """Raw callback bodies and what became of each one."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def add_all(self, bodies: Sequence[bytes], *, now: datetime) -> list[int]:
        """Store authenticated callback bodies as RECEIVED; their entry ids, in order."""
        at = moment_to_db(now)
        rows = await self._sql.insert_rows(
            "INSERT INTO callback_inbox (received_at, body, outcome)",
            [(at, bytes(body), InboxOutcome.RECEIVED.value) for body in bodies],
            "RETURNING id",
        )
        # RETURNING has no defined order, but one INSERT hands out rowids in ascending order
        # of its VALUES: sorted ids are the bodies' ids, in order.
        return sorted(row[0] for row in rows)

    async def set_outcomes(self, outcomes: Sequence[tuple[int, InboxOutcome, str | None]]) -> None:
        """Record what handling did to each entry: (entry id, outcome, detail)."""
        await self._sql.many(
            "UPDATE callback_inbox SET outcome = ?, detail = ? WHERE id = ?",
            [
                (InboxOutcome(outcome).value, detail, entry_id)
                for entry_id, outcome, detail in outcomes
            ],
        )

    async def get(self, entry_id: int) -> InboxEntry | None:
        """The entry with that id, or None."""
        row = await self._sql.row(
            "SELECT id, received_at, body, outcome, detail FROM callback_inbox WHERE id = ?",
            (entry_id,),
        )
        if row is None:
            return None
        return InboxEntry(
            id=row["id"],
            received_at=moment_from_db(row["received_at"]),
            body=bytes(row["body"]),
            outcome=InboxOutcome(row["outcome"]),
            detail=row["detail"],
        )

    async def count(self, outcome: InboxOutcome | None = None) -> int:
        """How many entries there are, all or with one outcome."""
        if outcome is None:
            return await self._sql.integer("SELECT count(*) FROM callback_inbox")
        return await self._sql.integer(
            "SELECT count(*) FROM callback_inbox WHERE outcome = ?",
            (InboxOutcome(outcome).value,),
        )

    async def last_received_at(self) -> datetime | None:
        """When the latest callback arrived, for the health check."""
        return optional_moment_from_db(
            await self._sql.optional_integer("SELECT max(received_at) FROM callback_inbox")
        )
