"""The privacy log: every purge, export and erasure of personal data, and who did it.

A row is written in the transaction of the change it accounts for, so the log
never claims more (or less) than what happened. Its subject is a client id or
a caller's number masked: the log that proves an erasure must not undo it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.privacy import mask_phone
from hub.core.store import from_db, to_db

Action = Literal["purge", "export", "erase"]
ACTIONS: tuple[Action, ...] = ("purge", "export", "erase")


def number_subject(number: str) -> str:
    """How a caller's number is named in the log: masked, never in clear."""
    return "number " + mask_phone(number)


def write(
    conn: Connection,
    *,
    at: datetime,
    action: Action,
    subject: str,
    actor: str,
    details: dict[str, Any],
) -> int:
    """Add an entry inside the caller's transaction; return its id."""
    result = conn.execute(
        insert(t.privacy_log).values(
            at=to_db(at),
            action=action,
            subject=subject[:200],
            actor=(actor or "unknown")[:200],
            details=details,
        )
    )
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the privacy log entry got no id")
    return int(key[0])


def amend(conn: Connection, entry_id: int, details: dict[str, Any]) -> None:
    """Replace the details of an entry (a purge in batches adds up its counts batch by batch)."""
    conn.execute(update(t.privacy_log).where(t.privacy_log.c.id == entry_id).values(details=details))


def entries(
    conn: Connection, *, action: str | None = None, subject: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Entries as JSON-ready dicts, newest first (those of `action` or `subject` only, when given)."""
    query = select(t.privacy_log).order_by(t.privacy_log.c.id.desc())
    if action is not None:
        query = query.where(t.privacy_log.c.action == action)
    if subject is not None:
        query = query.where(t.privacy_log.c.subject == subject)
    if limit is not None:
        query = query.limit(limit)
    return [
        {
            "id": int(row.id),
            "at": (from_db(row.at) or datetime.now(UTC)).isoformat(),
            "action": row.action,
            "subject": row.subject,
            "actor": row.actor,
            "details": dict(row.details),
        }
        for row in conn.execute(query)
    ]
