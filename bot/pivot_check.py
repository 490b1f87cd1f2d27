"""Whether Pivot accepts ``PIVOT_CLIENT_ID`` and ``PIVOT_CLIENT_SECRET``, found at start-up.

Wrong credentials would otherwise surface at the first seller's ``/new``. The check is one
token call, in the background: start-up never waits for Pivot and never fails because of it
(Pivot may be down for a while; refused credentials are fixed in ``.env`` and a restart). While
Pivot gives no usable answer, the call is repeated with backoff until it does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from enum import StrEnum

from pivot_client import AuthenticationError, PermissionDeniedError, PivotClient

__all__ = ["CredentialCheck", "PivotStatus"]

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 10.0
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0


class PivotStatus(StrEnum):
    """The ``pivot`` field of ``/healthz``."""

    CHECKING = "checking"
    OK = "ok"
    REFUSED = "credentials refused"
    UNREACHABLE = "unreachable"  # no usable answer from PIVOT_BASE_URL yet; the log says why


class CredentialCheck:
    """Asks Pivot for an access token until it answers yes or no; ``status`` says which."""

    def __init__(self, pivot: PivotClient, *, first_retry: float = FIRST_RETRY_SECONDS) -> None:
        # Its own short attempts: the backoff below replaces the client's retry schedule.
        self._pivot = pivot.with_options(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)
        self._first_retry = first_retry
        self._task: asyncio.Task[None] | None = None
        self.status = PivotStatus.CHECKING

    def start(self) -> None:
        """Start checking in the background."""
        self._task = asyncio.create_task(self._run(), name="pivot-credentials")

    async def stop(self) -> None:
        """Stop a check still waiting for Pivot (or for its next try)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self._first_retry
        where = self._pivot.base_url
        while True:
            try:
                await self._pivot.authenticate()
            except (AuthenticationError, PermissionDeniedError) as exc:
                self.status = PivotStatus.REFUSED
                logger.warning(
                    "Pivot at %s refused PIVOT_CLIENT_ID / PIVOT_CLIENT_SECRET (%s): no code can "
                    "be made until they are corrected (Pivot dashboard: Settings, Developer "
                    "Setting, Credentials; sandbox and production have their own) and the bot "
                    "restarted",
                    where,
                    exc,
                )
                return
            except Exception as exc:  # APIError, or anything unexpected: never die silently
                self.status = PivotStatus.UNREACHABLE
                logger.warning(
                    "cannot check the Pivot credentials at %s (%s); trying again in %.0f s",
                    where,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                continue
            self.status = PivotStatus.OK
            logger.info("Pivot at %s accepted the credentials", where)
            return
