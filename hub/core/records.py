"""Records: built from a call's state, stored, queued for destinations, corrected.

A record is queued once per destination that wants it (a destination without a
filter wants every record of its client); a correction is queued again as
`call.record.updated` so that sinks update the same object.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.clients import Client
from hub.core.models import CallRecord, Disposition, Language, record_id_for
from hub.core.outbox import enqueue, enqueue_new
from hub.core.store import to_db

log = logging.getLogger(__name__)

CREATED = "call.record.created"
UPDATED = "call.record.updated"


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def build(
    data: dict[str, Any],
    client: Client,
    disposition: Disposition,
    price: int,
    balance_after: int,
    *,
    incomplete: bool,
) -> CallRecord:
    """The record of a call from the state the engine kept for it."""
    wrap = data.get("wrapup") or {}
    answered_at = _dt(data.get("answered_at"))
    ended_at = _dt(data.get("ended_at"))
    talked = disposition in (Disposition.ANSWERED, Disposition.SPAM)
    talk = 0
    if talked and answered_at and ended_at:
        talk = max(0, int((ended_at - answered_at).total_seconds()))
    answers = dict(wrap.get("answers") or {})
    return CallRecord(
        record_id=record_id_for(data["source"], data["call_id"]),
        source=data["source"],
        call_id=data["call_id"],
        client=client.id,
        disposition=disposition,
        caller=data.get("caller"),
        caller_name=data.get("caller_name") or (str(answers["name"]) if answers.get("name") else None),
        did=data.get("did"),
        agent=wrap.get("agent") or data.get("agent"),
        language=Language(wrap.get("language") or data.get("language") or "pt"),
        offered_at=_dt(data.get("offered_at")),
        answered_at=answered_at if talked else None,
        ended_at=ended_at,
        talk_seconds=talk,
        script_version=client.script.version,
        answers=answers,
        notes=wrap.get("notes"),
        category=client.script.category.value,
        price_cents=price,
        balance_after_cents=balance_after,
        incomplete=incomplete,
        mark=wrap.get("mark"),
    )


def filter_matches(raw_filter: dict[str, Any] | None, record: CallRecord) -> bool:
    """Whether a destination with this stored filter wants `record` (no filter: every record)."""
    if not raw_filter:
        return True
    dispositions = raw_filter.get("dispositions") or []
    categories = raw_filter.get("categories") or []
    if dispositions and record.disposition.value not in dispositions:
        return False
    return not (categories and record.category not in categories)


#: Whether a sink kind sends messages to people (`Registry.sends_messages`).
SendsMessages = Callable[[str], bool]


def has_message_destination(conn: Connection, client_id: str, sends_messages: SendsMessages) -> bool:
    """Whether the client has an enabled destination whose sink sends messages (so SMS can reach people)."""
    kinds = conn.execute(
        select(t.destinations.c.kind).where(t.destinations.c.client == client_id, t.destinations.c.enabled.is_(True))
    ).scalars()
    return any(sends_messages(kind) for kind in kinds)


def _wanting(conn: Connection, record: CallRecord, sends_messages: SendsMessages) -> list[str]:
    rows = conn.execute(
        select(t.destinations.c.id, t.destinations.c.kind, t.destinations.c.filter).where(
            t.destinations.c.client == record.client, t.destinations.c.enabled.is_(True)
        )
    ).all()
    # A messaging destination (SMS) sends the text of outbound SMS records to the person
    # contacted; a call record has nothing for it to send.
    is_sms = record.channel == "sms"
    return [row.id for row in rows if filter_matches(row.filter, record) and (is_sms or not sends_messages(row.kind))]


def store_and_queue(conn: Connection, record: CallRecord, *, sends_messages: SendsMessages) -> None:
    """Write a new record and one outbox row per destination that wants it.

    Destinations whose sink sends messages (`sends_messages(kind)`) get only SMS records.
    """
    conn.execute(
        insert(t.records).values(
            record_id=record.record_id,
            client=record.client,
            disposition=record.disposition.value,
            offered_at=to_db(record.offered_at),
            finalized_at=datetime.now(UTC),
            data=record.model_dump(mode="json"),
        )
    )
    enqueue_new(
        conn,
        record.client,
        [
            {
                "destination": destination,
                "kind": "record",
                "event_type": CREATED,
                "key": record.record_id,
                "record_id": record.record_id,
            }
            for destination in _wanting(conn, record, sends_messages)
        ],
    )


def correct(
    conn: Connection, record_id: str, wrap: dict[str, Any], *, sends_messages: SendsMessages
) -> CallRecord | None:
    """Apply a (late) wrap-up to an answered record and queue the update; None if nothing changed."""
    row = conn.execute(select(t.records.c.data).where(t.records.c.record_id == record_id)).one()
    old = CallRecord.model_validate(row.data)
    if old.disposition is not Disposition.ANSWERED:
        return None
    new = old.model_copy(
        update={
            "answers": dict(wrap.get("answers") or {}),
            "notes": wrap.get("notes"),
            "agent": wrap.get("agent") or old.agent,
            "language": Language(wrap.get("language") or old.language),
            "incomplete": False,
        }
    )
    if new == old:
        return None
    conn.execute(update(t.records).where(t.records.c.record_id == record_id).values(data=new.model_dump(mode="json")))
    for destination in _wanting(conn, new, sends_messages):
        enqueue(
            conn,
            client=new.client,
            destination=destination,
            kind="record",
            event_type=UPDATED,
            key=record_id,
            record_id=record_id,
            replace=True,
        )
    log.info("record %s corrected by a late wrap-up", record_id)
    return new


def get(conn: Connection, record_id: str) -> CallRecord | None:
    """One record, or None."""
    row = conn.execute(select(t.records.c.data).where(t.records.c.record_id == record_id)).first()
    return None if row is None else CallRecord.model_validate(row.data)


def query(
    conn: Connection,
    *,
    client: str | None = None,
    disposition: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Records as JSON-ready dicts, in the order the calls were offered."""
    statement = select(t.records.c.data).order_by(t.records.c.offered_at, t.records.c.record_id)
    if client is not None:
        statement = statement.where(t.records.c.client == client)
    if disposition is not None:
        statement = statement.where(t.records.c.disposition == disposition)
    if limit is not None:
        statement = statement.limit(limit)
    return [dict(row.data) for row in conn.execute(statement)]
