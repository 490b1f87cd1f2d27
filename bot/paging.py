"""Cutting a list into numbered pages: the services page their results, the keyboards draw them.

Page numbers come from buttons, so any number is accepted and clamped to the pages there are.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Page"]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: 1-based ``number`` of ``count`` pages, and the rows it covers."""

    number: int
    count: int
    offset: int
    limit: int

    @classmethod
    def of(cls, requested: int, total: int, size: int) -> Page:
        """The page ``requested``, clamped to the pages ``total`` rows fill (at least one)."""
        count = max(1, -(-total // size))
        number = min(max(1, requested), count)
        return cls(number=number, count=count, offset=(number - 1) * size, limit=size)

    @property
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether a page comes after this one."""
        return self.number < self.count
