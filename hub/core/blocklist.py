"""Numbers a client blocked: their calls are refused, free, and recorded as `blocked`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.clients import normalize_e164
from hub.core.store import from_db


def block(conn: Connection, client: str, number: str, note: str | None = None) -> str:
    """Block `number` for `client` (idempotent); return it in E.164. ValueError if it is no number."""
    e164 = normalize_e164(number)
    if not is_blocked(conn, client, e164):
        conn.execute(
            insert(t.blocked_numbers).values(client=client, number=e164, note=note, created_at=datetime.now(UTC))
        )
    return e164


def unblock(conn: Connection, client: str, number: str) -> bool:
    """Unblock `number` for `client`; whether it was blocked."""
    e164 = normalize_e164(number)
    result = conn.execute(
        delete(t.blocked_numbers).where(t.blocked_numbers.c.client == client, t.blocked_numbers.c.number == e164)
    )
    return bool(result.rowcount)


def is_blocked(conn: Connection, client: str, number: str | None) -> bool:
    """Whether calls from `number` (E.164) to `client` are refused."""
    if not number:
        return False
    row = conn.execute(
        select(t.blocked_numbers.c.number).where(
            t.blocked_numbers.c.client == client, t.blocked_numbers.c.number == number
        )
    ).first()
    return row is not None


def listing(conn: Connection, client: str) -> list[dict[str, Any]]:
    """The numbers `client` blocked, newest first."""
    rows = conn.execute(
        select(t.blocked_numbers)
        .where(t.blocked_numbers.c.client == client)
        .order_by(t.blocked_numbers.c.created_at.desc())
    )
    return [
        {"number": row.number, "note": row.note, "created_at": (from_db(row.created_at) or row.created_at).isoformat()}
        for row in rows
    ]
