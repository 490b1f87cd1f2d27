"""Failures a test asks of the fake: the next calls of a method, or random ones on sends."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import dataclass, field

from tests.standins.botapi.errors import BotApiError, injected_error, too_many_requests

_SENDS_AND_EDITS = frozenset(
    {"sendmessage", "sendphoto", "senddocument"}
    | {"editmessagetext", "editmessagecaption", "editmessagereplymarkup"}
)


@dataclass
class RandomFaults:
    """Telegram failing at random on sends and edits, the same way for the same ``seed``.

    Each request draws once: a 429 (``retry_after`` 1), a 500 or 502, or a time-out (the request
    hangs ``hang`` seconds, longer than a client waits, and is never carried out).
    """

    seed: int
    too_many_requests: float = 0.0
    server_error: float = 0.0
    timeout: float = 0.0
    hang: float = 6.0
    drawn: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> tuple[BotApiError, float] | None:
        """The fault for the next request, with how long it hangs first; or None."""
        roll = self._rng.random()
        for name, rate in (
            ("429", self.too_many_requests),
            ("5xx", self.server_error),
            ("timeout", self.timeout),
        ):
            if roll < rate:
                self.drawn[name] = self.drawn.get(name, 0) + 1
                if name == "429":
                    return too_many_requests(1), 0.0
                if name == "5xx":
                    return injected_error(self._rng.choice((500, 502)), None), 0.0
                return injected_error(504, None), self.hang
            roll -= rate
        return None


class Faults:
    """The errors queued for the next calls of each method, and random faults if set."""

    def __init__(self) -> None:
        self._queued: dict[str, deque[BotApiError]] = {}
        self.random: RandomFaults | None = None

    def fail_next(self, method: str, count: int, status: int, retry_after: int | None) -> None:
        """Answer the next ``count`` calls of ``method`` with ``status`` and Telegram's wording."""
        queue = self._queued.setdefault(method.lower(), deque())
        queue.extend(injected_error(status, retry_after) for _ in range(count))

    async def strike(self, method: str) -> None:
        """Raise the error due for this call of ``method``, if one is; a time-out hangs first."""
        queued = self._queued.get(method.lower())
        if queued:
            raise queued.popleft()
        if self.random is not None and method.lower() in _SENDS_AND_EDITS:
            drawn = self.random.draw()
            if drawn is not None:
                error, hang = drawn
                await asyncio.sleep(hang)
                raise error
