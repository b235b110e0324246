"""Making one outbound contact: its price, its debit and its record, in one transaction.

A contact *made* (an SMS accepted for sending, a call answered: confirmed, rescheduled,
message played) is priced by the outbound tariff: the k-th contact of the client's
Lisbon month costs `outbound_price(k)`. It is debited like a call (ledger key
`call:<record id>`) and never beyond the available balance; a contact the balance
cannot cover is not made and stays pending, and the client is told once. A call
nobody answered is free and still recorded. Every record goes to the client's
destinations through `hub.core.records.store_and_queue`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from hub.core import contract_state, ledger, notices, optouts, records
from hub.core import store as t
from hub.core.accounts import bump_month_counter, load_client, month_counter
from hub.core.campaigns_text import render
from hub.core.clients import Client
from hub.core.models import CallRecord, Disposition, Language, record_id_for
from hub.core.outbox import enqueue
from hub.core.privacy import mask_phone
from hub.core.registry import Registry
from hub.core.store import from_db, to_db
from hub.core.tariff import TariffConfig, format_eur, month_key, outbound_price

log = logging.getLogger(__name__)

SOURCE = "campaigns"
#: Outcomes that mean the contact was made, and so are priced.
PRICED = frozenset({Disposition.CONFIRMED, Disposition.RESCHEDULED, Disposition.MESSAGE_PLAYED, Disposition.SMS_SENT})
#: The status a contact takes with each outcome.
STATUS_OF = {
    Disposition.CONFIRMED: "confirmed",
    Disposition.RESCHEDULED: "rescheduled",
    Disposition.NO_ANSWER: "no_answer",
    Disposition.MESSAGE_PLAYED: "message_played",
    Disposition.SMS_SENT: "sent",
}
FINAL = frozenset({"confirmed", "rescheduled", "no_answer", "message_played", "sent", "delivered", "failed"})

#: ``after``: (hook name, keyword arguments) to call once the transaction committed.
After = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Contact:
    """One contact of a campaign, with what its campaign says about it."""

    id: int
    campaign: int
    campaign_name: str
    campaign_status: str
    mode: str
    templates: dict[str, str]
    client: str
    name: str
    number: str
    appointment_at: datetime
    language: Language
    channel: str
    status: str
    attempts: int
    source: str
    call_id: str
    agent: str | None
    outcome: str | None
    price_cents: int
    hold_cents: int
    notes: str | None
    started_at: datetime | None
    answered_at: datetime | None
    played_at: datetime | None
    ended_at: datetime | None

    @property
    def record_id(self) -> str:
        """The id of the contact's record (the same contact always has the same one)."""
        return record_id_for(self.source, self.call_id)


def call_id_of(contact_id: int) -> str:
    """The call id of a contact, as the telephony source and the SMS sink report it back."""
    return f"contact-{contact_id}"


def contact_id_of(call_id: str) -> int | None:
    """The contact a call id names (`contact-<id>`), or None."""
    head, _, digits = call_id.partition("-")
    return int(digits) if head == "contact" and digits.isdigit() and len(digits) < 19 else None


def _aware(value: datetime | None) -> datetime | None:
    return from_db(value)


def contacts_query() -> Select[Any]:
    """Contacts joined with what `from_row` needs of their campaign; add the `where` you need."""
    return (
        select(t.contacts, t.campaigns.c.name.label("campaign_name"), t.campaigns.c.mode, t.campaigns.c.templates)
        .add_columns(t.campaigns.c.status.label("campaign_status"))
        .join(t.campaigns, t.campaigns.c.id == t.contacts.c.campaign)
    )


def load(conn: Connection, contact_id: int, *, lock: bool = False) -> Contact | None:
    """The contact `contact_id` (locked until commit on PostgreSQL when `lock`), or None."""
    query = contacts_query().where(t.contacts.c.id == contact_id)
    if lock and conn.dialect.name != "sqlite":
        query = query.with_for_update(of=t.contacts)
    row = conn.execute(query).first()
    return None if row is None else from_row(row)


def from_row(row: Any) -> Contact:
    """A `Contact` from a row of contacts joined with its campaign."""
    return Contact(
        id=int(row.id),
        campaign=int(row.campaign),
        campaign_name=row.campaign_name,
        campaign_status=row.campaign_status,
        mode=row.mode,
        templates=dict(row.templates),
        client=row.client,
        name=row.name,
        number=row.number,
        appointment_at=from_db(row.appointment_at) or datetime.now(UTC),
        language=Language(row.language),
        channel=row.channel,
        status=row.status,
        attempts=int(row.attempts),
        source=row.source,
        call_id=row.call_id or call_id_of(int(row.id)),
        agent=row.agent,
        outcome=row.outcome,
        price_cents=int(row.price_cents),
        hold_cents=int(row.hold_cents),
        notes=row.notes,
        started_at=_aware(row.started_at),
        answered_at=_aware(row.answered_at),
        played_at=_aware(row.played_at),
        ended_at=_aware(row.ended_at),
    )


