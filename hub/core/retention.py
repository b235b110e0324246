"""Retention: records older than a client's retention period are purged with their finished deliveries.

A client keeps its records for `retention_months` calendar months (Lisbon) besides
the running month; unset, the hub's `[privacy] default_retention_months` applies,
and when that is unset too records are kept forever. Precisely: a record is purged
when the time its call was offered (its finalization time when it has none) is
before 00:00 Lisbon on the first day of the month N months before the month of
`now`. With N = 3 on 15 July, April, May, June and July are kept.

A purged record goes with its outbox rows, their delivery attempts and its call
state. An old record with a delivery still pending is kept until that delivery
is finished (delivered or dead): a worker needs the record to deliver it. The
client's finished campaign contacts (a name and a number) whose appointment is
before the same cutoff go too. The ledger, documents, invoices and month counters
stay: they are the client's accounts (a ledger entry names a record by its id,
which says nothing about the caller). Calls to numbers of no client never become
records; their state goes under the hub's default period.

The work is done in batches, each its own short transaction, so that a big purge
never holds the database for long; each batch updates the purge's privacy log
entry in its own transaction, so the log always says exactly what is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from hub.core import privacy_log
from hub.core import store as t
from hub.core.engine import FINAL, UNROUTED
from hub.core.ledger import UnknownAccount
from hub.core.outbox import PENDING
from hub.core.scheduler import Job, JobContext
from hub.core.store import Store, to_db

LISBON = ZoneInfo("Europe/Lisbon")
BATCH = 500
#: The subject of the log entry for calls to numbers of no client (they have no record).
UNROUTED_SUBJECT = "unrouted calls"
#: Campaign contacts still to be made: never purged.
OPEN_CONTACTS = ("pending", "in_progress")

#: Told `(subject, done, total)` after each batch, for a progress bar.
Progress = Callable[[str, int, int], None]


def cutoff(now: datetime, months: int) -> datetime:
    """The first instant kept: 00:00 Lisbon on day 1 of the month `months` before the month of `now`."""
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    local = now.astimezone(LISBON)
    index = local.year * 12 + local.month - 1 - months
    year, month = divmod(index, 12)
    return datetime(year, month + 1, 1, tzinfo=LISBON)


@dataclass
class ClientPurge:
    """What a purge did (or, in a dry run, would do) for one client."""

    client: str
    months: int | None
    cutoff: datetime | None
    records: int = 0
    deliveries: int = 0
    attempts: int = 0
    calls: int = 0
    #: Finished campaign contacts (a name and a number) whose appointment is before the cutoff.
    contacts: int = 0
    #: Old records kept because one of their deliveries is still pending.
    kept_pending: int = 0

    def counts(self) -> dict[str, int]:
        """The counts alone (what the privacy log keeps)."""
        return {
            "records": self.records,
            "deliveries": self.deliveries,
            "attempts": self.attempts,
            "calls": self.calls,
            "contacts": self.contacts,
            "kept_pending": self.kept_pending,
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "client": self.client,
            "retention_months": self.months,
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(),
            **self.counts(),
        }


@dataclass
class PurgeReport:
    """What a purge did, client by client."""

    now: datetime
    dry_run: bool
    clients: list[ClientPurge] = field(default_factory=list)
    #: Calls to numbers of no client, purged under the hub's default period.
    unrouted_calls: int = 0

    @property
    def records(self) -> int:
        """Records purged, all clients together."""
        return sum(item.records for item in self.clients)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "records": self.records,
            "deliveries": sum(item.deliveries for item in self.clients),
            "attempts": sum(item.attempts for item in self.clients),
            "calls": sum(item.calls for item in self.clients) + self.unrouted_calls,
            "contacts": sum(item.contacts for item in self.clients),
            "unrouted_calls": self.unrouted_calls,
            "clients": [item.as_dict() for item in self.clients],
        }


def _periods(conn: Connection, client: str | None, default_months: int | None) -> list[tuple[str, int | None]]:
    query = select(t.clients.c.id, t.clients.c.config).order_by(t.clients.c.id)
    if client is not None:
        query = query.where(t.clients.c.id == client)
    rows = conn.execute(query).all()
    if client is not None and not rows:
        raise UnknownAccount(f"no client {client!r} (apply it with `recado clients apply`)")
    periods = []
    for row in rows:
        own = (row.config or {}).get("retention_months")
        periods.append((row.id, int(own) if own is not None else default_months))
    return periods


def _old(client: str, before: datetime) -> ColumnElement[bool]:
    offered = t.records.c.offered_at
    return and_(
        t.records.c.client == client,
        or_(offered < to_db(before), and_(offered.is_(None), t.records.c.finalized_at < to_db(before))),
    )


def _pending_records(client: str) -> Any:
    # A NOT IN over the (few) pending rows, read once, rather than a lookup per record.
    return select(t.outbox.c.record_id).where(
        t.outbox.c.client == client, t.outbox.c.status == PENDING, t.outbox.c.record_id.is_not(None)
    )


def _count(conn: Connection, query: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def _plan(conn: Connection, item: ClientPurge) -> None:
    """Fill `item` with what a purge would remove now (the dry run, and the progress total)."""
    assert item.cutoff is not None
    old = _old(item.client, item.cutoff)
    purgeable = select(t.records.c.record_id).where(old, t.records.c.record_id.not_in(_pending_records(item.client)))
    item.records = _count(conn, purgeable)
    item.kept_pending = _count(conn, select(t.records.c.record_id).where(old)) - item.records
    rows = select(t.outbox.c.id).where(t.outbox.c.record_id.in_(purgeable))
    item.deliveries = _count(conn, rows)
    item.attempts = _count(conn, select(t.delivery_attempts.c.id).where(t.delivery_attempts.c.outbox_id.in_(rows)))
    item.calls = _count(
        conn, select(t.calls.c.call_id).where(t.calls.c.record_id.in_(purgeable), t.calls.c.state == FINAL)
    )
    item.contacts = _count(conn, select(t.contacts.c.id).where(_old_contact(item.client, item.cutoff)))


def _old_contact(client: str, before: datetime) -> ColumnElement[bool]:
    return and_(
        t.contacts.c.client == client,
        t.contacts.c.status.not_in(OPEN_CONTACTS),
        t.contacts.c.appointment_at < to_db(before),
    )


def _purge_contacts_batch(store: Store, conn: Connection, item: ClientPurge, size: int) -> int:
    assert item.cutoff is not None
    query = select(t.contacts.c.id).where(_old_contact(item.client, item.cutoff)).order_by(t.contacts.c.id).limit(size)
    if store.lock_for_update():
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    return _deleted(conn, delete(t.contacts).where(t.contacts.c.id.in_(ids))) if ids else 0


def _purge_batch(store: Store, conn: Connection, item: ClientPurge, size: int) -> tuple[int, int, int, int]:
    """Delete up to `size` purgeable records of one client with what belongs to them; return the counts."""
    assert item.cutoff is not None
    query = (
        select(t.records.c.record_id)
        .where(_old(item.client, item.cutoff), t.records.c.record_id.not_in(_pending_records(item.client)))
        .order_by(t.records.c.offered_at, t.records.c.record_id)
        .limit(size)
    )
    if store.lock_for_update():
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return 0, 0, 0, 0
    rows_query = select(t.outbox.c.id, t.outbox.c.record_id, t.outbox.c.status).where(t.outbox.c.record_id.in_(ids))
    if store.lock_for_update():
        # A replay may have made a dead row pending since the records were chosen.
        rows_query = rows_query.with_for_update()
    rows = conn.execute(rows_query).all()
    busy = {row.record_id for row in rows if row.status == PENDING}
    ids = [record_id for record_id in ids if record_id not in busy]
    outbox_ids = [int(row.id) for row in rows if row.record_id not in busy]
    attempts = deliveries = 0
    if outbox_ids:
        attempts = _deleted(conn, delete(t.delivery_attempts).where(t.delivery_attempts.c.outbox_id.in_(outbox_ids)))
        deliveries = _deleted(conn, delete(t.outbox).where(t.outbox.c.id.in_(outbox_ids)))
    calls = _deleted(conn, delete(t.calls).where(t.calls.c.record_id.in_(ids), t.calls.c.state == FINAL))
    records = _deleted(conn, delete(t.records).where(t.records.c.record_id.in_(ids)))
    return records, deliveries, attempts, calls


def _deleted(conn: Connection, statement: Any) -> int:
    return int(conn.execute(statement).rowcount or 0)


def _purge_client(
    store: Store, item: ClientPurge, *, now: datetime, actor: str, size: int, progress: Progress | None
) -> None:
    with store.connect() as conn:
        _plan(conn, item)
    total = item.records + item.contacts
    kept = item.kept_pending
    item.records = item.deliveries = item.attempts = item.calls = item.contacts = 0
    entry: int | None = None
    for kind in ("records", "contacts"):
        while True:
            with store.begin() as conn:
                if kind == "records":
                    records, deliveries, attempts, calls = _purge_batch(store, conn, item, size)
                    item.records += records
                    item.deliveries += deliveries
                    item.attempts += attempts
                    item.calls += calls
                    done = records
                else:
                    done = _purge_contacts_batch(store, conn, item, size)
                    item.contacts += done
                if not done:
                    break
                details = {**item.counts(), "retention_months": item.months, "cutoff": _iso(item.cutoff)}
                if entry is None:
                    entry = privacy_log.write(
                        conn, at=now, action="purge", subject=item.client, actor=actor, details=details
                    )
                else:
                    privacy_log.amend(conn, entry, details)
            if progress is not None:
                progress(item.client, item.records + item.contacts, max(total, item.records + item.contacts))
    item.kept_pending = kept


def _offered(data: dict[str, Any]) -> datetime:
    text = data.get("offered_at") or data.get("last_at")
    if not text:
        return datetime(1970, 1, 1, tzinfo=UTC)  # no time at all: as old as can be
    return datetime.fromisoformat(str(text))


def _purge_unrouted(store: Store, before: datetime, *, now: datetime, actor: str, dry_run: bool, size: int) -> int:
    """Calls to numbers of no client (they never become records) offered before `before`."""
    unrouted = and_(t.calls.c.state == UNROUTED, t.calls.c.client.is_(None))
    purged = 0
    entry: int | None = None
    position = ("", "")
    while True:
        with store.connect() if dry_run else store.begin() as conn:
            after = or_(
                t.calls.c.source > position[0],
                and_(t.calls.c.source == position[0], t.calls.c.call_id > position[1]),
            )
            rows = conn.execute(
                select(t.calls.c.source, t.calls.c.call_id, t.calls.c.data)
                .where(unrouted, after)
                .order_by(t.calls.c.source, t.calls.c.call_id)
                .limit(size)
            ).all()
            if not rows:
                return purged
            position = (rows[-1].source, rows[-1].call_id)
            old = [row for row in rows if _offered(row.data) < before]
            if dry_run or not old:
                purged += len(old)
                continue
            for row in old:
                purged += _deleted(
                    conn,
                    delete(t.calls).where(t.calls.c.source == row.source, t.calls.c.call_id == row.call_id, unrouted),
                )
            details = {"calls": purged, "cutoff": before.isoformat()}
            if entry is None:
                entry = privacy_log.write(
                    conn, at=now, action="purge", subject=UNROUTED_SUBJECT, actor=actor, details=details
                )
            else:
                privacy_log.amend(conn, entry, details)


def purge(
    store: Store,
    *,
    now: datetime,
    client: str | None = None,
    dry_run: bool = False,
    default_months: int | None = None,
    actor: str = "retention",
    batch_size: int = BATCH,
    progress: Progress | None = None,
) -> PurgeReport:
    """Purge every client's records older than its retention period (or only `client`'s).

    `default_months` is the hub's period for clients that set none (None: keep
    theirs forever); it also bounds calls to numbers of no client when no
    `client` is given. A dry run counts and changes nothing. Running it twice
    for the same `now` purges nothing the second time. `UnknownAccount` if
    `client` does not exist.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    with store.connect() as conn:
        periods = _periods(conn, client, default_months)
    report = PurgeReport(now=now, dry_run=dry_run)
    for client_id, months in periods:
        item = ClientPurge(client_id, months, None if months is None else cutoff(now, months))
        report.clients.append(item)
        if months is None:
            continue
        if dry_run:
            with store.connect() as conn:
                _plan(conn, item)
        else:
            _purge_client(store, item, now=now, actor=actor, size=batch_size, progress=progress)
    if client is None and default_months is not None:
        report.unrouted_calls = _purge_unrouted(
            store, cutoff(now, default_months), now=now, actor=actor, dry_run=dry_run, size=batch_size
        )
    return report


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _run_job(context: JobContext) -> int:
    report = purge(
        context.store,
        now=context.now,
        default_months=context.settings.privacy.default_retention_months,
        actor=f"job {JOB_NAME}",
    )
    return report.records + sum(item.contacts for item in report.clients) + report.unrouted_calls


JOB_NAME = "privacy.retention"
#: The daily purge (idempotent for a given time: a second run finds nothing old left).
RETENTION_JOB = Job(JOB_NAME, timedelta(days=1), _run_job)
