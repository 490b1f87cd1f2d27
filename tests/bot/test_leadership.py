"""The leadership loop with a lease the test grants and takes away."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.leadership import EXIT_LEASE_LOST, Leadership, Role
from tests.standins import FakeLease


class Parts:
    """What the leadership starts and stops, as calls recorded in order."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[str] = []
        self.fail = fail

    async def lead(self) -> None:
        self.calls.append("lead")
        if self.fail is not None:
            raise self.fail

    def step_down(self) -> None:
        self.calls.append("step down")


async def _settled() -> None:
    """Let every task that can run, run."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_process_follows_until_it_holds_the_lease_then_leads() -> None:
    lease, parts = FakeLease(), Parts()
    leadership = Leadership(lease, parts.lead, parts.step_down)
    leadership.start()
    await _settled()
    assert (leadership.role, parts.calls) == (Role.FOLLOWER, [])

    lease.granted.set()
    await asyncio.wait_for(leadership.leading(), 1)

    assert (leadership.role, parts.calls) == (Role.LEADER, ["lead"])
    await leadership.release()
    assert (leadership.role, lease.released) == (Role.FOLLOWER, 1)


async def test_a_lost_lease_stops_the_leaders_part_at_once_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lease, parts = FakeLease(), Parts()
    leadership = Leadership(lease, parts.lead, parts.step_down)
    leadership.start()
    lease.granted.set()
    await leadership.leading()
    ended = asyncio.ensure_future(leadership.ended())
    await _settled()
    assert not ended.done()

    with caplog.at_level(logging.CRITICAL, "bot.leadership"):
        lease.gone.set()
        await asyncio.wait_for(ended, 1)

    assert parts.calls == ["lead", "step down"]
    assert leadership.role is Role.FOLLOWER
    [line] = caplog.records
    assert "lost the lease" in line.getMessage()
    assert f"exit code {EXIT_LEASE_LOST}" in line.getMessage()


async def test_a_leaders_part_that_cannot_start_ends_the_leadership_with_its_error() -> None:
    lease, parts = FakeLease(), Parts(fail=ValueError("Telegram refused this token"))
    leadership = Leadership(lease, parts.lead, parts.step_down)
    leadership.start()
    lease.granted.set()

    with pytest.raises(ValueError, match="refused this token"):
        await asyncio.wait_for(leadership.leading(), 1)
    with pytest.raises(ValueError, match="refused this token"):
        await leadership.ended()
    assert parts.calls == ["lead"]  # nothing to step down from


async def test_a_follower_stopping_stops_waiting_and_never_leads() -> None:
    lease, parts = FakeLease(), Parts()
    leadership = Leadership(lease, parts.lead, parts.step_down)
    leadership.start()
    await _settled()

    await asyncio.wait_for(leadership.release(), 1)
    lease.granted.set()
    await _settled()

    assert parts.calls == []
    assert (leadership.role, lease.released) == (Role.FOLLOWER, 1)


async def test_a_leader_stopping_neither_steps_down_nor_reports_a_loss() -> None:
    lease, parts = FakeLease(), Parts()
    leadership = Leadership(lease, parts.lead, parts.step_down)
    leadership.start()
    lease.granted.set()
    await leadership.leading()

    await leadership.cancel()  # the process stops: its own shutdown stops the parts
    assert leadership.role is Role.LEADER  # until the lease is given up
    await leadership.release()

    assert parts.calls == ["lead"]
    assert (leadership.role, lease.released) == (Role.FOLLOWER, 1)
