"""JSON from outside (callbacks and API answers), read with bounds.

The stdlib ``json`` module recurses (a body nested 100,000 levels deep raises
``RecursionError``) and turns a number literal of any length into a Python number.
pydantic-core's parser (jiter) refuses nesting deeper than 200 levels and integer literals of
more than 4,300 digits, in time linear in the input, and is faster than ``json`` on Pivot's
bodies; the size of the input is the caller's to cap (``bot.web`` takes at most 1 MiB). A float
literal too large for a float (``1e400``) still comes out as ``inf``: the amount check refuses it.
"""

from __future__ import annotations

import json

import pydantic_core

__all__ = ["compact_json", "load_json"]


def compact_json(value: object) -> str:
    """``value`` as the shortest JSON text, as it is sent and counted against Pivot's limits."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def load_json(raw: bytes, *, partial: bool = False) -> object:
    """The JSON value in ``raw``; ``ValueError`` for invalid JSON, too deep a nesting, too long
    an integer, ``NaN`` or ``Infinity``, or bytes that are not UTF-8.

    With ``partial``, ``raw`` may stop anywhere: what is complete comes out (a cut string is
    left out, a cut number is kept as cut, so such a value is never money).
    """
    return pydantic_core.from_json(raw, allow_inf_nan=False, allow_partial=partial)
