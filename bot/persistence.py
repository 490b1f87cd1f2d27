"""What the Telegram side remembers between updates, kept in the database (``db.bot_state``).

Whichever process holds the Telegram side (``bot.leadership``) loads it when it starts: a
seller's half-finished ``/new`` goes on after a restart or on another process. Only the
conversations' states and ``user_data`` are kept; ``bot_data`` holds the services, which are
built anew by every process.

When it is written: python-telegram-bot hands a persistence what changed only from
``Application.update_persistence``, which it runs every ``update_interval`` seconds (60 by
default) and at ``stop()``; conversation states reach it through that same run, never on
their own. A process killed within that minute would lose the seller's last answers, so
``PersistingApplication`` runs it again as each update is handled, before the person's next
update is taken (``bot.updates``): the state is in the database a few milliseconds after the
bot answered. The interval, ``PERSIST_EVERY``, remains for what changes outside an update (a
conversation's timeout). What one run hands over is written in one transaction, and only
what differs from what the database holds.

How it is written: as JSON, through the types each handler declares for its ``user_data``
keys (``bot.handlers.USER_DATA``), not pickled: a row is data, never code to run, and reading
one back goes through the declared type's validation, so a value the code no longer fits (a
field renamed, an enum value gone) fails there, is logged and dropped, and start-up goes on.
A conversation's state is read back only as one of the states its handler has; one older
than the handler's timeout ends, as it would have had the bot been running.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from telegram.ext import Application, BasePersistence, ConversationHandler, PersistenceInput

from bot.clock import utcnow
from storage import Database, StoredState

__all__ = ["PERSIST_EVERY", "DatabasePersistence", "PersistingApplication"]

logger = logging.getLogger(__name__)

# Seconds between python-telegram-bot's own runs of update_persistence (updates do not wait
# for it: see PersistingApplication).
PERSIST_EVERY = 1.0
USER_DATA = "user_data"
_CONVERSATION = "conversation:"

AnyDict = dict[Any, Any]
ConversationKey = tuple[int | str, ...]  # python-telegram-bot's: chat and user ids
_NOT_STATES = frozenset({ConversationHandler.TIMEOUT, ConversationHandler.WAITING})


def _dump(value: object) -> str:
    """The JSON text of ``value``, the same for equal values."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class PersistingApplication(Application[Any, Any, Any, Any, Any, Any]):
    """An ``Application`` that hands what an update changed to the persistence at once."""

    async def process_update(self, update: object) -> None:
        """Handle ``update``, then write what it changed."""
        try:
            await super().process_update(update)
        finally:
            await self.update_persistence()


