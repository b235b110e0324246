"""Contracts over time: their end (forfeiture), their renewal, and the list of who ends when.

At the end of a contract the service stops (the engine refuses every call from the end on,
see `hub.core.contract_state.has_ended`) and the remaining balance is forfeited by one
ledger entry of kind ``forfeit`` (key ``forfeit:<client>:<end date>``): there is no refund.
Calls admitted before the end may still be in progress then; their holds are settled by
the engine as usual, and the forfeiture waits for them (state ``pending``), so that it
takes exactly what is left once they are paid.

A renewal buys a plan again: before the end it extends the contract from its end; after it,
within `lifecycle.renewal_grace_days`, it forfeits what is still owed and starts a new period
from the renewal. Either way the client keeps its numbers and its recorded-message option
at no cost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from hub.core import accounts, client_mail, contract_state, directory, ledger, volume
from hub.core import store as t
from hub.core.clients import Client
from hub.core.contract_state import ACTIVE, ENDED, PENDING, ContractOver, end_date
from hub.core.registry import Registry
from hub.core.store import Store, from_db
from hub.core.tariff import DocumentKind, document_for_plan
from hub.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Expiry:
    """What the end of one contract did."""

    client: str
    end: datetime
    #: ``pending`` (calls still in progress, nothing forfeited yet) or ``ended``.
    state: str
    forfeited_cents: int = 0


def _set_state(conn: Connection, client_id: str, state: str) -> None:
    values: dict[str, Any] = {"contract_state": state}
    if state == ENDED:
        # Stopped by its end, not interrupted for lack of balance; a new dip is warned afresh.
        values.update(interrupted=False, low_balance_warned=False)
    conn.execute(update(t.accounts).where(t.accounts.c.client == client_id).values(**values))


def expire(
    conn: Connection,
    registry: Registry,
    client: Client,
    now: datetime,
    settings: Settings,
    *,
    tell_client: bool = True,
) -> Expiry | None:
    """End the contract of `client` if its end has come (idempotent); None when nothing changed.

    With holds of calls in progress the contract becomes ``pending`` and the forfeiture
    waits for the next run. Otherwise a `volume` client's months are settled first (the
    month's count is final: no call is answered after the end), then the whole balance is
    forfeited, the contract is ``ended`` and, if `tell_client`, the client is told by email.
    """
    account = ledger.lock_account(conn, client.id)
    end = account.contract_ends_at
    if end is None or now < end or account.contract_state == ENDED:
        return None
    if account.held_cents > 0:
        if account.contract_state == PENDING:
            return None
        _set_state(conn, client.id, PENDING)
        log.info("contract of %s ended; waiting for calls in progress before the forfeiture", client.id)
        return Expiry(client.id, end, PENDING)
    if client.tariff.mode == volume.VOLUME:
        for month in volume.months_to_settle_at_end(end):
            volume.settle_month(conn, registry, client, month, now, settings.tariff)
        account = ledger.lock_account(conn, client.id)
    day = end_date(end)
    forfeited = account.balance_cents
    if forfeited > 0:
        ledger.post(
            conn,
            client.id,
            at=now,
            kind="forfeit",
            amount_cents=-forfeited,
            ref=f"contract ended {day}",
            key=f"forfeit:{client.id}:{day}",
        )
    _set_state(conn, client.id, ENDED)
    if tell_client:
        client_mail.contract_ended(
            conn,
            client,
            at=now,
            end=end,
            forfeited_cents=forfeited,
            renewable_until=end + timedelta(days=settings.lifecycle.renewal_grace_days),
            tariff=settings.tariff,
        )
    log.info("contract of %s ended on %s; %d cents forfeited", client.id, day, forfeited)
    return Expiry(client.id, end, ENDED, forfeited)


def _keep_message_option(conn: Connection, client_id: str) -> None:
    """Make sure the recorded message the client bought is still on, without charging it again.

    A client file applied since may have dropped it; what was paid for stays the client's.
    """
    option = accounts.purchased_message_option(conn, client_id)
    if option is not None and accounts.load_client(conn, client_id).recorded_message != option:
        accounts.set_message_option(conn, client_id, option)


def renew(
    store: Store,
    registry: Registry,
    client_id: str,
    plan: str,
    at: datetime,
    settings: Settings,
    notify: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """Renew the contract of `client_id` with `plan` ("12m" or "6m"); the report as `--json` prints it.

    Raises ValueError for an unknown plan, `ledger.UnknownAccount` for an unknown client and
    `ContractOver` when there is no contract to renew, when it ended longer ago than the
    grace, or while calls admitted before its end are still in progress.
    """
    document = document_for_plan(plan, config=settings.tariff)
    grace = timedelta(days=settings.lifecycle.renewal_grace_days)
    forfeited = 0
    with store.begin() as conn:
        client = accounts.load_client(conn, client_id)
        account = ledger.lock_account(conn, client_id)
        previous_end = account.contract_ends_at
        if previous_end is None:
            raise ContractOver(
                f"{client_id!r} has no contract to renew: buy one with `recado accounts buy {client_id} --plan {plan}`"
            )
        over = contract_state.has_ended(account, at)
        if over and at > previous_end + grace:
            raise ContractOver(
                f"the contract of {client_id!r} ended on {end_date(previous_end)}, more than "
                f"{grace.days} days ago (lifecycle.renewal_grace_days): it can no longer be renewed; "
                f"start a new contract with `recado accounts buy {client_id} --plan {plan}`"
            )
        if over:
            expiry = expire(conn, registry, client, at, settings, tell_client=False)
            forfeited = expiry.forfeited_cents if expiry is not None else 0
            if expiry is not None and expiry.state == PENDING:
                raise ContractOver(
                    f"the contract of {client_id!r} ended on {end_date(previous_end)} and calls admitted "
                    "before its end are still in progress: renew once they are over"
                )
    body = accounts.purchase(store, registry, client_id, document, at, settings.tariff, notify)
    with store.begin() as conn:
        _keep_message_option(conn, client_id)
        message = accounts.load_client(conn, client_id).recorded_message
        account = ledger.lock_account(conn, client_id)
    log.info("contract of %s renewed (%s) until %s", client_id, plan, account.contract_ends_at)
    return {
        "client": client_id,
        "plan": plan,
        "previous_end": _iso(previous_end),
        "contract_ends_at": _iso(account.contract_ends_at),
        "reactivated": over,
        "forfeited_cents": forfeited,
        "dids": list(client.dids),
        "recorded_message": message,
        "message_charged_cents": 0,
        "balance_cents": account.balance_cents,
        "interrupted": account.interrupted,
        "document": body,
    }


def _last_plans(conn: Connection) -> dict[str, str]:
    rows = conn.execute(
        select(t.documents.c.client, t.documents.c.body)
        .where(t.documents.c.kind == DocumentKind.CONTRACT.value)
        .order_by(t.documents.c.id)
    )
    return {row.client: str(row.body.get("item")) for row in rows}


def shown_state(account: ledger.Account, now: datetime) -> str:
    """The state as people read it: ``none`` without a contract, ``pending`` once its end passed."""
    if account.contract_ends_at is None:
        return "none"
    if account.contract_state == ACTIVE and contract_state.has_ended(account, now):
        return PENDING
    return account.contract_state


def list_contracts(
    conn: Connection, now: datetime, settings: Settings, *, ending_within: int | None = None
) -> list[dict[str, Any]]:
    """Every client's plan, contract end, days left, state and balance, soonest end first.

    With `ending_within` only contracts still running whose end is at most that many days away.
    """
    plans = _last_plans(conn)
    today = now.astimezone(contract_state.LISBON).date()
    rows = []
    for client in directory.list_clients(conn):
        account = ledger.lock_account(conn, client.id, for_update=False)
        end = account.contract_ends_at
        days_left = None if end is None else (end.astimezone(contract_state.LISBON).date() - today).days
        state = shown_state(account, now)
        if ending_within is not None and (state != ACTIVE or days_left is None or days_left > ending_within):
            continue
        grace = timedelta(days=settings.lifecycle.renewal_grace_days)
        rows.append(
            {
                "client": client.id,
                "name": client.name,
                "plan": plans.get(client.id),
                "contract_ends_at": _iso(end),
                "end_date": None if end is None else end_date(end),
                "days_left": days_left,
                "state": state,
                "renewable_until": _iso(end + grace) if end is not None and state != ACTIVE else None,
                "balance_cents": account.balance_cents,
                "available_cents": account.available_cents,
                "interrupted": account.interrupted,
                "tariff_mode": client.tariff.mode,
            }
        )
    rows.sort(key=lambda row: (row["contract_ends_at"] is None, row["contract_ends_at"] or "", row["client"]))
    return rows


def due_for_expiry(conn: Connection, now: datetime) -> list[str]:
    """Clients whose contract end has come and whose balance is not forfeited yet."""
    rows = conn.execute(
        select(t.accounts.c.client, t.accounts.c.contract_ends_at)
        .where(t.accounts.c.contract_state != ENDED, t.accounts.c.contract_ends_at.is_not(None))
        .order_by(t.accounts.c.client)
    )
    return [row.client for row in rows if (from_db(row.contract_ends_at) or now) <= now]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
