"""Times as sellers read them: their own zone, with Indonesia's zone names."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

__all__ = ["day_bounds", "format_clock", "format_date", "format_datetime", "utcnow"]

# Indonesians say WIB/WITA/WIT; zoneinfo would print "+07" and the like.
_ZONE_NAMES = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _zone_name(moment: datetime, zone: ZoneInfo) -> str:
    return _ZONE_NAMES.get(zone.key) or moment.tzname() or zone.key


def format_datetime(moment: datetime, zone: ZoneInfo) -> str:
    """``24/11/2026 14:05 WIB``."""
    local = moment.astimezone(zone)
    return f"{local:%d/%m/%Y %H:%M} {_zone_name(local, zone)}"


def format_date(moment: datetime, zone: ZoneInfo) -> str:
    """``24/11/2026`` in the seller's zone."""
    return f"{moment.astimezone(zone):%d/%m/%Y}"


def format_clock(moment: datetime, zone: ZoneInfo) -> str:
    """``14:05`` in the seller's zone."""
    return f"{moment.astimezone(zone):%H:%M}"


def day_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of the seller's calendar day that contains ``moment``."""
    day = moment.astimezone(zone).date()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day.fromordinal(day.toordinal() + 1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
