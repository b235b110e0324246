"""Account views and purchases: what a client has, and buying contracts, top-ups and options."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from hub.core import client_mail, contract_state, ledger, notices
from hub.core import store as t
from hub.core.clients import Client
from hub.core.registry import Registry
from hub.core.store import Store, from_db, to_db
from hub.core.tariff import Document, DocumentKind, TariffConfig, inbound_price, month_key

log = logging.getLogger(__name__)


def month_counter(conn: Connection, client: str, month: str) -> dict[str, int]:
    """Answered calls, outbound contacts and talk seconds of `client` in `month` (YYYY-MM)."""
    row = conn.execute(
        select(t.month_counters).where(t.month_counters.c.client == client, t.month_counters.c.month == month)
    ).first()
    if row is None:
        return {"answered": 0, "outbound": 0, "talk_seconds": 0}
    return {
        "answered": int(row.answered),
        "outbound": int(row.outbound),
        "talk_seconds": int(row.talk_seconds),
    }


def bump_month_counter(conn: Connection, client: str, month: str, **deltas: int) -> dict[str, int]:
    """Add `deltas` (``answered``, ``outbound``, ``talk_seconds``) to `client`'s counters of `month`.

    Counts never go below zero (a refunded SMS takes its contact back out of the month).
    Returns the counters as they are now.
    """
    current = month_counter(conn, client, month)
    new = {key: max(0, current[key] + deltas.get(key, 0)) for key in current}
    where = (t.month_counters.c.client == client, t.month_counters.c.month == month)
    if conn.execute(update(t.month_counters).where(*where).values(**new)).rowcount == 0:
        conn.execute(insert(t.month_counters).values(client=client, month=month, **new))
    return new


def next_call_price(conn: Connection, client: Client, at: datetime, tariff: TariffConfig) -> int:
    """What the next answered call of `client` would cost at `at`."""
    answered = month_counter(conn, client.id, month_key(at))["answered"]
    return inbound_price(answered + 1, client.tariff.negotiated_cents, config=tariff)


def load_client(conn: Connection, client_id: str) -> Client:
    """The client `client_id` as stored; `ledger.UnknownAccount` if there is none."""
    row = conn.execute(select(t.clients.c.config).where(t.clients.c.id == client_id)).first()
    if row is None:
        raise ledger.UnknownAccount(f"no client {client_id!r} (apply it with `recado clients apply`)")
    return Client.model_validate(row.config)


def show(conn: Connection, client_id: str, at: datetime, tariff: TariffConfig) -> dict[str, Any]:
    """The account at a glance, as `recado accounts show --json` prints it."""
    client = load_client(conn, client_id)
    account = ledger.lock_account(conn, client_id, for_update=False)
    month = month_counter(conn, client_id, month_key(at))
    average = month["talk_seconds"] // month["answered"] if month["answered"] else 0
    return {
        "client": client_id,
        "balance_cents": account.balance_cents,
        "held_cents": account.held_cents,
        "available_cents": account.available_cents,
        "interrupted": account.interrupted,
        "next_call_cents": next_call_price(conn, client, at, tariff),
        "contract_ends_at": _iso(from_db(account.contract_ends_at)),
        "month": {
            "month": month_key(at),
            "answered": month["answered"],
            "outbound": month["outbound"],
            "average_talk_seconds": average,
            "average_talk_above_limit": average > tariff.average_talk_limit_s,
        },
    }


def purchase(
    store: Store,
    registry: Registry,
    client_id: str,
    document: Document,
    at: datetime,
    tariff: TariffConfig,
    notify: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """Record a purchase: the document, its ledger entry, the contract end, a resumption.

    After the commit, `notify` (``notify(hook, **kwargs)``) gets ``purchase_made`` and,
    when the purchase lifted an interruption, ``service_interrupted`` with ``interrupted=False``.
    Raises `ledger.InsufficientBalance` for an option paid from a balance that cannot cover it,
    and `contract_state.ContractOver` for money paid into a contract that is over.
    """
    with store.begin() as conn:
        client = load_client(conn, client_id)
        account = ledger.lock_account(conn, client_id)
        _check_contract_running(account, document, at)
        body = document.model_dump(mode="json") | {"client": client_id, "at": at.isoformat()}
        result = conn.execute(
            insert(t.documents).values(client=client_id, at=to_db(at), kind=document.kind.value, body=body)
        )
        primary_key = result.inserted_primary_key
        if primary_key is None:
            raise RuntimeError("the database returned no document number")
        number = int(primary_key[0])
        body["number"] = number
        conn.execute(update(t.documents).where(t.documents.c.id == number).values(body=body))
        ledger.post(
            conn,
            client_id,
            at=at,
            kind=document.kind.value,
            amount_cents=document.balance_change_cents,
            ref=f"document {number}",
            key=f"document:{number}",
        )
        if document.kind is DocumentKind.MESSAGE:
            # The option bought is part of the client's configuration from now on.
            set_message_option(conn, client_id, document.item)
        if document.kind is DocumentKind.CONTRACT and document.months:
            # In Lisbon wall-clock time, so that a contract ends at the hour it started, summer or winter.
            start = max(at, account.contract_ends_at or at).astimezone(contract_state.LISBON)
            conn.execute(
                update(t.accounts)
                .where(t.accounts.c.client == client_id)
                .values(
                    contract_ends_at=to_db(start + timedelta(days=round(document.months * 365 / 12))),
                    contract_state=contract_state.ACTIVE,
                )
            )
        resumed = resume_if_covered(conn, registry, client, at, tariff)
    log.info("client %s bought %s (%s cents net)", client_id, document.item, document.net_cents)
    if resumed:
        log.info("service of %s resumed", client_id)
    if notify is not None:
        notify("purchase_made", client=client_id, document=body)
        if resumed:
            notify("service_interrupted", client=client_id, interrupted=False, at=at)
    return body


def resume_if_covered(conn: Connection, registry: Registry, client: Client, at: datetime, tariff: TariffConfig) -> bool:
    """Lift an interruption once the balance covers the next call; tell the client. Whether it did."""
    account = ledger.lock_account(conn, client.id)
    if not account.interrupted or account.available_cents < next_call_price(conn, client, at, tariff):
        return False
    ledger.set_interrupted(conn, client.id, False)
    notices.send(conn, registry, client, "service_resumed", at)
    client_mail.service_resumed(conn, client, at)
    return True


def _check_contract_running(account: ledger.Account, document: Document, at: datetime) -> None:
    """Money paid into a contract that is over would only be forfeited: say what to do instead.

    A new contract on an account whose balance was already forfeited (``ended``) starts a new
    contract period; a contract whose end passed but whose balance is not forfeited yet goes
    through `hub.core.contracts.renew`, which forfeits it first.
    """
    if not contract_state.has_ended(account, at):
        return
    if document.kind is DocumentKind.CONTRACT and account.contract_state == contract_state.ENDED:
        return
    end = account.contract_ends_at
    when = f" on {contract_state.end_date(end)}" if end else ""
    raise contract_state.ContractOver(
        f"the contract of {account.client!r} ended{when}: renew it with "
        f"`recado accounts renew {account.client} --plan 12m|6m` (its remaining balance is forfeited first)"
    )


def set_message_option(conn: Connection, client_id: str, languages: str) -> None:
    """Switch the recorded-message option `languages` on in the client's stored configuration."""
    row = conn.execute(select(t.clients.c.config).where(t.clients.c.id == client_id)).one()
    config = dict(row.config) | {"recorded_message": languages}
    conn.execute(update(t.clients).where(t.clients.c.id == client_id).values(config=config))


def purchased_message_option(conn: Connection, client_id: str) -> str | None:
    """The recorded-message option the client bought last, if any (kept across renewals)."""
    row = conn.execute(
        select(t.documents.c.body)
        .where(t.documents.c.client == client_id, t.documents.c.kind == DocumentKind.MESSAGE.value)
        .order_by(t.documents.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else str(row.body["item"])


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
