"""The event clock: the latest event time the engine has seen.

Rules use event time, never the wall clock, so that history can be replayed.
"Now" for views such as "calls this month" is this clock when there is one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from hub.core import store as t

_KEY = "clock"


def event_clock(conn: Connection) -> datetime | None:
    """The latest event time processed, or None before the first event."""
    value = conn.execute(select(t.engine_state.c.value).where(t.engine_state.c.key == _KEY)).scalar()
    return None if value is None else datetime.fromisoformat(value)


def advance(conn: Connection, at: datetime) -> bool:
    """Move the clock forward to `at` (never back); return whether it moved."""
    current = event_clock(conn)
    if current is not None and current >= at:
        return False
    value = at.astimezone(UTC).isoformat()
    if current is None:
        conn.execute(insert(t.engine_state).values(key=_KEY, value=value))
    else:
        conn.execute(update(t.engine_state).where(t.engine_state.c.key == _KEY).values(value=value))
    return True


def now_for_views(conn: Connection) -> datetime:
    """The event clock, or the wall clock when no event was ever processed."""
    return event_clock(conn) or datetime.now(UTC)


def now_for_reports(conn: Connection) -> datetime:
    """The later of the event clock and the wall clock, for month reports.

    A replayed history may run behind or ahead of the wall clock: a month is over by either.
    """
    return max(now_for_views(conn), datetime.now(UTC))
