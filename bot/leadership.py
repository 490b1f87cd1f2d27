"""Which process holds the Telegram side: the one holding the database's lease.

Several ``kodebayar run`` processes may share one PostgreSQL database behind a load balancer
(docs/architecture.md, "Processes and leadership"). Every one of them serves HTTP (Pivot's
callbacks, ``/healthz``) and records what it receives. Exactly one, the leader, also holds the
Telegram side: updates (polling, or the webhook registration), the relay, reconciliation's
passes, confirmation and the scheduled work. On SQLite the only process leads at once.

The loop is short: wait for the lease (``Lease.acquire``), start the leader's part, wait for
the lease to be lost (``Lease.lost``), step down. Stepping down is crash-only: the leader's
part is stopped at once, writing nothing more (another process may already lead), and the
process then exits, for its supervisor to start it again as a follower. Going back to waiting
instead would need every leader-only part to start a second time from whatever state the
first run left in memory (python-telegram-bot's conversations and user data, the relay's
queues, the confirmer's charges); a fresh process starts from the database only, the one path
that start-up and a crash already exercise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from storage import Lease

__all__ = ["EXIT_LEASE_LOST", "Leadership", "Role"]

logger = logging.getLogger(__name__)

# The process's exit code after it lost the lease: not 0, so that a supervisor restarting
# only failed processes (systemd's Restart=on-failure) brings it back.
EXIT_LEASE_LOST = 3


class Role(StrEnum):
    """What this process does: ``/healthz`` says it as ``role``."""

    FOLLOWER = "follower"
    LEADER = "leader"


class Leadership:
    """Runs the leader's part while this process holds ``lease``.

    Args:
        lease: The database's lease (``Database.lease()``).
        lead: Starts the leader's part; what it raises ends the leadership (``ended``).
        step_down: Stops the leader's part at once, when the lease is lost.
    """

    def __init__(
        self,
        lease: Lease,
        lead: Callable[[], Awaitable[None]],
        step_down: Callable[[], None],
    ) -> None:
        self._lease = lease
        self._lead = lead
        self._step_down = step_down
        self._task: asyncio.Task[None] | None = None
        self._led = asyncio.Event()
        self.role = Role.FOLLOWER

    def start(self) -> None:
        """Wait for the lease in the background."""
        self._task = asyncio.create_task(self._run(), name="leadership")

    async def _run(self) -> None:
        await self._lease.acquire()
        logger.info("this process holds the lease: it takes the Telegram side")
        self.role = Role.LEADER
        await self._lead()
        self._led.set()
        await self._lease.lost()
        self.role = Role.FOLLOWER
        self._step_down()
        logger.critical(
            "lost the lease: another process may lead now, so this one stopped its Telegram "
            "side and exits (exit code %d); its supervisor starts it again as a follower",
            EXIT_LEASE_LOST,
        )

    async def leading(self) -> None:
        """Return once the leader's part runs; raise what ended the leadership before that."""
        assert self._task is not None, "start() first"  # noqa: S101 - programming error
        led = asyncio.ensure_future(self._led.wait())
        try:
            await asyncio.wait({led, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            led.cancel()
        if not self._led.is_set():
            self._task.result()  # raises why it ended
            raise RuntimeError("the leadership ended before it led")

    async def ended(self) -> None:
        """Return once the lease is lost (the leader's part stopped); raise what made the
        leader's part fail to start."""
        assert self._task is not None, "start() first"  # noqa: S101 - programming error
        await asyncio.shield(self._task)

    async def cancel(self) -> None:
        """Stop waiting for the lease, starting the leader's part, or watching the lease (the
        process is stopping); what ended it is ``ended``'s to raise."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def release(self) -> None:
        """Give the lease up, for another process to take at once (once the leader's part
        has stopped)."""
        await self.cancel()
        self.role = Role.FOLLOWER
        await self._lease.release()
