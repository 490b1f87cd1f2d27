"""Callback delivery in the background, retried on Pivot's schedule, with a delivery log.

Pivot retries a callback answered with 5xx, 408 or 429 (or not answered at all) after 5 min,
15 min, 1 h, 3 h, 6 h and 12 h, then flags it for a manual retry; any other status is final
(docs/pivot-api.md §callbacks).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from pivot_client.simulator._state import timestamp

__all__ = ["CallbackSender", "DeliveryAttempt", "Outcome"]

Outcome = Literal["delivered", "rejected", "retrying", "manual_retry_needed", "not_sent"]

# Pivot documents no callback timeout; a receiver should answer well within this.
_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One try at delivering a charge's callback."""

    charge_id: str
    attempt: int  # 1 for the first try of a delivery (or redelivery), then 2, 3, ...
    at: datetime
    status_code: int | None
    error: str | None
    outcome: Outcome

    def to_json(self) -> dict[str, Any]:
        """The attempt as ``GET /_simulator/callbacks`` lists it."""
        return {
            "chargeId": self.charge_id,
            "attempt": self.attempt,
            "at": timestamp(self.at),
            "statusCode": self.status_code,
            "error": self.error,
            "outcome": self.outcome,
        }


def _is_retried(status: int) -> bool:
    return status >= 500 or status in (408, 429)


class CallbackSender:
    """Posts callbacks as background tasks over one ``httpx.AsyncClient``."""

    def __init__(self, url: str | None, key: str, retry_delays: tuple[float, ...]) -> None:
        self.log: list[DeliveryAttempt] = []
        self._url = url
        self._headers = {
            "X-API-Key": key,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._retry_delays = retry_delays
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    @property
    def pending(self) -> int:
        """How many deliveries are still trying (or waiting to retry)."""
        return len(self._tasks)

    def send(self, charge_id: str, body: bytes) -> None:
        """Deliver ``body`` in the background; the caller does not wait for it."""
        if self._url is None:
            self._record(charge_id, 1, None, "no callback URL configured", "not_sent")
            return
        task = asyncio.create_task(self._deliver(self._url, charge_id, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, charge_id: str, body: bytes) -> None:
        delays = iter(self._retry_delays)
        for attempt in itertools.count(1):
            status, error = await self._post(url, body)
            if status is not None and not _is_retried(status):
                outcome: Outcome = "delivered" if 200 <= status < 300 else "rejected"
                self._record(charge_id, attempt, status, None, outcome)
                return
            delay = next(delays, None)
            outcome = "manual_retry_needed" if delay is None else "retrying"
            self._record(charge_id, attempt, status, error, outcome)
            if delay is None:
                return
            await asyncio.sleep(delay)

    async def _post(self, url: str, body: bytes) -> tuple[int | None, str | None]:
        if self._client is None:
            # trust_env=False: proxy variables must not divert callbacks meant for loopback.
            self._client = httpx.AsyncClient(timeout=_TIMEOUT_SECONDS, trust_env=False)
        try:
            response = await self._client.post(url, content=body, headers=self._headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    def _record(
        self, charge_id: str, attempt: int, status: int | None, error: str | None, outcome: Outcome
    ) -> None:
        self.log.append(
            DeliveryAttempt(charge_id, attempt, datetime.now(UTC), status, error, outcome)
        )

    async def cancel_pending(self) -> None:
        """Stop every delivery still trying, and wait until they have stopped."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop pending deliveries and close the HTTP client."""
        await self.cancel_pending()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
