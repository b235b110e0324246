"""Telephony and SMS events of campaign contacts, as the engine receives them.

A campaign contact's call or SMS is reported under the call id `contact-<id>`:

- `outbound_started`, `outbound_answered` (or `answered`), `message_played`, `ended`:
  the call's progress; a `message` campaign's contact becomes `message_played` when the
  call ends after the message was played, `no_answer` otherwise;
- `outbound_failed`: nobody answered (`no_answer`, free);
- `sms_delivered` / `sms_failed`: the SMS gateway's delivery report; a failed SMS is
  credited back. A report carrying a reply (`raw: {"reply": "STOP"}`) with STOP or
  PARAR opts the number out of the client's campaigns.

A reply the gateway could not tie to a message comes as an `sms_delivered` event of call
`reply-<gateway id>` with the sender as `caller`. STOP or PARAR opts the sender out of
every client that sent it an SMS (`optouts` keeps one entry per number: two clients or
more make it all clients), or of all clients when none did (the message answered may be
gone with its contact); any other reply is logged and ignored. Neither makes a record or
a charge, and the same reply again changes nothing.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hub.core import calls, ledger, optouts, outbound
from hub.core import store as t
from hub.core.accounts import load_client
from hub.core.models import CallEvent, CallRecord, Disposition, EventKind
from hub.core.outbound import Contact
from hub.core.privacy import mask_phone
from hub.core.registry import Registry
from hub.core.store import Store
from hub.settings import Settings

log = logging.getLogger(__name__)

#: Kinds that only ever concern outbound contacts.
OUTBOUND_KINDS = frozenset(
    {
        EventKind.OUTBOUND_STARTED,
        EventKind.OUTBOUND_ANSWERED,
        EventKind.OUTBOUND_FAILED,
        EventKind.SMS_SENT,
        EventKind.SMS_DELIVERED,
        EventKind.SMS_FAILED,
    }
)
#: Replies that mean "do not contact me again".
STOP_WORDS = frozenset({"STOP", "PARAR"})
#: The call id prefix of a reply that names no message (see `recado_sms.reports`).
REPLY_PREFIX = "reply-"
_OPEN = ("pending", "in_progress")
#: Statuses of SMS contacts whose message went to the gateway.
_TEXTED = ("sent", "delivered", "failed")


class OutboundEventError(ValueError):
    """An outbound event that names no campaign contact."""


def concerns(store: Store, event: CallEvent) -> bool:
    """Whether `event` is about a campaign contact rather than an inbound call."""
    if event.kind in OUTBOUND_KINDS:
        return True
    if outbound.contact_id_of(event.call_id) is None:
        return False  # the usual inbound event: decided without a query
    with store.connect() as conn:
        return calls.load(conn, event.source, event.call_id, lock=False) is None


def is_stop(reply: object) -> bool:
    """Whether an SMS reply asks to stop ("STOP", "parar.", "Stop please" …)."""
    words = re.findall(r"[^\W\d_]+", str(reply or ""))
    return bool(words) and words[0].upper() in STOP_WORDS


def is_loose_reply(event: CallEvent) -> bool:
    """Whether `event` is an SMS reply that names no message (call id `reply-<gateway id>`)."""
    return event.kind is EventKind.SMS_DELIVERED and event.call_id.startswith(REPLY_PREFIX) and "reply" in event.raw


def apply(store: Store, registry: Registry, settings: Settings, event: CallEvent) -> CallRecord | None:
    """Apply one event of a campaign contact; the new record when the event finished the contact."""
    if is_loose_reply(event):
        _loose_reply(store, event)
        return None
    contact_id = outbound.contact_id_of(event.call_id)
    if contact_id is None:
        raise OutboundEventError(
            f"{event.kind.value} event for call {event.call_id!r}, which is no campaign contact "
            "(expected a call id contact-<id>)"
        )
    with store.begin() as conn:
        contact = outbound.load(conn, contact_id, lock=True)
        if contact is None:
            raise OutboundEventError(f"{event.kind.value} event for {event.call_id!r}: no contact {contact_id}")
        if event.kind in (EventKind.SMS_SENT, EventKind.SMS_DELIVERED, EventKind.SMS_FAILED):
            return _sms(conn, registry, contact, event)
        return _call(conn, registry, settings, contact, event)


def _loose_reply(store: Store, event: CallEvent) -> None:
    reply = str(event.raw.get("reply") or "")
    sender = mask_phone(event.caller)
    if not is_stop(reply):
        log.info("SMS reply %s from %s is no STOP or PARAR: ignored", event.call_id, sender)
        return
    try:
        number = optouts.normalize(event.caller or "")
    except ValueError:
        log.warning("SMS reply %s asks to stop, but its sender %s is no phone number: ignored", event.call_id, sender)
        return
    with store.begin() as conn:
        clients = sorted(
            conn.execute(
                select(t.contacts.c.client)
                .distinct()
                .where(t.contacts.c.number == number, t.contacts.c.channel == "sms", t.contacts.c.status.in_(_TEXTED))
            ).scalars()
        )
        reason = f"SMS reply {reply.strip()[:40]}"
        for client in clients or [None]:
            entry = optouts.add(conn, number, client=client, reason=reason, at=event.at)
    log.info("%s opted out of %s by SMS reply %s", sender, entry.get("client") or "every client", event.call_id)


def _sms(conn: Connection, registry: Registry, contact: Contact, event: CallEvent) -> CallRecord | None:
    if contact.channel != "sms":
        raise OutboundEventError(f"{event.kind.value} event for {event.call_id!r}, a phone contact")
    if event.kind is EventKind.SMS_DELIVERED:
        reply = event.raw.get("reply")
        if reply is not None and is_stop(reply):
            optouts.add(conn, contact.number, client=contact.client, reason=f"SMS reply {str(reply).strip()[:40]}")
            log.info("%s opted out of %s's contacts by SMS reply", mask_phone(contact.number), contact.client)
        if contact.status == "sent":
            outbound.set_fields(conn, contact.id, event.at, status="delivered")
    elif event.kind is EventKind.SMS_FAILED and contact.status in ("sent", "delivered"):
        reason = str(event.raw.get("reason") or event.raw.get("error") or "")[:500]
        outbound.refund_failed_sms(conn, registry, contact, event.at, reason)
    return None


def _call(
    conn: Connection, registry: Registry, settings: Settings, contact: Contact, event: CallEvent
) -> CallRecord | None:
    if contact.channel != "phone":
        raise OutboundEventError(f"{event.kind.value} event for {event.call_id!r}, an SMS contact")
    if contact.status not in _OPEN:
        return None  # a late or repeated event of a finished contact changes nothing
    kind = event.kind
    if kind is EventKind.OUTBOUND_STARTED:
        _started(conn, settings, contact, event)
    elif kind in (EventKind.OUTBOUND_ANSWERED, EventKind.ANSWERED) and contact.answered_at is None:
        outbound.set_fields(conn, contact.id, event.at, answered_at=event.at)
    elif kind is EventKind.MESSAGE_PLAYED:
        outbound.set_fields(conn, contact.id, event.at, played_at=event.at)
    elif kind is EventKind.OUTBOUND_FAILED:
        return _finish(conn, registry, settings, contact, Disposition.NO_ANSWER, event.at, event.agent)
    elif kind is EventKind.ENDED:
        outbound.set_fields(conn, contact.id, event.at, ended_at=event.at)
        if contact.mode == "message":
            played = contact.played_at is not None and contact.answered_at is not None
            outcome = Disposition.MESSAGE_PLAYED if played else Disposition.NO_ANSWER
            return _finish(conn, registry, settings, contact, outcome, event.at, None)
    return None


def _started(conn: Connection, settings: Settings, contact: Contact, event: CallEvent) -> None:
    if contact.status == "in_progress":
        # Its call starting is activity of the claimed task: `hub.core.campaigns_stale` keeps it.
        started = {"started_at": event.at} if contact.started_at is None else {}
        outbound.set_fields(conn, contact.id, event.at, **started)
        return
    # Called without being claimed first (straight from the task list): hold its price now,
    # as far as the balance allows: the call is already ringing.
    price = outbound.next_price(conn, contact.client, event.at, settings.tariff)
    hold = min(price, max(0, ledger.lock_account(conn, contact.client).available_cents))
    ledger.change_hold(conn, contact.client, hold)
    outbound.set_fields(
        conn,
        contact.id,
        event.at,
        status="in_progress",
        agent=event.agent or contact.agent,
        attempts=contact.attempts + 1,
        hold_cents=hold,
        started_at=event.at,
    )


def _finish(
    conn: Connection,
    registry: Registry,
    settings: Settings,
    contact: Contact,
    outcome: Disposition,
    at: datetime,
    agent: str | None,
) -> CallRecord:
    client = load_client(conn, contact.client)
    message = outbound.message_for(contact, client) if contact.mode == "message" else None
    fresh = outbound.load(conn, contact.id) or contact
    return outbound.finalize(
        conn, registry, settings.tariff, fresh, outcome, at=at, agent=agent or contact.agent, message=message
    )
