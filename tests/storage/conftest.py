"""Fixtures for storage tests: a real database on each engine (``database_target``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database


@pytest.fixture
async def db(database_target: Path | str) -> AsyncIterator[Database]:
    """An open, migrated database, closed after the test."""
    async with await Database.open(database_target) as database:
        yield database
