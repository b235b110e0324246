"""The contract lifecycle's periodic jobs: reminders, expiry, low-balance warnings, volume settlement.

Every job is idempotent for a given time: what it sends or posts is keyed by dates and
ledger entries (mail keys, ledger idempotency keys), so `recado tick` twice changes nothing.
Each client is handled in a transaction of its own, so one client's problem (reported in
the job's error) never holds the others' locks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from hub.core import accounts, client_mail, contracts, directory, ledger, notices, volume
from hub.core import store as t
from hub.core.clients import Client
from hub.core.contract_state import ENDED, LISBON, end_date, has_ended
from hub.core.scheduler import Job, JobContext

log = logging.getLogger(__name__)

#: Days before a contract's end at which the client is reminded, farthest first.
REMINDER_DAYS = (30, 7)


def reminder_due(end: datetime, now: datetime) -> int | None:
    """Which reminder is due at `now` for a contract ending at `end`: 30, 7 or None.

    The nearest window that has opened wins, so a reminder missed while the hub was down is
    still sent (once, by its key) before the end, but never the 30-day one after the 7-day one.
    """
    if now >= end:
        return None
    local_end = end.astimezone(LISBON)
    opened = [days for days in REMINDER_DAYS if now >= local_end - timedelta(days=days)]
    return min(opened) if opened else None


def send_reminders(context: JobContext) -> int:
    """The `contracts.reminders` job: mail the 30- and 7-day reminders of contract ends."""
    sent = 0
    for client in _clients(context):
        with context.store.connect() as conn:
            account = ledger.lock_account(conn, client.id, for_update=False)
        end = account.contract_ends_at
        if end is None or has_ended(account, context.now):
            continue
        days = reminder_due(end, context.now)
        if days is None:
            continue
        with context.store.begin() as conn:
            # The balance as of now, in the transaction that queues the mail.
            account = ledger.lock_account(conn, client.id)
            sent += client_mail.contract_reminder(
                conn,
                client,
                at=context.now,
                end=end,
                days=days,
                balance_cents=account.balance_cents,
                tariff=context.settings.tariff,
            )
            if not client.contact_email:
                _no_contact(conn, client, f"reminder:{client.id}:{end_date(end)}:{days}", "contract reminder")
    return sent


def expire_contracts(context: JobContext) -> int:
    """The `contracts.expire` job: end the contracts whose end has come (see `contracts.expire`)."""
    with context.store.connect() as conn:
        due = contracts.due_for_expiry(conn, context.now)
    changed = 0
    for client_id in due:
        with context.store.begin() as conn:
            client = accounts.load_client(conn, client_id)
            expiry = contracts.expire(conn, context.registry, client, context.now, context.settings)
            if expiry is not None and expiry.state == ENDED and not client.contact_email:
                _no_contact(conn, client, f"contract_ended:{client_id}:{end_date(expiry.end)}", "contract end")
        if expiry is not None:
            changed += 1
    return changed


def level_for(client: Client, default: int) -> int:
    """The client's low-balance level in calls: its own `low_balance_calls`, else the hub's."""
    return default if client.low_balance_calls is None else client.low_balance_calls


def warn_low_balance(context: JobContext) -> int:
    """The `balance.low_warning` job: one email and one `balance_low` per dip below the level.

    A dip starts when the available balance covers fewer next calls than the level, and ends
    when it covers them again (a top-up, a credit, a cheaper tier); only then can a new dip
    be warned. An interrupted service (told by its own email) or an ended contract is not warned.
    """
    warned: list[dict[str, Any]] = []
    for client in _clients(context):
        with context.store.connect() as conn:
            # Most runs change nothing: only a change is worth a write transaction.
            changes = _coverage(conn, client, context) is not None
        if not changes:
            continue
        with context.store.begin() as conn:
            hook = _apply_coverage(conn, client, context)
        if hook is not None:
            warned.append(hook)
    for kwargs in warned:
        context.notify("balance_low", **kwargs)
    return len(warned)


@dataclass(frozen=True)
class _Coverage:
    """How many next calls a client's available balance covers, when that starts or ends a dip."""

    account: ledger.Account
    low: bool
    calls_left: int
    price_cents: int
    level: int
    latest_entry: int


def _coverage(conn: Connection, client: Client, context: JobContext) -> _Coverage | None:
    """The client's coverage when it starts a dip (low, not yet warned) or ends one; else None."""
    account = ledger.lock_account(conn, client.id, for_update=False)
    if account.interrupted or has_ended(account, context.now):
        return None
    latest = conn.execute(select(func.max(t.ledger.c.id)).where(t.ledger.c.client == client.id)).scalar()
    if latest is None:
        return None  # nothing bought yet: there is no balance to run low
    level = level_for(client, context.settings.lifecycle.low_balance_calls)
    price = accounts.next_call_price(conn, client, context.now, context.settings.tariff)
    if price <= 0:
        return None  # free calls: no balance runs low
    calls_left = account.available_cents // price
    low = level > 0 and calls_left < level
    warned = conn.execute(select(t.accounts.c.low_balance_warned).where(t.accounts.c.client == client.id)).scalar()
    if low == bool(warned):
        return None
    return _Coverage(account, low, calls_left, price, level, int(latest))


def _apply_coverage(conn: Connection, client: Client, context: JobContext) -> dict[str, Any] | None:
    """Start or end the dip (in the write transaction); the `balance_low` arguments of a new one."""
    ledger.lock_account(conn, client.id)  # PostgreSQL: the engine's debits wait while this decides
    coverage = _coverage(conn, client, context)
    if coverage is None:
        return None
    conn.execute(update(t.accounts).where(t.accounts.c.client == client.id).values(low_balance_warned=coverage.low))
    if not coverage.low:
        return None  # the dip is over: the next one will be warned
    client_mail.balance_low(
        conn,
        client,
        at=context.now,
        # The ledger entry that brought the balance this low names the dip.
        key=f"low_balance:{client.id}:{coverage.latest_entry}",
        available_cents=coverage.account.available_cents,
        calls_left=coverage.calls_left,
        price_cents=coverage.price_cents,
        tariff=context.settings.tariff,
    )
    log.info("balance of %s covers %d calls (level %d)", client.id, coverage.calls_left, coverage.level)
    return {"client": client.id, "balance_cents": coverage.account.balance_cents, "calls_left": coverage.calls_left}


def _clients(context: JobContext) -> list[Client]:
    with context.store.connect() as conn:
        return directory.list_clients(conn)


def _no_contact(conn: Connection, client: Client, key: str, what: str) -> None:
    """Tell the operator a client could not be told something because it has no `contact_email`."""
    notices.alert_once(
        conn,
        client=client.id,
        kind="no_contact_email",
        key=f"no_contact:{key}",
        message=f"{client.id} has no contact_email: its {what} could not be mailed",
    )


#: The lifecycle's jobs, in the order they run: a month is settled before a contract ending
#: in it is expired, and an expired contract gets no reminder or low-balance warning.
LIFECYCLE_JOBS: list[Job] = [
    Job("tariff.volume_settlement", every=timedelta(minutes=15), run=volume.settle_last_month),
    Job("contracts.expire", every=timedelta(minutes=1), run=expire_contracts),
    Job("contracts.reminders", every=timedelta(hours=1), run=send_reminders),
    Job("balance.low_warning", every=timedelta(minutes=1), run=warn_low_balance),
]
