"""Numbers that asked not to be contacted: no campaign ever contacts them again.

An opt-out names one client (the person asked that client to stop) or none (no
client contacts the number). One entry per number: a number that opts out of two
different clients is opted out of all. Contacts still waiting for such a number
become `opted_out` at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.campaigns_csv import portuguese_number
from hub.core.clients import normalize_e164
from hub.core.store import from_db

#: Contact states that have not been contacted yet and so can still be opted out.
WAITING = ("pending",)


def normalize(number: str) -> str:
    """A number as opt-outs keep it: E.164, Portuguese numbers as written in any usual form."""
    try:
        return portuguese_number(number)
    except ValueError:
        return normalize_e164(number)


def add(
    conn: Connection, number: str, *, client: str | None = None, reason: str | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """Opt `number` out (of `client` only, or of every client); idempotent. Returns the entry.

    Raises ValueError for a number that is not one, LookupError for an unknown client.
    """
    e164 = normalize(number)
    if client is not None and conn.execute(select(t.clients.c.id).where(t.clients.c.id == client)).first() is None:
        raise LookupError(f"no client {client!r}")
    now = at or datetime.now(UTC)
    row = conn.execute(select(t.opt_outs).where(t.opt_outs.c.number == e164)).first()
    if row is None:
        conn.execute(insert(t.opt_outs).values(number=e164, client=client, reason=reason, created_at=now))
    elif row.client is not None and row.client != client:
        conn.execute(update(t.opt_outs).where(t.opt_outs.c.number == e164).values(client=None, reason=reason))
    waiting = select(t.contacts.c.id).where(t.contacts.c.number == e164, t.contacts.c.status.in_(WAITING))
    scope = conn.execute(select(t.opt_outs.c.client).where(t.opt_outs.c.number == e164)).scalar()
    if scope is not None:
        waiting = waiting.where(t.contacts.c.client == scope)
    ids = [int(contact_id) for contact_id in conn.execute(waiting).scalars()]
    if ids:
        conn.execute(update(t.contacts).where(t.contacts.c.id.in_(ids)).values(status="opted_out", updated_at=now))
    return get(conn, e164) or {}


def remove(conn: Connection, number: str) -> bool:
    """Let `number` be contacted again by future campaigns; False when it had not opted out."""
    e164 = normalize(number)
    return bool(conn.execute(delete(t.opt_outs).where(t.opt_outs.c.number == e164)).rowcount)


def is_opted_out(conn: Connection, number: str, client: str) -> bool:
    """Whether `client` may not contact `number` (an E.164 number)."""
    found = conn.execute(
        select(t.opt_outs.c.number).where(
            t.opt_outs.c.number == number, or_(t.opt_outs.c.client.is_(None), t.opt_outs.c.client == client)
        )
    ).first()
    return found is not None


def get(conn: Connection, number: str) -> dict[str, Any] | None:
    """The opt-out of an E.164 number, or None."""
    row = conn.execute(select(t.opt_outs).where(t.opt_outs.c.number == number)).first()
    return None if row is None else _entry(row)


def listing(conn: Connection, *, client: str | None = None) -> list[dict[str, Any]]:
    """Every opt-out (or those that bind `client`: its own and those of all clients), newest first."""
    query = select(t.opt_outs).order_by(t.opt_outs.c.created_at.desc(), t.opt_outs.c.number)
    if client is not None:
        query = query.where(or_(t.opt_outs.c.client.is_(None), t.opt_outs.c.client == client))
    return [_entry(row) for row in conn.execute(query)]


def _entry(row: Any) -> dict[str, Any]:
    created = from_db(row.created_at)
    return {
        "number": row.number,
        "client": row.client,
        "reason": row.reason,
        "created_at": created.isoformat() if created else None,
    }
