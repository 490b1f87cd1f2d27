"""The updates waiting for the bot, kept until it confirms having them.

getUpdates confirms with its ``offset``; a webhook push confirms by being delivered (or given up).
"""

from __future__ import annotations

from tests.standins.botapi.errors import bad_request
from tests.standins.botapi.records import JSONDict
from tests.standins.botapi.waiting import Signal

# Without allowed_updates Telegram sends every update type except these.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateQueue:
    """Injected updates in order, the unconfirmed ones, and the bot's allowed_updates."""

    def __init__(self) -> None:
        self.updates: list[JSONDict] = []  # every update injected, in order
        self.changed = Signal()  # an update came, or how updates are fetched changed
        self._queue: list[JSONDict] = []  # injected and not yet confirmed
        self._next_update_id = 1
        self.allowed: frozenset[str] | None = None  # None: Telegram's default

    def inject(self, update: JSONDict) -> int:
        """Queue an update; its new ``update_id``."""
        update_id = self._next_update_id
        self._next_update_id += 1
        full = {"update_id": update_id, **{k: v for k, v in update.items() if k != "update_id"}}
        self.updates.append(full)
        self._queue.append(full)
        self.changed.notify()
        return update_id

    @property
    def unconfirmed(self) -> int:
        """Updates injected that the bot has not yet confirmed having fetched."""
        return len(self._queue)

    def pending(self, limit: int) -> list[JSONDict]:
        """Up to ``limit`` unconfirmed updates that allowed_updates lets through."""
        return [update for update in self._queue if self._is_allowed(update)][:limit]

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last -offset."""
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset > 0:
            self._queue = [update for update in self._queue if update["update_id"] >= offset]

    def drop(self) -> None:
        """Forget every unconfirmed update (``drop_pending_updates``)."""
        self._queue.clear()

    def set_allowed(self, params: JSONDict) -> None:
        """Apply allowed_updates if given; Telegram keeps the previous setting otherwise."""
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed_updates JSON object")
            self.allowed = frozenset(map(str, allowed)) or None

    def _is_allowed(self, update: JSONDict) -> bool:
        """Whether allowed_updates lets ``update`` through."""
        kind = next(key for key in update if key != "update_id")
        if self.allowed is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self.allowed
