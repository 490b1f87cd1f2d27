"""Fixtures for the bot's tests: a real database, on each engine, holding the seller the test
works for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage import Database
from tests.bot import SELLER
from tests.standins import add_seller


@pytest.fixture
def db_seller() -> dict[str, Any]:
    """``add_seller``'s arguments for the seller ``db`` holds; a module overrides this fixture
    for another seller."""
    return {"telegram_id": SELLER}


@pytest.fixture
async def db(database_target: Path | str, db_seller: dict[str, Any]) -> AsyncIterator[Database]:
    """A fresh database on each engine holding one seller, closed after the test."""
    async with await Database.open(database_target) as database:
        await add_seller(database, **db_seller)
        yield database
