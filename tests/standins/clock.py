"""A clock tests move by hand, for code that takes its monotonic clock as an argument, and a
check that requests kept to a pace in real time."""

from __future__ import annotations

import itertools
from collections.abc import Sequence


class FakeClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


def assert_paced(moments: Sequence[float], interval: float) -> None:
    """Assert that requests seen at ``moments`` kept to one per ``interval`` seconds.

    Pacers give out slots ``interval`` apart, but a request is seen when the event loop wakes
    for its slot, which a busy machine delays: two can be seen closer than a slot. Over any
    stretch, though, no more than one slot's worth is gained, so N requests never take less
    than (N - 2) intervals; two paces kept apart, or none, would.
    """
    ordered = sorted(moments)
    for (i, earlier), (j, later) in itertools.combinations(enumerate(ordered), 2):
        assert later - earlier >= (j - i - 1) * interval, (i, j, later - earlier, ordered)