class DatabasePersistence(BasePersistence[AnyDict, AnyDict, AnyDict]):
    """``user_data`` and conversation states in ``db.bot_state``.

    Args:
        db: The database.
        kept: The ``user_data`` keys the handlers use, each with the type of its value.
        update_interval: Seconds between python-telegram-bot's own runs of update_persistence.
    """

    def __init__(
        self, db: Database, kept: Mapping[str, Any], *, update_interval: float = PERSIST_EVERY
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._db = db
        self._kept: dict[str, TypeAdapter[Any]] = {
            key: TypeAdapter(kind) for key, kind in kept.items()
        }
        self._conversations: dict[str, ConversationHandler[Any]] = {}
        self._saved: dict[str, str] = {}  # each person's user_data row, as the database has it
        self._pending: dict[tuple[str, str], str | None] = {}
        self._writing: asyncio.Future[None] | None = None
        self._unknown: set[object] = set()  # user_data keys nobody declared, warned about once
        self._closed = False

    def expect(self, handlers: Iterable[object]) -> None:
        """Learn the persistent conversations among ``handlers``: what their states can be."""
        for handler in handlers:
            if isinstance(handler, ConversationHandler) and handler.persistent and handler.name:
                self._conversations[handler.name] = handler

    def close(self) -> None:
        """Write nothing more (this process no longer holds the Telegram side)."""
        self._closed = True

    # user_data

    async def get_user_data(self) -> dict[int, AnyDict]:
        """Every person's kept values that still read as their declared types."""
        stored = await self._db.bot_state.of_kind(USER_DATA)
        loaded: dict[int, AnyDict] = {}
        for key, state in stored.items():
            self._saved[key] = state.data
            values = self._user_values(key, state.data)
            if values:
                loaded[int(key)] = values
        return loaded

    def _user_values(self, key: str, data: str) -> AnyDict:
        """The values in one person's row that still load; the others are logged, dropped."""
        try:
            person = int(key)
            raw = json.loads(data)
            if not isinstance(raw, dict):
                raise TypeError("not an object")
        except (TypeError, ValueError) as exc:
            logger.warning("dropped the kept values of %r: unreadable (%s)", key, exc)
            return {}
        values: AnyDict = {}
        for name, value in raw.items():
            adapter = self._kept.get(name)
            if adapter is None:
                logger.warning("dropped %r kept for %d: no handler keeps it now", name, person)
                continue
            try:
                values[name] = adapter.validate_python(value)
            except ValidationError as exc:
                logger.warning(
                    "dropped %r kept for %d: it no longer reads (%d errors: %s)",
                    name,
                    person,
                    exc.error_count(),
                    exc.errors()[0]["msg"],
                )
        return values

    async def update_user_data(self, user_id: int, data: AnyDict) -> None:
        """Keep the person's declared values (none: their row goes), if they changed.

        python-telegram-bot hands over the data of everyone who sent an update, changed or
        not: most updates (``/today``, a page of ``/codes``) write nothing.
        """
        key, encoded = str(user_id), self._encode_user_data(data)
        if self._saved.get(key) != encoded:
            await self._put(USER_DATA, key, encoded)

    def _encode_user_data(self, data: Mapping[Any, Any]) -> str | None:
        """The declared values of ``data`` as JSON; None when there are none."""
        encoded: dict[str, Any] = {}
        for name, value in data.items():
            adapter = self._kept.get(name)
            if adapter is None:
                if name not in self._unknown:
                    self._unknown.add(name)
                    logger.error("user_data %r has no declared type: it is not kept", name)
                continue
            encoded[name] = adapter.dump_python(value, mode="json")
        return _dump(encoded) if encoded else None

    async def drop_user_data(self, user_id: int) -> None:
        """Forget the person's values."""
        if str(user_id) in self._saved:
            await self._put(USER_DATA, str(user_id), None)

    async def refresh_user_data(self, user_id: int, user_data: AnyDict) -> None:
        """Nothing: only the process holding the Telegram side changes them."""

    # conversations

    async def get_conversations(self, name: str) -> dict[ConversationKey, object]:
        """The conversations of handler ``name`` in a state it has; stale ones end."""
        handler = self._conversations.get(name)
        kind = _CONVERSATION + name
        stored = await self._db.bot_state.of_kind(kind)
        conversations: dict[ConversationKey, object] = {}
        for key_text, state in stored.items():
            key = _conversation_key(key_text)
            if key is None:
                logger.warning("dropped conversation %s %r: its key does not read", name, key_text)
                await self._put(kind, key_text, None)
                continue
            # END is how python-telegram-bot is told to forget a stored conversation.
            conversations[key] = _state(handler, name, key, state)
        return conversations

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Keep where the conversation stands (None: it ended).

        Written even when the state is the same: the row's time then says when the
        conversation last moved, which is what its timeout counts from.
        """
        data = None if new_state is None else _dump(new_state)
        await self._put(_CONVERSATION + name, _dump(list(key)), data)

    # writing

    async def _put(self, kind: str, key: str, data: str | None) -> None:
        """Write ``data`` under ``(kind, key)``, in one transaction with whatever else this run
        of update_persistence hands over."""
        if self._closed:
            return
        self._pending[kind, key] = data
        if self._writing is None:
            self._writing = asyncio.ensure_future(self._write_pending())
        # Shielded: the write is everybody's in the batch, not only this caller's.
        await asyncio.shield(self._writing)

    async def _write_pending(self) -> None:
        """Write the values handed over in this turn of the event loop, in one transaction."""
        await asyncio.sleep(0)  # update_persistence hands each value in its own task
        pending, self._pending = self._pending, {}
        self._writing = None
        by_kind: dict[str, dict[str, str | None]] = {}
        for (kind, key), data in pending.items():
            by_kind.setdefault(kind, {})[key] = data
        try:
            if self._closed:
                return
            async with self._db.write() as tx:
                for kind, values in by_kind.items():
                    await tx.bot_state.put(kind, values, now=utcnow())
        except Exception:
            # Kept for the next write, unless a newer value comes first.
            for where, data in pending.items():
                self._pending.setdefault(where, data)
            raise
        for key, data in by_kind.get(USER_DATA, {}).items():
            if data is None:
                self._saved.pop(key, None)
            else:
                self._saved[key] = data

    async def flush(self) -> None:
        """Let a write under way finish (``Application.stop`` has handed everything over)."""
        if self._writing is not None:
            await asyncio.shield(self._writing)

    # Not kept: bot_data holds the services, and no handler uses chat_data or callback_data.

    async def get_bot_data(self) -> AnyDict:
        """Nothing is kept."""
        return {}

    async def update_bot_data(self, data: AnyDict) -> None:
        """Nothing is kept."""

    async def refresh_bot_data(self, bot_data: AnyDict) -> None:
        """Nothing is kept."""

    async def get_chat_data(self) -> dict[int, AnyDict]:
        """Nothing is kept."""
        return {}

    async def update_chat_data(self, chat_id: int, data: AnyDict) -> None:
        """Nothing is kept."""

    async def refresh_chat_data(self, chat_id: int, chat_data: AnyDict) -> None:
        """Nothing is kept."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Nothing is kept."""

    async def get_callback_data(self) -> None:
        """Nothing is kept."""
        return None

    async def update_callback_data(self, data: object) -> None:
        """Nothing is kept."""


def _conversation_key(text: str) -> ConversationKey | None:
    """The key written by ``update_conversation``, or None if it is not one (its row could
    not be deleted through it)."""
    try:
        parts = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parts, list) or not all(isinstance(part, int | str) for part in parts):
        return None
    return tuple(parts) if _dump(parts) == text else None


def _state(
    handler: ConversationHandler[Any] | None,
    name: str,
    key: ConversationKey,
    stored: StoredState,
) -> object:
    """The handler's own state object for ``stored``; END for one it cannot take up."""
    end = ConversationHandler.END
    if handler is None:
        logger.warning("dropped conversation %s %s: no such conversation now", name, key)
        return end
    try:
        value = json.loads(stored.data)
        # The handler's state itself (a StrEnum member equals, and hashes as, its text).
        state = next(
            state for state in handler.states if state not in _NOT_STATES and state == value
        )
    except (ValueError, TypeError, StopIteration):
        logger.warning("dropped conversation %s %s: it is in no state the handler has", name, key)
        return end
    timeout = handler.conversation_timeout
    if isinstance(timeout, int | float):
        timeout = timedelta(seconds=timeout)
    if timeout is not None and utcnow() - stored.updated_at > timeout:
        logger.info("conversation %s %s was left longer than its timeout: it ends", name, key)
        return end
    return state
