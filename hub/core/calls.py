"""The durable state of calls in progress (table `calls`).

Each call's state lives in the database between its events, so the engine can
stop between two events of a call and carry on where it was. `data` is the
JSON the engine keeps for a call (times as ISO 8601 text).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.models import record_id_for
from hub.core.store import to_db


def load(conn: Connection, source: str, call_id: str, *, lock: bool) -> tuple[str, dict[str, Any], int] | None:
    """`(state, data, hold_cents)` of a call, or None; with `lock`, the row is locked until commit."""
    query = select(t.calls.c.state, t.calls.c.data, t.calls.c.hold_cents).where(
        t.calls.c.source == source, t.calls.c.call_id == call_id
    )
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else (row.state, dict(row.data), int(row.hold_cents))


def save(
    conn: Connection,
    data: dict[str, Any],
    state: str,
    hold: int,
    due_at: datetime | None,
    *,
    new: bool,
) -> None:
    """Write a call's state; `due_at` is when (in event time) the engine closes it if nothing happens."""
    values = {
        "state": state,
        "data": data,
        "hold_cents": hold,
        "due_at": to_db(due_at),
        "updated_at": datetime.now(UTC),
    }
    if new:
        conn.execute(
            insert(t.calls).values(
                source=data["source"],
                call_id=data["call_id"],
                record_id=record_id_for(data["source"], data["call_id"]),
                client=data.get("client"),
                **values,
            )
        )
    else:
        conn.execute(
            update(t.calls)
            .where(t.calls.c.source == data["source"], t.calls.c.call_id == data["call_id"])
            .values(client=data.get("client"), **values)
        )
