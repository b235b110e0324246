"""Digest times: "HH:MM" on the Lisbon wall clock, and the next one after a moment.

A digest destination sends at fixed times of the day, every day. Days of 23 or 25 hours
(the change to and from summer time) keep the same wall-clock times: a time that does not
exist that day (the hour skipped in March) is taken with the offset before the change,
and a time that happens twice (the hour repeated in October) is its first occurrence.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

LISBON = ZoneInfo("Europe/Lisbon")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_time(value: str) -> time:
    """`"13:00"` -> 13:00; ValueError saying what was expected otherwise."""
    match = _HH_MM.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a time of day (expected HH:MM, 00:00 to 23:59, e.g. 13:00)")
    return time(int(match.group(1)), int(match.group(2)))


def next_time(times: list[time], after: datetime) -> datetime:
    """The first of `times` (Lisbon wall clock, any day) at or after `after`, in UTC."""
    if not times:
        raise ValueError("no digest times")
    if after.tzinfo is None:
        raise ValueError(f"expected a timezone-aware moment, got {after.isoformat()}")
    day = after.astimezone(LISBON).date() - timedelta(days=1)
    while True:
        for moment in sorted(times):
            candidate = datetime.combine(day, moment, tzinfo=LISBON).astimezone(UTC)
            if candidate >= after:
                return candidate
        day += timedelta(days=1)
