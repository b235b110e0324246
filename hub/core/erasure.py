"""Erasure of a caller's personal data, on the caller's request.

Every record whose caller is the number keeps what the client's accounts need
(its price, disposition, times, client, destination log) and loses the rest:
the number becomes a pseudonym `erased:<12 letters>`, drawn at random once
per erasure so that the records of one request still group together while
nothing derived from the number is kept (a keyed hash would let whoever holds
the key find the person's records again). It has no digit, so that no sink
formats it as a phone number (phone libraries read any run of digits as one). The caller's name, every answer to
the script and the agent's notes are cleared, since any of them may describe
the person; an outbound contact's name and appointment go as well.

The same happens to the call states those records came from, to calls still in
progress or refused from the number, to campaign contacts with that number, and
to every other place the number appears in text (outbox payloads, delivery logs,
alerts...). Kept on purpose, and listed in the report:

- a client's block of the number (`blocked_numbers`): the client's decision to
  refuse a nuisance caller keeps working; its free-text note is cleared;
- opt-outs (`opt_outs`): the person's own request not to be contacted, which
  erasing would silently undo;
- the ledger, documents and month counters: the client's accounts, which hold
  no caller data (a ledger entry names a record only by its id);
- the clients' own configuration, campaigns, invoices, payments and sign-ups:
  a number found there (a caller who is also a client's contact) is left and
  reported (`left_in`), to be handled under that client's contract;
- the privacy log, which names the number only masked.

Copies already delivered to destinations are outside the hub: the report lists
every destination that received records of this caller, with the records' ids
and remote ids, so the operator can ask them to erase their copies too.
Erasure is one transaction together with its privacy log entry, and idempotent:
a second request finds nothing left to erase.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Table

from hub.core import number_search, privacy_log
from hub.core import store as t
from hub.core.clients import normalize_e164
from hub.core.outbox import DELIVERED, PENDING
from hub.core.privacy import mask_phone
from hub.core.store import Store

PREFIX = "erased:"
#: Consonants only: no digit (see above) and no accidental words.
_PSEUDONYM_LETTERS = "bcdfghjkmnpqrstvwxz"
#: What a caller's name becomes where a value is required.
ERASED_NAME = "erased"
#: Tables left as they are (see the module's docstring); each still reported when it holds the number.
KEPT = {
    "blocked_numbers",
    "opt_outs",
    "privacy_log",
    # The clients' own configuration, accounts, contracts and tax records (see the docstring).
    "clients",
    "dids",
    "destinations",
    "campaigns",
    "ledger",
    "documents",
    "invoices",
    "invoice_counters",
    "payments",
    "signups",
    "did_pool",
}
#: Keys of an outbound record's `contact` that only name things (no personal data).
_CONTACT_IDS = {"campaign", "campaign_id", "contact", "contact_id", "id", "line"}


class _DryRun(Exception):
    """Raised to roll an erasure back after it was counted."""


@dataclass
class ErasureReport:
    """What an erasure did (or, in a dry run, would do)."""

    subject: str
    pseudonym: str
    at: datetime
    requested_by: str
    reason: str
    dry_run: bool = False
    records: int = 0
    clients: list[str] = field(default_factory=list)
    calls: int = 0
    contacts: int = 0
    #: Deliveries not made yet: they will carry the erased record.
    pending_deliveries: int = 0
    #: Other places the number was found in text and replaced: "table.column" -> rows.
    replaced: dict[str, int] = field(default_factory=dict)
    #: Clients whose block of the number is kept (its note cleared).
    blocked_by: list[str] = field(default_factory=list)
    #: Whether an opt-out of the number is kept.
    opted_out: bool = False
    #: Places the number stays on purpose or cannot be changed (keys, client configuration).
    left_in: dict[str, int] = field(default_factory=dict)
    #: Destinations that received records of this caller before the erasure.
    destinations: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        """What the privacy log keeps: counts and names of places, no personal data."""
        return {
            "records": self.records,
            "clients": self.clients,
            "calls": self.calls,
            "contacts": self.contacts,
            "pending_deliveries": self.pending_deliveries,
            "replaced": self.replaced,
            "blocked_by": self.blocked_by,
            "opted_out": self.opted_out,
            "left_in": self.left_in,
            "destinations": [
                {key: item[key] for key in ("client", "destination", "kind")} | {"records": len(item["records"])}
                for item in self.destinations
            ],
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "subject": self.subject,
            "pseudonym": self.pseudonym,
            "at": self.at.isoformat(),
            "requested_by": self.requested_by,
            "reason": self.reason,
            "dry_run": self.dry_run,
            **self.counts(),
            "destinations": self.destinations,
        }


def scrub(value: Any, needles: list[str], replacement: str) -> Any:
    """`value` (JSON-like) with every occurrence of every needle in its strings replaced."""
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, replacement)
        return value
    if isinstance(value, dict):
        return {key: scrub(item, needles, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, needles, replacement) for item in value]
    return value


def _erase_record_data(data: dict[str, Any], pseudonym: str) -> dict[str, Any]:
    erased = dict(data)
    erased.update(caller=pseudonym, caller_name=None, answers={}, notes=None)
    if "message" in erased:
        erased["message"] = None
    if isinstance(erased.get("contact"), dict):
        erased["contact"] = {key: value for key, value in erased["contact"].items() if key in _CONTACT_IDS}
    return erased


def _erase_call_data(data: dict[str, Any], pseudonym: str) -> dict[str, Any]:
    erased = _erase_record_data(data, pseudonym)
    for key in ("answers", "notes"):
        if data.get(key) is None:
            erased.pop(key, None)
    if isinstance(erased.get("wrapup"), dict):
        erased["wrapup"] = {**erased["wrapup"], "answers": {}, "notes": None}
    if isinstance(erased.get("raw"), dict):
        erased["raw"] = {}
    return erased


def _personal_strings(data: dict[str, Any], number: str) -> list[str]:
    """The number and every text the caller's record holds about the person (to clear from copies)."""
    found = [number]
    values = [
        data.get("caller_name"),
        data.get("notes"),
        data.get("message"),
        *dict(data.get("answers") or {}).values(),
    ]
    contact = data.get("contact")
    if isinstance(contact, dict):
        values += [value for key, value in contact.items() if key not in _CONTACT_IDS]
    found += [value for value in values if isinstance(value, str) and len(value.strip()) >= 3]
    # The longest first, so that a name inside a longer text goes with the text.
    return sorted(set(found), key=len, reverse=True)


