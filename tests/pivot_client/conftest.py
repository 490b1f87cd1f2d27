"""Fixtures for the client's unit tests: a scripted Pivot behind a PivotClient."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pivot_client import PivotClient
from tests.pivot_client.fakes import (
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    FakePivot,
    SleepRecorder,
    mock_http,
)
from tests.standins import FakeClock


@pytest.fixture
def fake() -> FakePivot:
    """Pivot, scripted per test."""
    return FakePivot()


@pytest.fixture
def clock() -> FakeClock:
    """The client's monotonic clock."""
    return FakeClock()


@pytest.fixture
def sleeps() -> SleepRecorder:
    """The client's sleeps, recorded instead of waited."""
    return SleepRecorder()


@pytest.fixture
async def client(
    fake: FakePivot, clock: FakeClock, sleeps: SleepRecorder
) -> AsyncIterator[PivotClient]:
    """A client talking to ``fake``, with no jitter, a fake clock and no real sleeping."""
    async with mock_http(fake) as http:
        pivot = PivotClient(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=BASE_URL, http_client=http
        )
        pivot._clock = clock
        pivot._sleep = sleeps
        pivot._random = lambda: 0.0  # jitter factor 1: delays are exactly the backoff
        yield pivot
