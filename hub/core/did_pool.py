"""The operator's pool of telephone numbers (DIDs) that new clients get at activation.

A number is `free` (ready to hand out), `assigned` (to a client) or `reserved` (kept aside
by the operator). Activation takes the lowest free number inside its own transaction; on
PostgreSQL the row is locked with SKIP LOCKED, so two activations running at once never
get the same number, and on SQLite the write lock taken at BEGIN serializes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.clients import normalize_e164
from hub.core.store import from_db, to_db

FREE = "free"
ASSIGNED = "assigned"
RESERVED = "reserved"


@dataclass
class AddReport:
    """What `add` did with each number."""

    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    #: Numbers that a client file already gave to a client: recorded as assigned to it.
    in_use: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"added": self.added, "already_in_pool": self.already, "in_use": self.in_use}


def parse_numbers(values: Iterable[str], *, where: str = "") -> list[str]:
    """The numbers in E.164; ValueError names the first one that is not a phone number."""
    numbers: list[str] = []
    for position, value in enumerate(values):
        try:
            number = normalize_e164(value.strip())
        except ValueError as exc:
            place = f"{where}line {position + 1}: " if where else ""
            raise ValueError(f"{place}{exc}") from None
        if number not in numbers:
            numbers.append(number)
    return numbers


def add(conn: Connection, numbers: list[str], at: datetime, *, reserved: bool = False) -> AddReport:
    """Put E.164 `numbers` in the pool, free (or `reserved`); numbers already there are left as they are."""
    report = AddReport()
    present = set(conn.execute(select(t.did_pool.c.did).where(t.did_pool.c.did.in_(numbers))).scalars())
    owners = dict(conn.execute(select(t.dids.c.did, t.dids.c.client).where(t.dids.c.did.in_(numbers))).all())
    for number in numbers:
        if number in present:
            report.already.append(number)
            continue
        owner = owners.get(number)
        values: dict[str, Any] = {"did": number, "added_at": to_db(at), "status": RESERVED if reserved else FREE}
        if owner is not None:
            values |= {"status": ASSIGNED, "client": owner, "assigned_at": to_db(at)}
            report.in_use[number] = owner
        else:
            report.added.append(number)
        conn.execute(insert(t.did_pool).values(**values))
    return report


def _order() -> list[Any]:
    # Numbers of different lengths compare by length first: "lowest" is numeric.
    return [func.length(t.did_pool.c.did), t.did_pool.c.did]


def listing(conn: Connection, *, free_only: bool = False) -> list[dict[str, Any]]:
    """Every number of the pool (or only the free ones), lowest first."""
    query = select(t.did_pool).order_by(*_order())
    if free_only:
        query = query.where(t.did_pool.c.status == FREE)
    return [
        {
            "did": row.did,
            "status": row.status,
            "client": row.client,
            "added_at": _iso(from_db(row.added_at)),
            "assigned_at": _iso(from_db(row.assigned_at)),
        }
        for row in conn.execute(query)
    ]


def free_count(conn: Connection) -> int:
    """How many numbers can still be handed out."""
    return int(conn.execute(select(func.count()).where(t.did_pool.c.status == FREE)).scalar_one())


def take_lowest_free(conn: Connection, client: str, at: datetime) -> str | None:
    """Assign the lowest free number to `client` in the caller's transaction; None when none is free.

    A free number that a client file gave to someone meanwhile is marked assigned to that
    client and skipped.
    """
    while True:
        query = select(t.did_pool.c.did).where(t.did_pool.c.status == FREE).order_by(*_order()).limit(1)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        number = conn.execute(query).scalar()
        if number is None:
            return None
        owner = conn.execute(select(t.dids.c.client).where(t.dids.c.did == number)).scalar()
        conn.execute(
            update(t.did_pool)
            .where(t.did_pool.c.did == number)
            .values(status=ASSIGNED, client=owner or client, assigned_at=to_db(at))
        )
        if owner is None or owner == client:
            return str(number)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
