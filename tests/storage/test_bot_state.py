"""BotStateRepository: values by kind and key, replaced in place, dropped with None."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import Database, StoredState
from tests.standins import NOW

_LATER = NOW + timedelta(minutes=1)


async def test_values_are_kept_by_kind_and_key(db: Database) -> None:
    async with db.write() as tx:
        await tx.bot_state.put("user_data", {"7": '{"a": 1}', "8": "{}"}, now=NOW)
        await tx.bot_state.put("conversation:new", {"[7, 7]": '"name"'}, now=NOW)

    assert await db.bot_state.of_kind("user_data") == {
        "7": StoredState('{"a": 1}', NOW),
        "8": StoredState("{}", NOW),
    }
    assert await db.bot_state.of_kind("conversation:new") == {"[7, 7]": StoredState('"name"', NOW)}
    assert await db.bot_state.of_kind("conversation:rename") == {}


async def test_a_value_written_again_replaces_the_old_one_and_its_time(db: Database) -> None:
    async with db.write() as tx:
        await tx.bot_state.put("user_data", {"7": "old"}, now=NOW)
    async with db.write() as tx:
        await tx.bot_state.put("user_data", {"7": "new"}, now=_LATER)

    assert await db.bot_state.of_kind("user_data") == {"7": StoredState("new", _LATER)}


async def test_none_drops_only_that_key_and_dropping_a_missing_one_is_nothing(
    db: Database,
) -> None:
    async with db.write() as tx:
        await tx.bot_state.put("user_data", {"7": "a", "8": "b"}, now=NOW)
        await tx.bot_state.put("conversation:new", {"7": "c"}, now=NOW)
    async with db.write() as tx:
        await tx.bot_state.put("user_data", {"7": None, "9": None}, now=_LATER)

    assert await db.bot_state.of_kind("user_data") == {"8": StoredState("b", NOW)}
    assert await db.bot_state.of_kind("conversation:new") == {"7": StoredState("c", NOW)}


async def test_a_rolled_back_write_keeps_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as tx:
            await tx.bot_state.put("user_data", {"7": "a"}, now=NOW)
            raise RuntimeError("boom")

    assert await db.bot_state.of_kind("user_data") == {}
