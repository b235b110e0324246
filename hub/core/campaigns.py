"""Phone contacts of campaigns as tasks: claimed by an agent, called, answered with an outcome.

An agent asks for the next task (`next_phone_task`): the most urgent pending phone
contact it may call, within the outbound hours, of a client whose contract runs and
whose balance covers the contact (its price is held, as an admitted call's is). A task
nobody finishes is given back by `hub.core.campaigns_stale`. The agent calls the number
(showing the client's first number as caller id), reads the script and records the
outcome (`record_outcome`): confirmed, rescheduled, no answer. A contact of a
`message` campaign is claimed by the telephony source instead (`next_message_task`),
which plays the text and reports the call's events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, select
from sqlalchemy.engine import Connection

from hub.core import contract_state, ledger, outbound, records
from hub.core import store as t
from hub.core.accounts import load_client
from hub.core.clients import Client
from hub.core.models import CallRecord, Disposition, Language
from hub.core.outbound import Contact
from hub.core.quiet_hours import QuietHours
from hub.core.registry import Registry
from hub.core.store import Store, to_db
from hub.settings import Settings

log = logging.getLogger(__name__)

#: What an agent (or the telephony source) may record for a phone contact.
OUTCOMES = (Disposition.CONFIRMED, Disposition.RESCHEDULED, Disposition.NO_ANSWER, Disposition.MESSAGE_PLAYED)
_BATCH = 20


class OutcomeError(ValueError):
    """An outcome that cannot be recorded for this contact (unknown, already final, not a phone contact)."""


@dataclass(frozen=True)
class PhoneTask:
    """A phone contact to make, with everything the agent's screen shows."""

    contact_id: int
    campaign_id: int
    campaign_name: str
    client: str
    client_name: str
    #: The number to call, E.164.
    number: str
    name: str
    language: Language
    appointment_at: datetime
    #: The rendered text: what the agent reads, or the message played.
    script: str
    #: `agent` (an agent talks) or `message` (the recorded message is played).
    mode: str
    #: The number the call shows: the client's first number.
    caller_id: str
    status: str
    agent: str | None
    attempts: int

    @property
    def call_id(self) -> str:
        """The call id the telephony source reports this call's events under."""
        return outbound.call_id_of(self.contact_id)


def _task(contact: Contact, client: Client, status: str | None = None, agent: str | None = None) -> PhoneTask:
    return PhoneTask(
        contact_id=contact.id,
        campaign_id=contact.campaign,
        campaign_name=contact.campaign_name,
        client=client.id,
        client_name=client.name,
        number=contact.number,
        name=contact.name,
        language=contact.language,
        appointment_at=contact.appointment_at,
        script=outbound.message_for(contact, client),
        mode=contact.mode,
        caller_id=client.dids[0],
        status=status or contact.status,
        agent=agent if status else contact.agent,
        attempts=contact.attempts + (1 if status == "in_progress" else 0),
    )


def _serves(client: Client, agent: str | None) -> bool:
    return agent is None or not client.agents.preferred or agent in client.agents.preferred


def _candidates(conn: Connection, mode: str, now: datetime, excluded: set[str], lock: bool) -> list[Contact]:
    query = (
        outbound.contacts_query()
        .where(
            t.contacts.c.status == "pending",
            t.contacts.c.channel == "phone",
            t.campaigns.c.mode == mode,
            t.contacts.c.due_at <= to_db(now),
        )
        .order_by(t.contacts.c.appointment_at, t.contacts.c.id)
        .limit(_BATCH)
    )
    if excluded:
        query = query.where(t.contacts.c.client.not_in(sorted(excluded)))
    if lock:
        query = query.with_for_update(of=t.contacts, skip_locked=True)
    return [outbound.from_row(row) for row in conn.execute(query)]


def _claim(
    store: Store, mode: str, agent: str | None, now: datetime, settings: Settings, registry: Registry | None
) -> PhoneTask | None:
    if not QuietHours(settings.outbound).allows(now):
        return None
    excluded: set[str] = set()
    with store.begin() as conn:
        clients: dict[str, Client] = {}
        while True:
            found = _candidates(conn, mode, now, excluded, lock=not store.is_sqlite)
            if not found:
                return None
            for contact in found:
                if outbound.retire_if_moot(conn, contact, now) is not None:
                    continue
                client = clients.get(contact.client) or load_client(conn, contact.client)
                clients[client.id] = client
                if not _serves(client, agent) or outbound.stopped_by_contract(conn, client.id, now):
                    excluded.add(client.id)
                    continue
                price = outbound.next_price(conn, client.id, now, settings.tariff)
                if not outbound.covered(conn, client.id, now, price):
                    outbound.tell_no_balance(conn, registry, client, now, price)
                    excluded.add(client.id)
                    continue
                ledger.change_hold(conn, client.id, price)
                outbound.set_fields(
                    conn,
                    contact.id,
                    now,
                    status="in_progress",
                    agent=agent,
                    attempts=contact.attempts + 1,
                    hold_cents=price,
                    started_at=now,
                )
                return _task(contact, client, "in_progress", agent)


def _held_by(store: Store, agent: str) -> PhoneTask | None:
    with store.connect() as conn:
        row = conn.execute(
            select(t.contacts.c.id)
            .where(t.contacts.c.status == "in_progress", t.contacts.c.agent == agent, t.contacts.c.channel == "phone")
            .order_by(t.contacts.c.id)
            .limit(1)
        ).first()
        contact = None if row is None else outbound.load(conn, int(row.id))
        return None if contact is None else _task(contact, load_client(conn, contact.client))