def set_fields(conn: Connection, contact_id: int, at: datetime, **values: Any) -> None:
    """Change columns of one contact (times converted for storage)."""
    stored = {key: to_db(value) if isinstance(value, datetime) else value for key, value in values.items()}
    conn.execute(update(t.contacts).where(t.contacts.c.id == contact_id).values(updated_at=to_db(at), **stored))


def message_for(contact: Contact, client: Client) -> str:
    """The text of this contact's SMS, recorded message or call script."""
    template = contact.templates.get(contact.language.value) or next(iter(contact.templates.values()), "")
    return render(template, contact.name, contact.appointment_at, contact.language.value, client.name)


def next_price(conn: Connection, client_id: str, at: datetime, tariff: TariffConfig) -> int:
    """What the client's next outbound contact made at `at` costs."""
    return outbound_price(month_counter(conn, client_id, month_key(at))["outbound"] + 1, config=tariff)


def retire_if_moot(conn: Connection, contact: Contact, at: datetime) -> str | None:
    """Close a contact that must never be made any more; its new status ("opted_out", "skipped") or None.

    A number that opted out is `opted_out`; a contact whose appointment has come, or whose
    campaign was cancelled, is `skipped` (the outcome says which).
    """
    if optouts.is_opted_out(conn, contact.number, contact.client):
        set_fields(conn, contact.id, at, status="opted_out")
        return "opted_out"
    if contact.appointment_at <= at or contact.campaign_status != "active":
        reason = "appointment_passed" if contact.appointment_at <= at else "cancelled"
        set_fields(conn, contact.id, at, status="skipped", outcome=reason)
        return "skipped"
    return None


def stopped_by_contract(conn: Connection, client_id: str, at: datetime) -> bool:
    """Whether the client's contract is over at `at` (ended, or its end passed): no contact of it is made.

    Its contacts stay pending, and go on after a renewal, until their appointment passes.
    The operator gets one alert per contract end; the client was told by the end's email.
    """
    account = ledger.lock_account(conn, client_id, for_update=False)
    if not contract_state.has_ended(account, at):
        return False
    end = account.contract_ends_at
    day = contract_state.end_date(end) if end is not None else "-"
    notices.alert_once(
        conn,
        client=client_id,
        kind="campaign_contract_over",
        key=f"outbound-contract:{client_id}:{day}",
        message=f"{client_id}: campaign contacts wait: the contract ended on {day} (a renewal lets them go on)",
    )
    return True


def covered(conn: Connection, client_id: str, at: datetime, price: int) -> bool:
    """Whether the client's available balance (minus holds) pays `price` and its service is running."""
    account = ledger.lock_account(conn, client_id)
    return not contract_state.has_ended(account, at) and account.available_cents >= price


def tell_no_balance(conn: Connection, registry: Registry | None, client: Client, at: datetime, price: int) -> bool:
    """Tell the client (notices, email) and the operator, once per balance, that contacts wait for a top-up."""
    last_entry = conn.execute(select(func.max(t.ledger.c.id)).where(t.ledger.c.client == client.id)).scalar()
    key = f"outbound-balance:{client.id}:{last_entry or 0}"
    account = ledger.lock_account(conn, client.id, for_update=False)
    message = (
        f"{client.id}: campaign contacts wait for a top-up (available {account.available_cents} cents, "
        f"next contact {price} cents)"
    )
    if not notices.alert_once(conn, client=client.id, kind="outbound_no_balance", key=key, message=message):
        return False
    if registry is not None:
        notices.send(conn, registry, client, "campaign_no_balance", at)
    notices.mail_client(
        conn,
        client,
        kind="campaign_no_balance",
        key=key,
        at=at,
        subject={"pt": "Campanha em espera: saldo insuficiente", "en": "Campaign on hold: balance too low"},
        body={
            "pt": (
                f"O saldo disponível de {client.name} ({format_eur(account.available_cents, 'pt')}) não cobre o "
                f"próximo contacto da campanha ({format_eur(price, 'pt')}). Os contactos ficam pendentes e "
                "são feitos logo que o saldo for carregado."
            ),
            "en": (
                f"The available balance of {client.name} ({format_eur(account.available_cents, 'en')}) does not "
                f"cover the campaign's next contact ({format_eur(price, 'en')}). The contacts stay pending and are "
                "made as soon as the balance is topped up."
            ),
        },
    )
    log.info("contacts of %s wait for a top-up", client.id)
    return True


