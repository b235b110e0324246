"""Reading records and deliveries for the API and the pages, filtered and scoped to one client."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.store import from_db, to_db

CSV_COLUMNS = [
    "record_id",
    "client",
    "disposition",
    "offered_at",
    "caller",
    "caller_name",
    "agent",
    "language",
    "talk_seconds",
    "price_cents",
    "answers",
    "notes",
]


@dataclass(frozen=True)
class RecordFilter:
    """Which records to list; `client` None means every client (operators only)."""

    client: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    disposition: str | None = None
    text: str | None = None
    limit: int = 200
    offset: int = 0


def list_records(conn: Connection, where: RecordFilter) -> list[dict[str, Any]]:
    """Records matching `where`, newest first."""
    query = select(t.records.c.data).order_by(t.records.c.offered_at.desc(), t.records.c.record_id)
    if where.client is not None:
        query = query.where(t.records.c.client == where.client)
    if where.since is not None:
        query = query.where(t.records.c.offered_at >= to_db(where.since))
    if where.until is not None:
        query = query.where(t.records.c.offered_at < to_db(where.until))
    if where.disposition:
        query = query.where(t.records.c.disposition == where.disposition)
    rows = [dict(row.data) for row in conn.execute(query)]
    if where.text:
        # Free text over the fields people search by: the JSON column is not indexed by content.
        needle = where.text.casefold()
        rows = [row for row in rows if needle in _searchable(row)]
    return rows[where.offset : where.offset + where.limit]


def _searchable(record: dict[str, Any]) -> str:
    parts = [record.get("caller") or "", record.get("caller_name") or "", record.get("notes") or ""]
    parts += [str(value) for value in (record.get("answers") or {}).values()]
    return " ".join(parts).casefold()


def get_record(conn: Connection, record_id: str) -> dict[str, Any] | None:
    """One record, or None."""
    data = conn.execute(select(t.records.c.data).where(t.records.c.record_id == record_id)).scalar()
    return None if data is None else dict(data)


def records_csv(records: list[dict[str, Any]]) -> str:
    """Records as CSV, one row each, answers as `name=value; …`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        answers = "; ".join(f"{key}={value}" for key, value in (record.get("answers") or {}).items())
        row = [record.get(column, "") for column in CSV_COLUMNS]
        row[CSV_COLUMNS.index("answers")] = answers
        writer.writerow(["" if value is None else _safe_cell(value) for value in row])
    return out.getvalue()


def _safe_cell(value: Any) -> str:
    text = str(value)
    # A cell starting with = + - @ is a formula in spreadsheets: quote it so it stays text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not text[1:2].isdigit() else text


def delivery_row(conn: Connection, delivery_id: int) -> Any:
    """One outbox row, or None."""
    return conn.execute(select(t.outbox).where(t.outbox.c.id == delivery_id)).first()


def deliveries_of_record(conn: Connection, record_id: str) -> list[dict[str, Any]]:
    """The deliveries of one record to each destination, with every attempt."""
    rows = conn.execute(select(t.outbox).where(t.outbox.c.record_id == record_id).order_by(t.outbox.c.id)).all()
    found = []
    for row in rows:
        attempts = conn.execute(
            select(t.delivery_attempts)
            .where(t.delivery_attempts.c.outbox_id == row.id)
            .order_by(t.delivery_attempts.c.id)
        ).all()
        found.append(
            {
                "id": int(row.id),
                "destination": row.destination,
                "event_type": row.event_type,
                "status": row.status,
                "attempts": [
                    {"at": _iso(a.at), "outcome": a.outcome, "detail": a.detail, "worker": a.worker} for a in attempts
                ],
                "last_error": row.last_error,
                "remote_id": row.remote_id,
            }
        )
    return found


def recent_record(conn: Connection, client: str) -> dict[str, Any] | None:
    """The client's most recent answered record (for mapping previews), or any record."""
    for condition in (t.records.c.disposition == "answered", t.records.c.disposition.isnot(None)):
        data = conn.execute(
            select(t.records.c.data)
            .where(t.records.c.client == client, condition)
            .order_by(t.records.c.finalized_at.desc())
            .limit(1)
        ).scalar()
        if data is not None:
            return dict(data)
    return None


def delivery_counts_by_sink(conn: Connection) -> list[tuple[str, str, int]]:
    """Delivery attempts by destination kind and outcome: `(kind, outcome, count)`."""
    query = (
        select(t.destinations.c.kind, t.delivery_attempts.c.outcome, func.count())
        .select_from(t.delivery_attempts)
        .join(t.outbox, t.outbox.c.id == t.delivery_attempts.c.outbox_id)
        .join(
            t.destinations,
            (t.destinations.c.client == t.outbox.c.client) & (t.destinations.c.id == t.outbox.c.destination),
        )
        .group_by(t.destinations.c.kind, t.delivery_attempts.c.outcome)
    )
    return [(str(kind), str(outcome), int(count)) for kind, outcome, count in conn.execute(query)]


def _iso(value: datetime | None) -> str | None:
    moment = from_db(value)
    return None if moment is None else moment.isoformat()
