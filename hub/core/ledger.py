"""The prepaid balance: accounts, holds, idempotent ledger entries, statements.

Every change of a balance is a ledger entry with a unique idempotency key, so
replaying the same work never counts twice. The balance never goes negative:
an entry that would make it negative raises `InsufficientBalance`.
All functions take a connection inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.store import from_db, to_db


class LedgerError(Exception):
    """A ledger operation is not allowed."""


class InsufficientBalance(LedgerError):
    """The entry would make the balance negative."""


class UnknownAccount(LedgerError):
    """No account exists for this client."""


@dataclass(frozen=True)
class Account:
    """A client's balance, the part of it held for calls in progress, and the service state."""

    client: str
    balance_cents: int
    held_cents: int
    interrupted: bool
    contract_ends_at: datetime | None
    #: active, pending or ended (see `hub.core.contract_state`).
    contract_state: str = "active"

    @property
    def available_cents(self) -> int:
        """What new calls can still be admitted against."""
        return self.balance_cents - self.held_cents


def lock_account(conn: Connection, client: str, *, for_update: bool = True) -> Account:
    """Read (and on PostgreSQL lock until commit) the account of `client`."""
    query = select(t.accounts).where(t.accounts.c.client == client)
    if for_update and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise UnknownAccount(f"no client {client!r} (apply it with `recado clients apply`)")
    return Account(
        client=row.client,
        balance_cents=int(row.balance_cents),
        held_cents=int(row.held_cents),
        interrupted=bool(row.interrupted),
        contract_ends_at=from_db(row.contract_ends_at),
        contract_state=str(row.contract_state),
    )


def post(
    conn: Connection,
    client: str,
    *,
    at: datetime,
    kind: str,
    amount_cents: int,
    ref: str | None,
    key: str,
) -> int | None:
    """Add an entry (credit > 0, debit < 0) and return the new balance.

    Returns None, and changes nothing, when an entry with `key` already exists.
    """
    if conn.execute(select(t.ledger.c.id).where(t.ledger.c.idempotency_key == key)).first():
        return None
    account = lock_account(conn, client)
    balance = account.balance_cents + amount_cents
    if amount_cents < 0 and balance < account.held_cents:
        # Money held for calls in progress is spoken for: a debit cannot take it.
        raise InsufficientBalance(
            f"available balance of {client!r} is {account.available_cents} cents "
            f"({account.held_cents} held for calls in progress), not enough for {-amount_cents} cents ({kind})"
        )
    if balance < 0:
        raise InsufficientBalance(
            f"balance of {client!r} is {account.balance_cents} cents, not enough for {-amount_cents} cents ({kind})"
        )
    conn.execute(
        insert(t.ledger).values(
            client=client,
            at=to_db(at),
            kind=kind,
            amount_cents=amount_cents,
            balance_after_cents=balance,
            ref=ref,
            idempotency_key=key,
        )
    )
    conn.execute(
        update(t.accounts)
        .where(t.accounts.c.client == client)
        .values(balance_cents=balance, updated_at=datetime.now(UTC))
    )
    return balance


def change_hold(conn: Connection, client: str, delta_cents: int) -> None:
    """Hold (delta > 0) or release (delta < 0) part of the balance for a call in progress."""
    if delta_cents == 0:
        return
    conn.execute(
        update(t.accounts)
        .where(t.accounts.c.client == client)
        .values(held_cents=t.accounts.c.held_cents + delta_cents, updated_at=datetime.now(UTC))
    )


def set_interrupted(conn: Connection, client: str, interrupted: bool) -> None:
    """Record whether the client's service is interrupted for lack of balance."""
    conn.execute(update(t.accounts).where(t.accounts.c.client == client).values(interrupted=interrupted))


def statement(conn: Connection, client: str) -> list[dict[str, Any]]:
    """Every ledger entry of `client`, oldest first."""
    rows = conn.execute(select(t.ledger).where(t.ledger.c.client == client).order_by(t.ledger.c.id))
    return [
        {
            "at": _iso(from_db(row.at)),
            "kind": row.kind,
            "amount_cents": int(row.amount_cents),
            "balance_after_cents": int(row.balance_after_cents),
            "ref": row.ref,
        }
        for row in rows
    ]


def ledger_sum(conn: Connection, client: str) -> int:
    """The sum of all entries of `client` (equals the balance when all is well)."""
    value = conn.execute(
        select(func.coalesce(func.sum(t.ledger.c.amount_cents), 0)).where(t.ledger.c.client == client)
    ).scalar()
    return int(value or 0)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
