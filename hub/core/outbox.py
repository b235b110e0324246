"""The outbox: what must be delivered where, claimed by workers under a lease.

Rows are written in the same transaction as the record they carry. Workers
claim due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite
has a single writer), keep the lease alive with heartbeats while a batch is in
flight, and complete each row as delivered, to retry, or dead. A worker that
dies loses its lease and the rows are claimed again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.store import Store, from_db, to_db

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
STATUSES = (PENDING, DELIVERED, DEAD)


@dataclass(frozen=True)
class Claimed:
    """One outbox row claimed by a worker."""

    id: int
    client: str
    destination: str
    kind: str
    event_type: str
    idempotency_key: str
    record_id: str | None
    payload: dict[str, Any] | None
    attempts: int
    created_at: datetime
    #: When the row was due (its `next_attempt_at`); a held row was due at its release time.
    due_at: datetime | None = None


def enqueue(
    conn: Connection,
    *,
    client: str,
    destination: str,
    kind: str,
    event_type: str,
    key: str,
    record_id: str | None = None,
    payload: dict[str, Any] | None = None,
    replace: bool = False,
) -> bool:
    """Add a row to deliver; with `replace`, an existing row is sent again with the new payload.

    Returns whether a row was written (False: it was already there).
    """
    now = datetime.now(UTC)
    existing = conn.execute(
        select(t.outbox.c.id).where(
            t.outbox.c.client == client,
            t.outbox.c.destination == destination,
            t.outbox.c.idempotency_key == key,
            t.outbox.c.event_type == event_type,
        )
    ).first()
    if existing is not None:
        if not replace:
            return False
        conn.execute(
            update(t.outbox)
            .where(t.outbox.c.id == existing.id)
            .values(
                status=PENDING,
                attempts=0,
                payload=payload,
                next_attempt_at=now,
                lease_owner=None,
                lease_until=None,
                last_error=None,
                updated_at=now,
            )
        )
        return True
    conn.execute(
        insert(t.outbox).values(
            client=client,
            destination=destination,
            kind=kind,
            event_type=event_type,
            idempotency_key=key,
            record_id=record_id,
            payload=payload,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    return True


def enqueue_new(conn: Connection, client: str, items: Sequence[dict[str, Any]]) -> None:
    """Add rows known to be new (a record finalized once) in one statement.

    Each item has `destination`, `kind`, `event_type`, `key` and optionally
    `record_id` and `payload`.
    """
    if not items:
        return
    now = datetime.now(UTC)
    conn.execute(
        insert(t.outbox),
        [
            {
                "client": client,
                "destination": item["destination"],
                "kind": item["kind"],
                "event_type": item["event_type"],
                "idempotency_key": item["key"],
                "record_id": item.get("record_id"),
                "payload": item.get("payload"),
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for item in items
        ],
    )


def claim(
    store: Store,
    worker: str,
    *,
    now: datetime,
    lease_s: float,
    limit: int,
    busy: Collection[tuple[str, str]] = (),
) -> list[Claimed]:
    """Lease up to `limit` due rows to `worker` (none that another worker holds).

    Rows of the `(client, destination)` pairs in `busy` are left for later: the
    worker is still delivering to them.
    """
    paused = exists().where(
        t.destinations.c.client == t.outbox.c.client,
        t.destinations.c.id == t.outbox.c.destination,
        or_(t.destinations.c.enabled.is_(False), t.destinations.c.paused_until > to_db(now)),
    )
    query = (
        select(t.outbox)
        .where(
            t.outbox.c.status == PENDING,
            t.outbox.c.next_attempt_at <= to_db(now),
            or_(t.outbox.c.lease_until.is_(None), t.outbox.c.lease_until < to_db(now)),
            ~paused,
            *(~and_(t.outbox.c.client == client, t.outbox.c.destination == dest) for client, dest in busy),
        )
        .order_by(t.outbox.c.id)
        .limit(limit)
    )
    if not store.is_sqlite:
        query = query.with_for_update(skip_locked=True, of=t.outbox)
    with store.begin() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return []
        conn.execute(
            update(t.outbox)
            .where(t.outbox.c.id.in_([row.id for row in rows]))
            .values(lease_owner=worker, lease_until=to_db(now + timedelta(seconds=lease_s)))
        )
    return [
        Claimed(
            id=int(row.id),
            client=row.client,
            destination=row.destination,
            kind=row.kind,
            event_type=row.event_type,
            idempotency_key=row.idempotency_key,
            record_id=row.record_id,
            payload=row.payload,
            attempts=int(row.attempts),
            created_at=from_db(row.created_at) or now,
            due_at=from_db(row.next_attempt_at),
        )
        for row in rows
    ]


def heartbeat(store: Store, worker: str, ids: Sequence[int], *, now: datetime, lease_s: float) -> int:
    """Extend the lease of the rows `worker` still holds; return how many it holds."""
    if not ids:
        return 0
    with store.begin() as conn:
        result = conn.execute(
            update(t.outbox)
            .where(t.outbox.c.id.in_(list(ids)), t.outbox.c.lease_owner == worker)
            .values(lease_until=to_db(now + timedelta(seconds=lease_s)))
        )
    return int(result.rowcount or 0)


def _complete(conn: Connection, worker: str, outbox_id: int, outcome: str, detail: str | None, **values: Any) -> bool:
    """End `worker`'s attempt at a row: count it, give up the lease, set `values`, log it.

    Returns False, and leaves the row alone, if `worker` no longer held the lease.
    """
    result = conn.execute(
        update(t.outbox)
        .where(t.outbox.c.id == outbox_id, t.outbox.c.lease_owner == worker)
        .values(
            attempts=t.outbox.c.attempts + 1,
            lease_owner=None,
            lease_until=None,
            updated_at=datetime.now(UTC),
            **values,
        )
    )
    conn.execute(
        insert(t.delivery_attempts).values(
            outbox_id=outbox_id,
            at=datetime.now(UTC),
            worker=worker,
            outcome=outcome,
            detail=(detail or "")[:500] or None,
        )
    )
    return bool(result.rowcount)


def hold(conn: Connection, worker: str, outbox_id: int, until: datetime) -> bool:
    """Give a claimed row back untried, to be delivered at `until` (a digest's next time).

    Not an attempt: nothing is counted or logged. Returns False if `worker` no longer held the lease.
    """
    result = conn.execute(
        update(t.outbox)
        .where(t.outbox.c.id == outbox_id, t.outbox.c.lease_owner == worker)
        .values(next_attempt_at=to_db(until), lease_owner=None, lease_until=None, updated_at=datetime.now(UTC))
    )
    return bool(result.rowcount)


def mark_delivered(conn: Connection, worker: str, outbox_id: int, remote_id: str | None, detail: str) -> bool:
    """The row was delivered. Returns False if `worker` no longer held its lease."""
    return _complete(
        conn,
        worker,
        outbox_id,
        "delivered",
        detail or remote_id,
        status=DELIVERED,
        remote_id=remote_id,
        last_error=None,
    )


def mark_retry(conn: Connection, worker: str, outbox_id: int, reason: str, next_at: datetime) -> bool:
    """The row failed for now; try again at `next_at`."""
    return _complete(conn, worker, outbox_id, "retry", reason, next_attempt_at=to_db(next_at), last_error=reason[:1000])


def mark_dead(conn: Connection, worker: str, outbox_id: int, reason: str) -> bool:
    """The row will not be delivered unless replayed."""
    return _complete(conn, worker, outbox_id, "dead", reason, status=DEAD, last_error=reason[:1000])


def delivered_since(conn: Connection, client: str, destination: str, since: datetime) -> bool:
    """Whether anything reached `destination` since `since`."""
    row = conn.execute(
        select(t.outbox.c.id)
        .where(
            t.outbox.c.client == client,
            t.outbox.c.destination == destination,
            t.outbox.c.status == DELIVERED,
            t.outbox.c.updated_at >= to_db(since),
        )
        .limit(1)
    ).first()
    return row is not None


def replay(
    store: Store,
    *,
    destination: str | None = None,
    client: str | None = None,
    ids: Sequence[int] | None = None,
) -> int:
    """Send dead rows again (all, or those of a destination/client/ids); return how many."""
    conditions = [t.outbox.c.status == DEAD]
    if destination is not None:
        conditions.append(t.outbox.c.destination == destination)
    if client is not None:
        conditions.append(t.outbox.c.client == client)
    if ids is not None:
        conditions.append(t.outbox.c.id.in_(list(ids)))
    now = datetime.now(UTC)
    with store.begin() as conn:
        result = conn.execute(
            update(t.outbox)
            .where(*conditions)
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                lease_owner=None,
                lease_until=None,
                updated_at=now,
            )
        )
    return int(result.rowcount or 0)


def list_rows(
    conn: Connection,
    *,
    status: str | None = None,
    client: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Outbox rows as JSON-ready dicts, oldest first."""
    query = select(t.outbox).order_by(t.outbox.c.id)
    if status is not None:
        query = query.where(t.outbox.c.status == status)
    if client is not None:
        query = query.where(t.outbox.c.client == client)
    if limit is not None:
        query = query.limit(limit)
    return [
        {
            "id": int(row.id),
            "client": row.client,
            "destination": row.destination,
            "kind": row.kind,
            "event_type": row.event_type,
            "record_id": row.record_id,
            "idempotency_key": row.idempotency_key,
            "status": row.status,
            "attempts": int(row.attempts),
            "next_attempt_at": _iso(row.next_attempt_at),
            "last_error": row.last_error,
            "remote_id": row.remote_id,
            "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at),
        }
        for row in conn.execute(query)
    ]


def counts(conn: Connection) -> dict[str, int]:
    """How many rows are in each status."""
    rows = conn.execute(select(t.outbox.c.status, func.count()).group_by(t.outbox.c.status))
    found = {status: 0 for status in STATUSES}
    found.update({row[0]: int(row[1]) for row in rows})
    return found


def _iso(value: datetime | None) -> str | None:
    moment = from_db(value)
    return None if moment is None else moment.isoformat()