@dataclass
class _Found:
    """Where the number is written, found before the erasure's transaction: "table.column" -> row keys."""

    places: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def keys(self, place: str) -> list[tuple[Any, ...]]:
        """The keys of the rows of `place` that held the number."""
        return self.places.get(place, [])


def _find(store: Store, number: str) -> _Found:
    # Full scans, so they run before the transaction that writes: it then only touches these rows.
    return _Found(number_search.find(store.engine, number))


def _where_key(table: Table, key: tuple[Any, ...]) -> Any:
    return and_(*(column == value for column, value in zip(table.primary_key.columns, key, strict=True)))


def _erase_records(
    conn: Connection, found: _Found, number: str, pseudonym: str, report: ErasureReport
) -> dict[str, list[str]]:
    """Erase the caller's records and their call states; return each record's personal strings."""
    personal: dict[str, list[str]] = {}
    for (record_id,) in found.keys("records.data"):
        row = conn.execute(
            select(t.records.c.client, t.records.c.data).where(t.records.c.record_id == record_id)
        ).first()
        if row is None or dict(row.data).get("caller") != number:
            continue
        data = dict(row.data)
        personal[record_id] = _personal_strings(data, number)
        erased = _erase_record_data(data, pseudonym)
        conn.execute(update(t.records).where(t.records.c.record_id == record_id).values(data=erased))
        if row.client not in report.clients:
            report.clients.append(row.client)
    report.records = len(personal)
    report.clients.sort()
    if personal:
        calls = conn.execute(
            select(t.calls.c.source, t.calls.c.call_id, t.calls.c.record_id, t.calls.c.data).where(
                t.calls.c.record_id.in_(list(personal))
            )
        ).all()
        for call in calls:
            _update_call(conn, call, _erase_call_data(dict(call.data), pseudonym), personal[call.record_id], pseudonym)
            report.calls += 1
    return personal


def _update_call(conn: Connection, call: Any, data: dict[str, Any], needles: list[str], pseudonym: str) -> None:
    conn.execute(
        update(t.calls)
        .where(t.calls.c.source == call.source, t.calls.c.call_id == call.call_id)
        .values(data=scrub(data, needles, pseudonym))
    )


def _erase_other_calls(conn: Connection, found: _Found, number: str, pseudonym: str, report: ErasureReport) -> None:
    """Calls from the number that have no record yet (in progress) or never will (to no client)."""
    for source, call_id in found.keys("calls.data"):
        call = conn.execute(
            select(t.calls.c.source, t.calls.c.call_id, t.calls.c.data).where(
                t.calls.c.source == source, t.calls.c.call_id == call_id
            )
        ).first()
        if call is not None and dict(call.data).get("caller") == number:
            data = dict(call.data)
            _update_call(conn, call, _erase_call_data(data, pseudonym), _personal_strings(data, number), pseudonym)
            report.calls += 1


