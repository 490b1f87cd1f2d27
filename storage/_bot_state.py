"""The bot_state table: what the Telegram side keeps between updates, for whichever process
holds it next (a person's answers so far, where each conversation stands).

Rows are opaque text under a kind and a key: the bot decides what they mean and how they are
written. ``updated_at`` says when a row last changed, so that a reader can tell a state left
long ago from a fresh one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ._sql import Sql
from ._values import moment_from_db, moment_to_db

__all__ = ["BotStateRepository", "StoredState"]


@dataclass(frozen=True, slots=True)
class StoredState:
    """One kept value: its text and when it was last written."""

    data: str
    updated_at: datetime


class BotStateRepository:
    """Values by ``(kind, key)``: read all of a kind, write or drop one at a time."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def of_kind(self, kind: str) -> dict[str, StoredState]:
        """Every value kept under ``kind``, by key."""
        rows = await self._sql.rows(
            "SELECT key, data, updated_at FROM bot_state WHERE kind = ?", (kind,)
        )
        return {
            row["key"]: StoredState(row["data"], moment_from_db(row["updated_at"])) for row in rows
        }

    async def put(self, kind: str, values: Mapping[str, str | None], *, now: datetime) -> None:
        """Keep each value under ``(kind, key)``, replacing what was there; None drops it."""
        at = moment_to_db(now)
        for key, data in values.items():
            if data is None:
                await self._sql.rows(
                    "DELETE FROM bot_state WHERE kind = ? AND key = ?", (kind, key)
                )
            else:
                await self._sql.rows(
                    "INSERT INTO bot_state (kind, key, data, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (kind, key)"
                    " DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                    (kind, key, data, at),
                )
