"""getUpdates as Telegram answers it: long polling that wakes at once on a new update.

``offset`` confirms, ``timeout`` waits, ``limit`` and ``allowed_updates`` filter; a newer
getUpdates ends a waiting one with 409, and so does a webhook being set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request

from tests.standins.botapi.errors import BotApiError
from tests.standins.botapi.params import ApiRequest, optional_int
from tests.standins.botapi.updates import UpdateQueue


class LongPolling:
    """The getUpdates requests the bot makes, and how many are waiting now."""

    def __init__(self, queue: UpdateQueue, webhook_set: Callable[[], bool]) -> None:
        self._queue = queue
        self._webhook_set = webhook_set
        self._generation = 0
        self.waiting = 0

    async def get_updates(self, req: ApiRequest) -> object:
        """``getUpdates``: long polling, as Telegram does it."""
        if self._webhook_set():
            raise _webhook_conflict()
        limit = min(100, max(1, optional_int(req.params, "limit", 100)))
        timeout = max(0, optional_int(req.params, "timeout", 0))
        self._queue.set_allowed(req.params)
        self._queue.confirm(optional_int(req.params, "offset", 0))
        self._generation += 1
        generation = self._generation
        self._queue.changed.notify()  # an older poll still waiting now answers 409
        deadline = asyncio.get_running_loop().time() + timeout
        gone = asyncio.ensure_future(_client_gone(req.http))
        try:
            while True:
                waiter = self._queue.changed.waiter()
                if generation != self._generation:
                    raise BotApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if self._webhook_set():
                    raise _webhook_conflict()
                pending = self._queue.pending(limit)
                remaining = deadline - asyncio.get_running_loop().time()
                if pending or remaining <= 0:
                    return pending
                woken = asyncio.ensure_future(waiter.wait())
                self.waiting += 1
                try:
                    await asyncio.wait(
                        {woken, gone}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    self.waiting -= 1
                    woken.cancel()
                if gone.done():
                    return []  # nobody is listening for the answer any more
        finally:
            gone.cancel()


def _webhook_conflict() -> BotApiError:
    """The 409 for getUpdates while a webhook is set."""
    return BotApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    )


async def _client_gone(request: Request) -> None:
    """Return once the client has closed the connection (the body is already read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
