"""Updates from different people are handled at once; one person's, one at a time and in order.

Every reply goes through ``bot.sending.Sender``, which paces each chat at about a message a
second and waits out Telegram's ``retry_after``. With PTB's default of one update at a time, one
chat's wait would hold every other seller's command; run concurrently without order, one
seller's ``/new`` conversation could see its answers out of turn (``ConversationHandler`` keeps
state per person and expects their updates in sequence). So: a queue per person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

__all__ = ["PerPersonUpdates"]


class PerPersonUpdates(BaseUpdateProcessor):
    """Up to ``max_concurrent_updates`` at once, in arrival order for each person."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._queues: dict[int | None, asyncio.Lock] = {}
        self._waiting: dict[int | None, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` once this person's earlier updates are done."""
        key = _person(update)
        lock = self._queues.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock wakes its waiters first come, first served
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody queued behind: forget the person
                del self._waiting[key]
                del self._queues[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _person(update: object) -> int | None:
    """Whose update this is (the chat when there is no user); None shares one queue."""
    if not isinstance(update, Update):
        return None
    user, chat = update.effective_user, update.effective_chat
    if user is not None:
        return user.id
    return chat.id if chat is not None else None
