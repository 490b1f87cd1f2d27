"""Fixtures for storage tests: a real database file in the test's tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database lives (in a folder Database.open must create)."""
    return tmp_path / "data" / "kodebayar.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """An open, migrated database, closed after the test."""
    async with await Database.open(db_path) as database:
        yield database
