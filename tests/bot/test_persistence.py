"""DatabasePersistence: user_data and conversation states in the database, read back as the
handlers' own types; what no longer reads is dropped with a warning, never a failed start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from telegram.ext import ConversationHandler

from bot.clock import utcnow
from bot.drafts import Draft, Step
from bot.handlers import USER_DATA
from bot.handlers.new import new_conversation
from bot.handlers.rename import rename_conversation
from bot.persistence import DatabasePersistence
from storage import CodeKind, Database, StoredState, Transaction

SELLER = 2001
_KEY = (SELLER, SELLER)


def _pending(prompt_id: int = 41) -> object:
    """What /new keeps while it asks for the amount of a VA."""
    kind = USER_DATA["new_code"]
    assert isinstance(kind, type)
    return kind(Draft(kind=CodeKind.VA, bank="BCA", customer="Bu Ani"), prompt_id)


def _persistence(db: Database) -> DatabasePersistence:
    persistence = DatabasePersistence(db, USER_DATA)
    persistence.expect([new_conversation(), rename_conversation()])
    return persistence


async def _raw(db: Database, kind: str, values: dict[str, str], *, age: float = 0) -> None:
    """Rows as an older (or broken) version of the bot might have left them."""
    async with db.write() as tx:
        await tx.bot_state.put(kind, values, now=utcnow() - timedelta(seconds=age))


class _Writes:
    """Counts the write transactions databases open."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = Database.write

        @asynccontextmanager
        async def counted(db: Database) -> AsyncIterator[Transaction]:
            self.count += 1
            async with original(db) as tx:
                yield tx

        monkeypatch.setattr(Database, "write", counted)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> _Writes:
    return _Writes(monkeypatch)


# user_data


async def test_user_data_reads_back_as_the_handlers_own_types(db: Database) -> None:
    data: dict[str, Any] = {
        "new_code": _pending(),
        "rename_code": 17,
        "code_searches": {301: "budi", 305: "ani"},
    }
    await _persistence(db).update_user_data(SELLER, data)

    loaded = await _persistence(db).get_user_data()

    assert loaded == {SELLER: data}
    restored = loaded[SELLER]["new_code"]
    assert restored.draft.kind is CodeKind.VA  # an enum again, not its text
    assert list(loaded[SELLER]["code_searches"]) == [301, 305]  # int keys, as the handler uses


async def test_data_that_did_not_change_is_not_written_again(
    db: Database, writes: _Writes
) -> None:
    persistence = _persistence(db)
    await persistence.update_user_data(SELLER, {"rename_code": 17})
    await persistence.update_user_data(SELLER, {"rename_code": 17})
    await persistence.update_user_data(SELLER + 1, {})  # someone who keeps nothing
    assert writes.count == 1

    # Nor after a restart: what was read is what the database holds.
    again = _persistence(db)
    await again.get_user_data()
    await again.update_user_data(SELLER, {"rename_code": 17})
    assert writes.count == 1


async def test_a_person_who_keeps_nothing_any_more_has_no_row(db: Database) -> None:
    persistence = _persistence(db)
    await persistence.update_user_data(SELLER, {"rename_code": 17})
    await persistence.update_user_data(SELLER, {})
    assert await db.bot_state.of_kind("user_data") == {}

    await persistence.update_user_data(SELLER, {"rename_code": 18})
    await persistence.drop_user_data(SELLER)
    assert await db.bot_state.of_kind("user_data") == {}


async def test_a_key_with_no_declared_type_is_not_kept_and_is_reported_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    persistence = _persistence(db)
    with caplog.at_level(logging.ERROR, "bot.persistence"):
        await persistence.update_user_data(SELLER, {"rename_code": 1, "surprise": object()})
        await persistence.update_user_data(SELLER, {"rename_code": 2, "surprise": object()})

    assert await _persistence(db).get_user_data() == {SELLER: {"rename_code": 2}}
    assert [r.getMessage() for r in caplog.records] == [
        "user_data 'surprise' has no declared type: it is not kept"
    ]


