"""How Python values are stored: datetimes as UTC microseconds, flags as sorted text."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

__all__ = [
    "Ids",
    "flags_from_db",
    "flags_to_db",
    "id_array",
    "like_containing",
    "moment_from_db",
    "moment_to_db",
    "optional_moment_from_db",
    "optional_moment_to_db",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def moment_to_db(moment: datetime) -> int:
    """Microseconds since the Unix epoch: integers keep ORDER BY and range scans on indexes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: storage needs timezone-aware UTC")
    return (moment - _EPOCH) // _MICROSECOND


def optional_moment_to_db(moment: datetime | None) -> int | None:
    """``moment_to_db`` that lets None through."""
    return None if moment is None else moment_to_db(moment)


def moment_from_db(micros: int) -> datetime:
    """The aware UTC datetime stored as ``micros``."""
    return _EPOCH + micros * _MICROSECOND


def optional_moment_from_db(micros: int | None) -> datetime | None:
    """``moment_from_db`` that lets None through."""
    return None if micros is None else moment_from_db(micros)


def flags_to_db(flags: Iterable[str]) -> str:
    """Sorted, comma-separated: equal sets store as equal text."""
    ordered = sorted(set(flags))
    for flag in ordered:
        if not flag or "," in flag:
            raise ValueError(f"invalid charge flag {flag!r}: must be non-empty, without commas")
    return ",".join(ordered)


def flags_from_db(text: str) -> frozenset[str]:
    """The flag set stored as ``text``."""
    return frozenset(text.split(",")) if text else frozenset()


class Ids(tuple[int | str, ...]):
    """Any number of ids as one parameter, for ``column IN (SELECT value FROM json_each(?))``.

    One statement text whatever the count, where ``IN (?, ?, ...)`` would make one per count.
    SQLite gets it as a JSON array (``as_json``), PostgreSQL as an array (``= ANY(?)``).
    """

    __slots__ = ()

    def as_json(self) -> str:
        """The JSON array SQLite's ``json_each`` reads."""
        return json.dumps(list(self))


def id_array(values: Iterable[int | str]) -> Ids:
    """``values`` as one ``Ids`` parameter."""
    if isinstance(values, str):  # a str is an Iterable[str] too: its characters
        raise TypeError("expected a collection of ids, got one str")
    return Ids(values)


def like_containing(text: str) -> str:
    """A ``LIKE ? ESCAPE '\\'`` pattern matching what contains ``text`` literally: its ``%``,
    ``_`` and backslashes match only themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