def next_phone_task(
    store: Store,
    *,
    agent: str,
    now: datetime,
    settings: Settings | None = None,
    registry: Registry | None = None,
) -> PhoneTask | None:
    """Claim the next due phone contact of an `agent` campaign for `agent` (its own open task first).

    None outside the outbound hours or when nothing is due. The contact's price is held
    on the client's balance until the outcome is recorded or the task released.
    """
    held = _held_by(store, agent)
    if held is not None:
        return held
    return _claim(store, "agent", agent, now, settings or Settings(), registry)


def next_message_task(
    store: Store, *, now: datetime, settings: Settings | None = None, registry: Registry | None = None
) -> PhoneTask | None:
    """Claim the next due contact of a `message` campaign, for the telephony source to call and play."""
    return _claim(store, "message", None, now, settings or Settings(), registry)


def phone_tasks(store: Store, *, now: datetime, limit: int = 200) -> list[PhoneTask]:
    """Open phone tasks of agent campaigns (in progress, then pending and due), most urgent first.

    Pending tasks of a client whose contract is over are left out: they are not to be called.
    """
    with store.connect() as conn:
        rows = conn.execute(
            outbound.contacts_query()
            .where(
                t.contacts.c.channel == "phone",
                t.campaigns.c.mode == "agent",
                t.campaigns.c.status == "active",
                (t.contacts.c.status == "in_progress")
                | ((t.contacts.c.status == "pending") & (t.contacts.c.due_at <= to_db(now))),
            )
            .order_by(
                case((t.contacts.c.status == "in_progress", 0), else_=1), t.contacts.c.appointment_at, t.contacts.c.id
            )
            .limit(limit)
        ).all()
        clients: dict[str, Client] = {}
        over: dict[str, bool] = {}
        tasks = []
        for row in rows:
            contact = outbound.from_row(row)
            if contact.appointment_at <= now and contact.status == "pending":
                continue
            if contact.status == "pending":
                if contact.client not in over:
                    account = ledger.lock_account(conn, contact.client, for_update=False)
                    over[contact.client] = contract_state.has_ended(account, now)
                if over[contact.client]:
                    continue
            client = clients.get(contact.client) or load_client(conn, contact.client)
            clients[client.id] = client
            tasks.append(_task(contact, client))
    return tasks


def give_back(conn: Connection, contact: Contact, at: datetime) -> None:
    """Make a claimed contact pending again: its hold released, the times of its unfinished call forgotten.

    The next claim starts afresh, so that its call's answer and talk time are its own.
    """
    ledger.change_hold(conn, contact.client, -contact.hold_cents)
    outbound.set_fields(
        conn,
        contact.id,
        at,
        status="pending",
        agent=None,
        hold_cents=0,
        answered_at=None,
        played_at=None,
        ended_at=None,
    )


def release_task(store: Store, contact_id: int) -> bool:
    """Give a claimed task back (the agent could not call now): pending again, its hold released."""
    with store.begin() as conn:
        contact = outbound.load(conn, contact_id, lock=True)
        if contact is None or contact.status != "in_progress":
            return False
        give_back(conn, contact, datetime.now(UTC))
    return True


def record_outcome(
    store: Store,
    registry: Registry,
    contact_id: int,
    outcome: str,
    *,
    at: datetime,
    agent: str | None,
    notes: str | None = None,
    rescheduled_to: datetime | None = None,
    talk_seconds: int = 0,
    settings: Settings | None = None,
    notify: Callable[..., None] | None = None,
) -> CallRecord:
    """Finish a phone contact: its record, its price and debit, its deliveries, in one transaction.

    Recording the same outcome again returns the same record and changes nothing.
    Raises `OutcomeError` for an unknown contact or outcome, or one already final with
    another outcome, and `ledger.InsufficientBalance` when the balance cannot pay it.
    """
    try:
        disposition = Disposition(outcome)
    except ValueError:
        disposition = None
    if disposition not in OUTCOMES or disposition is None:
        raise OutcomeError(f"outcome {outcome!r}: expected one of {', '.join(d.value for d in OUTCOMES)}")
    if rescheduled_to is not None and disposition is not Disposition.RESCHEDULED:
        raise OutcomeError("rescheduled_to goes with the outcome rescheduled only")
    settings = settings or Settings()
    with store.begin() as conn:
        contact = outbound.load(conn, contact_id, lock=True)
        if contact is None or contact.channel != "phone":
            raise OutcomeError(f"no phone contact {contact_id}")
        if contact.status in outbound.FINAL:
            existing = records.get(conn, contact.record_id)
            if existing is not None and existing.disposition is disposition:
                return existing
            raise OutcomeError(f"contact {contact_id} is already {contact.status}")
        if contact.status not in ("pending", "in_progress"):
            raise OutcomeError(f"contact {contact_id} is {contact.status}: it is not to be contacted")
        client = load_client(conn, contact.client)
        message = outbound.message_for(contact, client) if contact.mode == "message" else None
        record = outbound.finalize(
            conn,
            registry,
            settings.tariff,
            contact,
            disposition,
            at=at,
            agent=agent or contact.agent,
            notes=notes,
            message=message,
            talk_seconds=talk_seconds,
            rescheduled_to=rescheduled_to,
        )
    if notify is not None:
        notify("record_finalized", record=record)
    return record


__all__ = [
    "OUTCOMES",
    "OutcomeError",
    "PhoneTask",
    "next_message_task",
    "next_phone_task",
    "phone_tasks",
    "record_outcome",
    "release_task",
]
