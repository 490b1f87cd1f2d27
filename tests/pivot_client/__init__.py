"""Tests of the Pivot client library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> Any:
    """A JSON sample from ``fixtures/``, decoded."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))
