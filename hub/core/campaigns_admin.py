"""Campaigns as the operator and clients handle them: upload, list, show, cancel.

An upload is checked as a whole (every row of the file, the templates, the SMS
destination) and stored in one transaction, or refused with every problem found
and nothing stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import String, cast, func, insert, literal, select, update
from sqlalchemy.engine import Connection

from hub.core import contract_state, ledger, optouts, records
from hub.core import store as t
from hub.core.accounts import load_client
from hub.core.campaigns_csv import CampaignFileError, RowError, parse_contacts
from hub.core.campaigns_text import TemplateProblem, check_templates, render
from hub.core.clients import Client
from hub.core.outbound import SOURCE
from hub.core.registry import Registry
from hub.core.store import Store, from_db, to_db

Mode = Literal["agent", "message"]
MODES = ("agent", "message")
STATUSES = (
    "pending",
    "in_progress",
    "sent",
    "delivered",
    "failed",
    "confirmed",
    "rescheduled",
    "no_answer",
    "message_played",
    "opted_out",
    "skipped",
)


class UnknownCampaign(LookupError):
    """No campaign with this id (or not within the asker's reach)."""


def create_campaign(
    store: Store,
    registry: Registry,
    client_id: str,
    data: bytes | str,
    templates: Mapping[str, str | None],
    *,
    name: str | None = None,
    mode: str = "agent",
    created_by: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check and store an uploaded campaign; `CampaignFileError` lists every problem, nothing is stored.

    Raises `ledger.UnknownAccount` for an unknown client and `ContractOver` for a client whose
    contract is over at `now` (its contacts would never be made).
    """
    now = now or datetime.now(UTC)
    with store.begin() as conn:
        client = load_client(conn, client_id)
        _check_contract_running(conn, client.id, now)
        errors: list[RowError] = []
        if mode not in MODES:
            errors.append(RowError(None, "mode", f"{mode!r} is not a mode (expected agent or message)"))
        title = (name or "").strip() or f"{now.astimezone(UTC):%Y-%m-%d %H:%M} upload"
        if len(title) > 200:
            errors.append(RowError(None, "name", f"is {len(title)} characters long (at most 200)"))
        given = {key: value or "" for key, value in templates.items()}
        try:
            rows = parse_contacts(data, default_language=client.languages[0], now=now)
        except CampaignFileError as exc:
            try:
                check_templates(given, [])  # bad templates are reported with the bad rows
            except TemplateProblem as problem:
                errors.extend(RowError(None, field, message) for field, message in problem.problems)
            raise CampaignFileError(errors + exc.errors) from None
        try:
            kept = check_templates(given, {row.language for row in rows})
        except TemplateProblem as exc:
            errors.extend(RowError(None, field, message) for field, message in exc.problems)
            kept = {}
        if any(row.channel == "sms" for row in rows) and not records.has_message_destination(
            conn, client.id, registry.sends_messages
        ):
            first = next(row.line for row in rows if row.channel == "sms")
            errors.append(
                RowError(
                    first,
                    "channel",
                    f"sms, but {client.id} has no enabled destination that sends SMS "
                    "(add one of kind sms, or use channel phone)",
                )
            )
        for row in rows if kept else []:
            try:
                render(kept[row.language.value], row.name, row.appointment_at, row.language.value, client.name)
            except TemplateProblem as exc:
                errors.extend(RowError(row.line, field, message) for field, message in exc.problems)
        if errors:
            raise CampaignFileError(sorted(errors, key=lambda error: (error.line or 0, error.column)))
        campaign_id = _insert(conn, client, title, mode, kept, created_by, now, rows)
    return show_campaign(store, campaign_id, contacts=False)


def _check_contract_running(conn: Connection, client_id: str, now: datetime) -> None:
    account = ledger.lock_account(conn, client_id, for_update=False)
    if not contract_state.has_ended(account, now):
        return
    end = account.contract_ends_at
    when = f"ended on {contract_state.end_date(end)}" if end is not None else "is over"
    raise contract_state.ContractOver(
        f"the contract of {client_id!r} {when}: no campaign can be uploaded until it is renewed"
    )


def _insert(
    conn: Connection,
    client: Client,
    title: str,
    mode: str,
    templates: dict[str, str],
    created_by: str,
    now: datetime,
    rows: list[Any],
) -> int:
    result = conn.execute(
        insert(t.campaigns).values(
            client=client.id,
            name=title,
            mode=mode,
            templates=templates,
            created_by=created_by,
            created_at=to_db(now),
            status="active",
        )
    )
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the database returned no campaign id")
    campaign_id = int(key[0])
    conn.execute(
        insert(t.contacts),
        [
            {
                "campaign": campaign_id,
                "client": client.id,
                "line": row.line,
                "name": row.name,
                "number": row.number,
                "appointment_at": to_db(row.appointment_at),
                "language": row.language.value,
                "channel": row.channel,
                "status": "opted_out" if optouts.is_opted_out(conn, row.number, client.id) else "pending",
                "attempts": 0,
                "source": SOURCE,
                "price_cents": 0,
                "hold_cents": 0,
                "due_at": to_db(now),
                "updated_at": to_db(now),
            }
            for row in rows
        ],
    )
    # The call id names the contact, so that telephony and SMS reports find it again.
    conn.execute(
        update(t.contacts)
        .where(t.contacts.c.campaign == campaign_id)
        .values(call_id=literal("contact-").concat(cast(t.contacts.c.id, String)))
    )
    return campaign_id


def _counts(conn: Connection, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, Counter[str]] = {campaign_id: Counter() for campaign_id in campaign_ids}
    if campaign_ids:
        rows = conn.execute(
            select(t.contacts.c.campaign, t.contacts.c.status, func.count(), func.sum(t.contacts.c.price_cents))
            .where(t.contacts.c.campaign.in_(campaign_ids))
            .group_by(t.contacts.c.campaign, t.contacts.c.status)
        )
        for campaign_id, status, count, cents in rows:
            counts[int(campaign_id)][status] += int(count)
            counts[int(campaign_id)]["price_cents"] += int(cents or 0)
    return {campaign_id: dict(counter) for campaign_id, counter in counts.items()}


def _campaign(row: Any, counts: dict[str, int]) -> dict[str, Any]:
    created = from_db(row.created_at)
    statuses = {status: counts.get(status, 0) for status in STATUSES}
    return {
        "id": int(row.id),
        "client": row.client,
        "name": row.name,
        "mode": row.mode,
        "status": row.status,
        "templates": dict(row.templates),
        "created_by": row.created_by,
        "created_at": created.isoformat() if created else None,
        "contacts": sum(statuses.values()),
        "counts": statuses,
        "price_cents": counts.get("price_cents", 0),
    }


def list_campaigns(conn: Connection, *, client: str | None = None) -> list[dict[str, Any]]:
    """Campaigns (of one client, or all), newest first, with their contacts counted by status."""
    query = select(t.campaigns).order_by(t.campaigns.c.id.desc())
    if client is not None:
        query = query.where(t.campaigns.c.client == client)
    rows = conn.execute(query).all()
    counts = _counts(conn, [int(row.id) for row in rows])
    return [_campaign(row, counts[int(row.id)]) for row in rows]


def contact_rows(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """The contacts of a campaign in file order, as `show` lists them."""
    rows = conn.execute(select(t.contacts).where(t.contacts.c.campaign == campaign_id).order_by(t.contacts.c.id))
    found = []
    for row in rows:
        appointment, updated = from_db(row.appointment_at), from_db(row.updated_at)
        found.append(
            {
                "id": int(row.id),
                "line": int(row.line),
                "name": row.name,
                "number": row.number,
                "appointment_at": appointment.isoformat() if appointment else None,
                "language": row.language,
                "channel": row.channel,
                "status": row.status,
                "attempts": int(row.attempts),
                "agent": row.agent,
                "outcome": row.outcome,
                "price_cents": int(row.price_cents),
                "record_id": row.record_id,
                "updated_at": updated.isoformat() if updated else None,
            }
        )
    return found


def show_campaign(
    store: Store, campaign_id: int, *, client: str | None = None, contacts: bool = True
) -> dict[str, Any]:
    """One campaign with its counts and (with `contacts`) every contact; `UnknownCampaign` if not found.

    With `client`, a campaign of another client is not found either.
    """
    with store.connect() as conn:
        row = conn.execute(select(t.campaigns).where(t.campaigns.c.id == campaign_id)).first()
        if row is None or (client is not None and row.client != client):
            raise UnknownCampaign(f"no campaign {campaign_id}")
        view = _campaign(row, _counts(conn, [campaign_id])[campaign_id])
        if contacts:
            view["contact_list"] = contact_rows(conn, campaign_id)
    return view


def cancel_campaign(store: Store, campaign_id: int, *, client: str | None = None, now: datetime | None = None) -> int:
    """Stop a campaign: contacts not yet made are skipped (calls in progress finish). Returns how many."""
    now = now or datetime.now(UTC)
    with store.begin() as conn:
        row = conn.execute(select(t.campaigns).where(t.campaigns.c.id == campaign_id)).first()
        if row is None or (client is not None and row.client != client):
            raise UnknownCampaign(f"no campaign {campaign_id}")
        conn.execute(update(t.campaigns).where(t.campaigns.c.id == campaign_id).values(status="cancelled"))
        result = conn.execute(
            update(t.contacts)
            .where(t.contacts.c.campaign == campaign_id, t.contacts.c.status == "pending")
            .values(status="skipped", outcome="cancelled", updated_at=to_db(now))
        )
        return int(result.rowcount)