async def test_values_the_code_no_longer_reads_are_dropped_with_a_warning_and_the_rest_load(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await _raw(
        db,
        "user_data",
        {
            # A kind that no longer exists, beside a value that still reads.
            "2001": '{"new_code": {"draft": {"kind": "CASH"}, "prompt_id": 4}, "rename_code": 17}',
            "2002": '{"gone_key": 1}',  # a key no handler uses now
            "2003": "not json",
            "2004": "[1, 2]",
            "someone": "{}",
        },
    )

    with caplog.at_level(logging.WARNING, "bot.persistence"):
        loaded = await _persistence(db).get_user_data()

    assert loaded == {2001: {"rename_code": 17}}
    warnings = "\n".join(r.getMessage() for r in caplog.records)
    assert "dropped 'new_code' kept for 2001: it no longer reads" in warnings
    assert "dropped 'gone_key' kept for 2002: no handler keeps it now" in warnings
    for key in ("2003", "2004", "someone"):
        assert f"dropped the kept values of '{key}': unreadable" in warnings


# conversations


async def test_a_conversation_state_reads_back_as_the_handlers_own_state(db: Database) -> None:
    await _persistence(db).update_conversation("new", _KEY, Step.AMOUNT)

    loaded = await _persistence(db).get_conversations("new")

    assert loaded == {_KEY: Step.AMOUNT}
    assert loaded[_KEY] is Step.AMOUNT


async def test_an_ended_conversation_has_no_row(db: Database) -> None:
    persistence = _persistence(db)
    await persistence.update_conversation("new", _KEY, Step.NAME)
    await persistence.update_conversation("new", _KEY, None)
    assert await db.bot_state.of_kind("conversation:new") == {}


@pytest.mark.parametrize(
    ("name", "key", "state", "age", "why"),
    [
        ("new", "[2001,2001]", '"colour"', 0, "it is in no state the handler has"),
        ("new", "[2001,2001]", "-2", 0, "it is in no state the handler has"),  # TIMEOUT
        ("new", "[2001,2001]", "not json", 0, "it is in no state the handler has"),
        ("gone", "[2001,2001]", '"amount"', 0, "no such conversation now"),
        ("new", "[2001,2001]", '"amount"', 601, "was left longer than its timeout"),
    ],
)
async def test_a_conversation_that_cannot_be_taken_up_ends(
    db: Database,
    caplog: pytest.LogCaptureFixture,
    name: str,
    key: str,
    state: str,
    age: float,
    why: str,
) -> None:
    await _raw(db, f"conversation:{name}", {key: state}, age=age)

    with caplog.at_level(logging.INFO, "bot.persistence"):
        loaded = await _persistence(db).get_conversations(name)

    # END: python-telegram-bot forgets it, and deletes its row at the next write.
    assert loaded == {_KEY: ConversationHandler.END}
    assert why in caplog.text


async def test_a_conversation_key_that_does_not_read_is_deleted(db: Database) -> None:
    await _raw(
        db,
        "conversation:new",
        {"{oops": '"amount"', "[2001, 2002]": '"amount"', "[2001,2001]": '"name"'},
    )

    loaded = await _persistence(db).get_conversations("new")

    assert loaded == {_KEY: Step.NAME}
    assert list(await db.bot_state.of_kind("conversation:new")) == ["[2001,2001]"]


# writing


async def test_what_one_run_hands_over_is_written_in_one_transaction(
    db: Database, writes: _Writes
) -> None:
    persistence = _persistence(db)
    # As Application.update_persistence hands values over: each in its own task, at once.
    await asyncio.gather(
        persistence.update_user_data(SELLER, {"new_code": _pending()}),
        persistence.update_user_data(SELLER + 1, {"rename_code": 3}),
        persistence.update_conversation("new", _KEY, Step.AMOUNT),
    )

    assert writes.count == 1
    assert set(await db.bot_state.of_kind("user_data")) == {str(SELLER), str(SELLER + 1)}
    assert list(await db.bot_state.of_kind("conversation:new")) == ["[2001,2001]"]


async def test_values_whose_write_failed_go_with_the_next_write(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    persistence = _persistence(db)

    @asynccontextmanager
    async def failing(db: Database) -> AsyncIterator[Transaction]:
        raise OSError("disk full")
        yield  # pragma: no cover - a generator all the same

    with monkeypatch.context() as patched:
        patched.setattr(Database, "write", failing)
        with pytest.raises(OSError, match="disk full"):
            await persistence.update_conversation("new", _KEY, Step.NAME)

    await persistence.update_user_data(SELLER, {"rename_code": 3})

    assert list(await db.bot_state.of_kind("conversation:new")) == ["[2001,2001]"]


async def test_a_closed_persistence_writes_nothing(db: Database) -> None:
    persistence = _persistence(db)
    persistence.close()

    await persistence.update_user_data(SELLER, {"rename_code": 3})
    await persistence.update_conversation("new", _KEY, Step.NAME)

    assert await db.bot_state.of_kind("user_data") == {}
    assert await db.bot_state.of_kind("conversation:new") == {}


async def test_rows_keep_when_they_were_written(db: Database) -> None:
    before = utcnow()
    await _persistence(db).update_conversation("new", _KEY, Step.NAME)

    [stored] = (await db.bot_state.of_kind("conversation:new")).values()

    assert isinstance(stored, StoredState)
    assert before <= stored.updated_at <= utcnow()
