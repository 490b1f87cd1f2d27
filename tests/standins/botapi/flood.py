"""Telegram's flood control over sends and edits: token buckets per chat and for the whole bot.

Over a bucket the request is answered 429 with a whole-second ``retry_after`` of at least 1.
Group chats' 20 messages a minute is not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tests.standins.botapi.errors import too_many_requests


@dataclass(frozen=True)
class FloodLimits:
    """Token buckets for sends and edits: per chat and for the whole bot (Telegram's numbers)."""

    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    global_per_second: float = 30.0
    global_burst: int = 30


TELEGRAM_LIMITS = FloodLimits()


class _Bucket:
    """A token bucket: ``capacity`` sends at once, refilled at ``rate`` a second."""

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self._rate = rate
        self._capacity = float(capacity)
        self._tokens = float(capacity)
        self._updated = now

    def wait(self, now: float) -> float:
        """Seconds until one more send is allowed; 0 when it is allowed now."""
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self._rate

    def take(self) -> None:
        """Spend one send."""
        self._tokens -= 1


class FloodControl:
    """The buckets in force and how many requests they refused."""

    def __init__(self, limits: FloodLimits | None, clock: Callable[[], float]) -> None:
        self._limits = limits
        self._clock = clock
        self._buckets: dict[int | None, _Bucket] = {}  # None: the whole bot
        self.refused = 0

    @property
    def limits(self) -> FloodLimits | None:
        """The limits in force; None turns flood control off."""
        return self._limits

    @limits.setter
    def limits(self, limits: FloodLimits | None) -> None:
        self._limits = limits
        self._buckets.clear()

    def admit(self, chat_id: int) -> None:
        """429 over the limits; else spend one send in the chat's and the bot's bucket."""
        limits = self._limits
        if limits is None:
            return
        now = self._clock()
        if chat_id not in self._buckets:
            self._buckets[chat_id] = _Bucket(
                limits.per_chat_per_second, limits.per_chat_burst, now
            )
        if None not in self._buckets:
            self._buckets[None] = _Bucket(limits.global_per_second, limits.global_burst, now)
        buckets = (self._buckets[chat_id], self._buckets[None])
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            self.refused += 1
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.take()