def finalize(
    conn: Connection,
    registry: Registry,
    tariff: TariffConfig,
    contact: Contact,
    disposition: Disposition,
    *,
    at: datetime,
    agent: str | None = None,
    notes: str | None = None,
    message: str | None = None,
    talk_seconds: int = 0,
    rescheduled_to: datetime | None = None,
) -> CallRecord:
    """Price, debit, record and queue one contact, and give it its final status.

    Raises `ledger.InsufficientBalance` when a made contact cannot be paid (nothing changes then).
    """
    client = load_client(conn, contact.client)
    ledger.change_hold(conn, client.id, -contact.hold_cents)
    price = 0
    if disposition in PRICED:
        month = month_key(at)
        k = month_counter(conn, client.id, month)["outbound"] + 1
        price = outbound_price(k, config=tariff)
        ledger.post(
            conn,
            client.id,
            at=at,
            kind="outbound",
            amount_cents=-price,
            ref=contact.record_id,
            key=f"call:{contact.record_id}",
        )
        bump_month_counter(conn, client.id, month, outbound=1)
    account = ledger.lock_account(conn, client.id)
    answered = disposition in PRICED and disposition is not Disposition.SMS_SENT
    answered_at = (contact.answered_at or contact.started_at or at) if answered else None
    ended_at = contact.ended_at or at
    if answered and not talk_seconds and answered_at is not None:
        talk_seconds = max(0, int((ended_at - answered_at).total_seconds()))
    record = CallRecord(
        record_id=contact.record_id,
        source=contact.source,
        call_id=contact.call_id,
        client=client.id,
        direction="outbound",
        channel="sms" if contact.channel == "sms" else "voice",
        disposition=disposition,
        caller=contact.number,
        caller_name=contact.name,
        did=client.dids[0],
        agent=agent,
        language=contact.language,
        offered_at=contact.started_at or at,
        answered_at=answered_at,
        ended_at=ended_at,
        talk_seconds=talk_seconds if answered else 0,
        notes=notes,
        price_cents=price,
        balance_after_cents=account.balance_cents,
        message=message,
        contact=contact_view(contact, rescheduled_to),
    )
    records.store_and_queue(conn, record, sends_messages=registry.sends_messages)
    set_fields(
        conn,
        contact.id,
        at,
        status=STATUS_OF[disposition],
        outcome=disposition.value,
        record_id=record.record_id,
        agent=agent,
        notes=notes,
        message=message,
        price_cents=price,
        hold_cents=0,
        ended_at=ended_at,
    )
    log.info(
        "contact %s of %s (%s): %s, %s cents", contact.id, client.id, mask_phone(contact.number), disposition, price
    )
    return record


def contact_view(contact: Contact, rescheduled_to: datetime | None = None) -> dict[str, Any]:
    """What a record says about the contact: campaign, contact id, name, appointment."""
    view: dict[str, Any] = {
        "campaign": contact.campaign,
        "campaign_name": contact.campaign_name,
        "contact_id": contact.id,
        "name": contact.name,
        "appointment_at": contact.appointment_at.isoformat(),
        "mode": contact.mode if contact.channel == "phone" else "sms",
    }
    if rescheduled_to is not None:
        view["rescheduled_to"] = rescheduled_to.isoformat()
    return view


def refund_failed_sms(conn: Connection, registry: Registry, contact: Contact, at: datetime, reason: str) -> CallRecord:
    """An SMS that never reached the phone: credit its price back and tell the destinations."""
    record = records.get(conn, contact.record_id)
    if record is None:
        raise ValueError(f"contact {contact.id} has no record to refund")
    if record.price_cents:
        ledger.post(
            conn,
            contact.client,
            at=at,
            kind="refund",
            amount_cents=record.price_cents,
            ref=record.record_id,
            key=f"refund:{record.record_id}",
        )
        # A failed SMS was not a contact made: it leaves the month's count, and so the tariff.
        bump_month_counter(conn, contact.client, month_key(record.ended_at or at), outbound=-1)
    account = ledger.lock_account(conn, contact.client)
    failed = record.model_copy(
        update={
            "disposition": Disposition.SMS_FAILED,
            "price_cents": 0,
            "balance_after_cents": account.balance_cents,
            "notes": reason or record.notes,
        }
    )
    conn.execute(
        update(t.records)
        .where(t.records.c.record_id == record.record_id)
        .values(disposition=failed.disposition.value, data=failed.model_dump(mode="json"))
    )
    # Told to every destination but the messaging ones: an SMS sink must not send the text again.
    for row in conn.execute(
        select(t.destinations).where(t.destinations.c.client == contact.client, t.destinations.c.enabled.is_(True))
    ).all():
        if records.filter_matches(row.filter, failed) and not registry.sends_messages(row.kind):
            enqueue(
                conn,
                client=contact.client,
                destination=row.id,
                kind="record",
                event_type=records.UPDATED,
                key=record.record_id,
                record_id=record.record_id,
                replace=True,
            )
    set_fields(conn, contact.id, at, status="failed", outcome=Disposition.SMS_FAILED.value, price_cents=0)
    return failed
