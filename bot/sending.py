"""The one path every Bot API request takes: paced, retried, in order within a chat.

``Sender`` is python-telegram-bot's rate-limiter hook (``ApplicationBuilder.rate_limiter``), so
replies, cards, QR photos, edits, alerts and payment messages all pass through it, whoever sends
them. For a request aimed at a chat it

- keeps the chat's order: one request per chat at a time, first come first served;
- paces: about one message a second per chat (Telegram's limit, with a short burst) and
  ``global_rate`` a second over all chats (Telegram allows 30);
- waits out a ``429 retry_after`` and sends again (that chat pauses; others go on);
- retries a transient failure (a 5xx, a network error, a time-out) with exponential backoff.

What is still failing after that is raised to the caller: ``Forbidden`` (blocked, deactivated)
and ``BadRequest`` at once, since sending again cannot help. PTB advises a limiter to leave
errors other than ``RetryAfter`` alone; this one retries transient ones too, because here is the
only place that sees every request. A time-out is ambiguous (Telegram may have shown the
message), so retrying one can repeat a message: the documented price of not losing it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

__all__ = ["Sender"]

logger = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

# A lane unused for this long has refilled its bucket: forgetting it changes nothing.
_LANE_IDLE_SECONDS = 60.0


class _Lane:
    """One chat's queue: its lock keeps the order, its bucket the pace."""

    __slots__ = ("bucket", "last_used", "lock", "users")

    def __init__(self, bucket: AsyncLimiter) -> None:
        self.lock = asyncio.Lock()
        self.bucket = bucket
        self.users = 0
        self.last_used = time.monotonic()


class Sender(BaseRateLimiter[None]):
    """Paces and retries every request the bot makes; see the module docstring.

    Args:
        chat_rate: Messages a second to one chat.
        chat_burst: Messages one chat may get at once before pacing starts. Below Telegram's
            own burst, so that requests delayed unequally on the way still arrive in time.
        global_rate: Messages a second over all chats.
        global_burst: The same for the whole bot.
        transient_retries: Extra attempts after a 5xx or network error.
        base_backoff: First wait before such a retry, in seconds; doubles each time.
        max_retry_after: Longest total wait on ``retry_after`` for one request, in seconds;
            past it the ``RetryAfter`` is raised to the caller.
    """

    def __init__(
        self,
        *,
        chat_rate: float = 1.0,
        chat_burst: int = 2,
        global_rate: float = 29.0,
        global_burst: int = 10,
        transient_retries: int = 4,
        base_backoff: float = 0.5,
        max_retry_after: float = 120.0,
    ) -> None:
        self._chat_rate = chat_rate
        self._chat_burst = chat_burst
        self._global_rate = global_rate
        self._global_burst = global_burst
        self._global = self._global_limiter()
        self._transient_retries = transient_retries
        self._base_backoff = base_backoff
        self._max_retry_after = max_retry_after
        self._lanes: dict[int | str, _Lane] = {}
        self.retried_after = 0
        self.retried_transient = 0

    async def initialize(self) -> None:
        """Start with full buckets (the limiter is bound to the running loop on first use)."""
        self._global = self._global_limiter()
        self._lanes.clear()

    async def shutdown(self) -> None:
        """Nothing is held between requests."""
        self._lanes.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> JSONResult:
        """Send ``endpoint`` in its chat's turn, paced, retrying what may succeed later."""
        chat_id = data.get("chat_id")
        if chat_id is None:  # getMe, answerCallbackQuery, setMyCommands...: no chat, no pace
            return await self._attempts(callback, args, kwargs, endpoint, None)
        lane = self._lane(chat_id)
        lane.users += 1
        try:
            async with lane.lock:
                return await self._attempts(callback, args, kwargs, endpoint, lane)
        finally:
            lane.users -= 1
            lane.last_used = time.monotonic()

    def _global_limiter(self) -> AsyncLimiter:
        return AsyncLimiter(self._global_burst, self._global_burst / self._global_rate)

    def _lane(self, chat_id: int | str) -> _Lane:
        lane = self._lanes.get(chat_id)
        if lane is None:
            self._forget_idle_lanes()
            lane = _Lane(AsyncLimiter(self._chat_burst, self._chat_burst / self._chat_rate))
            self._lanes[chat_id] = lane
        return lane

    def _forget_idle_lanes(self) -> None:
        """Drop lanes nobody used for a while, so memory follows active chats, not all chats."""
        if len(self._lanes) < 1024:
            return
        cutoff = time.monotonic() - _LANE_IDLE_SECONDS
        for key in [key for key, lane in self._lanes.items() if _idle(lane, cutoff)]:
            del self._lanes[key]

    async def _attempts(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        lane: _Lane | None,
    ) -> JSONResult:
        waited = 0.0
        failures = 0
        while True:
            if lane is not None:
                await lane.bucket.acquire()
                await self._global.acquire()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                pause = retry_after_seconds(exc)
                waited += pause
                if waited > self._max_retry_after:
                    raise
                self.retried_after += 1
                logger.warning("%s: Telegram asked to wait %.0f s; waiting", endpoint, pause)
                await asyncio.sleep(pause)
            except BadRequest:
                raise  # a subclass of NetworkError, but sending it again cannot help
            except NetworkError as exc:
                failures += 1
                if failures > self._transient_retries:
                    raise
                self.retried_transient += 1
                delay = self._base_backoff * 2.0 ** (failures - 1) * random.uniform(0.5, 1.0)  # noqa: S311
                logger.warning("%s failed (%s); retrying in %.1f s", endpoint, exc, delay)
                await asyncio.sleep(delay)


def _idle(lane: _Lane, cutoff: float) -> bool:
    return not lane.users and lane.last_used < cutoff


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds (a timedelta once PTB_TIMEDELTA is on, see ``bot``)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
