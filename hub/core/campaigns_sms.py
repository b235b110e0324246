"""Sending the SMS of campaigns: the `campaigns.send_sms` job and `recado campaigns dispatch`.

Each due SMS contact, within the outbound hours, gets its text rendered and its
record finalized (priced, debited, queued) in its own transaction; the client's SMS
destination sends it like any delivery, and its delivery report comes back as an
`sms_delivered` or `sms_failed` event (see `hub.core.outbound_events`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from hub.core import notices, outbound, records
from hub.core import store as t
from hub.core.accounts import load_client
from hub.core.models import Disposition
from hub.core.quiet_hours import QuietHours
from hub.core.registry import Registry
from hub.core.scheduler import Job, JobContext
from hub.core.store import Store, to_db
from hub.settings import Settings

log = logging.getLogger(__name__)
_BATCH = 100


def _due(conn: Connection, now: datetime, excluded: set[str]) -> list[int]:
    query = (
        select(t.contacts.c.id)
        .where(t.contacts.c.status == "pending", t.contacts.c.channel == "sms", t.contacts.c.due_at <= to_db(now))
        .order_by(t.contacts.c.appointment_at, t.contacts.c.id)
        .limit(_BATCH)
    )
    if excluded:
        query = query.where(t.contacts.c.client.not_in(sorted(excluded)))
    return [int(contact_id) for contact_id in conn.execute(query).scalars()]


def due_count(store: Store, now: datetime) -> int:
    """How many SMS contacts are pending and due at `now` (what `send_due_sms` will look at)."""
    with store.connect() as conn:
        query = select(func.count()).where(
            t.contacts.c.status == "pending", t.contacts.c.channel == "sms", t.contacts.c.due_at <= to_db(now)
        )
        return int(conn.execute(query).scalar_one())


def send_due_sms(
    store: Store,
    registry: Registry,
    settings: Settings,
    *,
    now: datetime,
    notify: Callable[..., None] | None = None,
    progress: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Make every SMS contact due at `now`; counts of what happened (`sent`, `waiting`, `opted_out`, `skipped`).

    Nothing is sent in quiet hours, on Sundays or on national holidays. A client whose
    balance cannot pay the next SMS keeps its contacts pending and is told once; a client
    whose contract is over keeps them pending too (the operator gets an alert).
    `progress` is called after each contact looked at (see `due_count`).
    """
    counts = {"sent": 0, "waiting": 0, "opted_out": 0, "skipped": 0}
    why = QuietHours(settings.outbound).why_not(now)
    if why is not None:
        log.info("no SMS sent at %s: %s", now.isoformat(), why)
        return counts
    excluded: set[str] = set()
    while True:
        with store.connect() as conn:
            due = _due(conn, now, excluded)
        if not due:
            return counts
        for contact_id in due:
            outcome, record = _send_one(store, registry, settings, contact_id, now, excluded)
            counts[outcome] = counts.get(outcome, 0) + 1
            if progress is not None:
                progress()
            if record is not None and notify is not None:
                notify("record_finalized", record=record)


def _send_one(
    store: Store, registry: Registry, settings: Settings, contact_id: int, now: datetime, excluded: set[str]
) -> tuple[str, Any]:
    with store.begin() as conn:
        contact = outbound.load(conn, contact_id, lock=True)
        if contact is None or contact.status != "pending" or contact.client in excluded:
            return "waiting", None
        retired = outbound.retire_if_moot(conn, contact, now)
        if retired is not None:
            return retired, None
        client = load_client(conn, contact.client)
        if outbound.stopped_by_contract(conn, client.id, now):
            excluded.add(client.id)
            return "waiting", None
        if not records.has_message_destination(conn, client.id, registry.sends_messages):
            notices.alert_once(
                conn,
                client=client.id,
                kind="campaign_no_sms_destination",
                key=f"sms-destination:{client.id}:{contact.campaign}",
                message=f"{client.id}: campaign {contact.campaign} has SMS contacts but no enabled SMS destination",
            )
            excluded.add(client.id)
            return "waiting", None
        price = outbound.next_price(conn, client.id, now, settings.tariff)
        if not outbound.covered(conn, client.id, now, price):
            outbound.tell_no_balance(conn, registry, client, now, price)
            excluded.add(client.id)
            return "waiting", None
        message = outbound.message_for(contact, client)
        outbound.set_fields(conn, contact.id, now, attempts=contact.attempts + 1, started_at=now)
        record = outbound.finalize(
            conn, registry, settings.tariff, contact, Disposition.SMS_SENT, at=now, message=message
        )
    return "sent", record


def _run(context: JobContext) -> int:
    counts = send_due_sms(context.store, context.registry, context.settings, now=context.now, notify=context.notify)
    return counts["sent"]


#: The periodic job that sends the campaigns' due SMS (listed in `hub.core.jobs`).
SEND_SMS = Job(name="campaigns.send_sms", every=timedelta(minutes=1), run=_run)
