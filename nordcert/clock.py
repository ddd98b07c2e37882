"""Wall-clock time in the one unit the store uses: integer microseconds since the epoch (UTC), and the
conversions every capability needs between that unit, aware datetimes and ISO 8601 text."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_us() -> int:
    return time.time_ns() // 1000


def now() -> datetime:
    """Now as an aware UTC datetime, at the store's precision."""
    return dt(now_us())


def us(moment: datetime) -> int:
    """A moment as the store keeps it: integer microseconds since the epoch."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def dt(micros: int) -> datetime:
    """A stored moment as an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=micros)


def iso_dt(moment: datetime) -> str:
    """A moment as ISO 8601 in UTC (``Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso(micros: int | None) -> str | None:
    """A stored moment as ISO 8601 in UTC (``Z``); None stays None."""
    return None if micros is None else iso_dt(dt(micros))