def _erase_deliveries(conn: Connection, personal: dict[str, list[str]], pseudonym: str, report: ErasureReport) -> None:
    """Clear the caller's data from the deliveries of their records; list where copies went."""
    if not personal:
        return
    rows = conn.execute(select(t.outbox).where(t.outbox.c.record_id.in_(list(personal))).order_by(t.outbox.c.id)).all()
    kinds = {
        (row.client, row.id): row.kind
        for row in conn.execute(select(t.destinations.c.client, t.destinations.c.id, t.destinations.c.kind))
    }
    received: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        needles = personal[row.record_id]
        conn.execute(
            update(t.outbox)
            .where(t.outbox.c.id == row.id)
            .values(
                payload=scrub(row.payload, needles, pseudonym),
                last_error=scrub(row.last_error, needles, pseudonym),
            )
        )
        attempts = conn.execute(
            select(t.delivery_attempts.c.id, t.delivery_attempts.c.detail).where(
                t.delivery_attempts.c.outbox_id == row.id
            )
        ).all()
        for attempt in attempts:
            detail = scrub(attempt.detail, needles, pseudonym)
            if detail != attempt.detail:
                conn.execute(
                    update(t.delivery_attempts).where(t.delivery_attempts.c.id == attempt.id).values(detail=detail)
                )
        if row.status == PENDING:
            report.pending_deliveries += 1
        elif row.status == DELIVERED:
            key = (row.client, row.destination)
            entry = received.setdefault(
                key,
                {"client": row.client, "destination": row.destination, "kind": kinds.get(key, "?"), "records": []},
            )
            entry["records"].append({"record_id": row.record_id, "remote_id": row.remote_id})
    report.destinations = sorted(received.values(), key=lambda item: (item["client"], item["destination"]))


def _erase_contacts(conn: Connection, number: str, pseudonym: str, report: ErasureReport) -> None:
    contacts = t.contacts
    # A contact not made yet is dropped, as a cancelled campaign drops it: nobody to call any more.
    conn.execute(
        update(contacts)
        .where(contacts.c.number == number, contacts.c.status == "pending")
        .values(status="skipped", outcome="erased")
    )
    result = conn.execute(
        update(contacts)
        .where(contacts.c.number == number)
        .values(name=ERASED_NAME, number=pseudonym, message=None, notes=None)
    )
    report.contacts = int(result.rowcount or 0)


def _kept(conn: Connection, number: str, report: ErasureReport) -> None:
    blocked = t.blocked_numbers
    report.blocked_by = sorted(conn.execute(select(blocked.c.client).where(blocked.c.number == number)).scalars())
    if report.blocked_by:
        conn.execute(update(blocked).where(blocked.c.number == number).values(note=None))
    opted_out = conn.execute(select(t.opt_outs.c.number).where(t.opt_outs.c.number == number)).first()
    report.opted_out = opted_out is not None


def _replace_everywhere(conn: Connection, found: _Found, number: str, pseudonym: str, report: ErasureReport) -> None:
    """The number wherever else it was found: replaced, or (kept tables, keys) counted."""
    for place, keys in found.places.items():
        table_name, column_name = place.split(".", 1)
        table = t.metadata.tables[table_name]
        column = table.c[column_name]
        if table_name in KEPT or column.primary_key:
            report.left_in[place] = len(keys)
            continue
        replaced = 0
        for key in keys:
            value = conn.execute(select(column).where(_where_key(table, key))).scalar()
            erased = scrub(value, [number], pseudonym)
            if erased != value:
                conn.execute(update(table).where(_where_key(table, key)).values({column_name: erased}))
                replaced += 1
        if replaced:
            report.replaced[place] = replaced


def _mentions_masked(text: str, number: str) -> str:
    """`text` (a request reference typed by the operator) with the number masked, for the log."""
    national = str(phonenumbers.parse(number).national_number)
    return str(scrub(text, [number, number.lstrip("+"), national], mask_phone(number)))


def erase_caller(
    store: Store,
    number: str,
    *,
    at: datetime,
    requested_by: str,
    reason: str,
    actor: str = "operator",
    dry_run: bool = False,
) -> ErasureReport:
    """Erase the personal data of the caller `number` everywhere in the hub (see the module's docstring).

    `requested_by` and `reason` go into the privacy log (a number in them is
    masked): write a reference to the request, e.g. your register's entry, not
    the requester's name. A dry run reports what would change and changes
    nothing. ValueError if `number` is no phone number.
    """
    number = normalize_e164(number)
    requested_by, reason = _mentions_masked(requested_by, number), _mentions_masked(reason, number)
    report = ErasureReport(
        subject=privacy_log.number_subject(number),
        pseudonym=PREFIX + "".join(secrets.choice(_PSEUDONYM_LETTERS) for _ in range(12)),
        at=at,
        requested_by=requested_by,
        reason=reason,
        dry_run=dry_run,
    )
    found = _find(store, number)
    try:
        with store.begin() as conn:
            personal = _erase_records(conn, found, number, report.pseudonym, report)
            _erase_other_calls(conn, found, number, report.pseudonym, report)
            _erase_deliveries(conn, personal, report.pseudonym, report)
            _erase_contacts(conn, number, report.pseudonym, report)
            _kept(conn, number, report)
            _replace_everywhere(conn, found, number, report.pseudonym, report)
            if dry_run:
                raise _DryRun
            privacy_log.write(
                conn,
                at=at,
                action="erase",
                subject=report.subject,
                actor=actor,
                details={"requested_by": requested_by, "reason": reason, **report.counts()},
            )
    except _DryRun:
        pass
    return report
