"""The `volume` tariff mode: one price for all of a month's calls, settled by a credit.

During the month a `volume` client's calls are debited at the graduated prices, so each
price is known when the call is admitted and the balance never goes negative. After the
month ends (Lisbon time), its final count of answered calls N sets one price, that of
call number N, for all N calls, and the difference is credited
(`hub.core.tariff.volume_settlement_cents`, ledger kind ``volume_credit``, key
``volume:<client>:<YYYY-MM>``), with a statement line mailed to the client.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hub.core import accounts, client_mail, directory, ledger, notices
from hub.core import store as t
from hub.core.clients import Client
from hub.core.registry import Registry
from hub.core.scheduler import JobContext
from hub.core.tariff import (
    TariffConfig,
    graduated_total_cents,
    inbound_price,
    month_key,
    volume_settlement_cents,
)

log = logging.getLogger(__name__)
LISBON = ZoneInfo("Europe/Lisbon")
VOLUME = "volume"


@dataclass(frozen=True)
class Settlement:
    """What one month of a `volume` client came to."""

    client: str
    month: str
    calls: int
    price_cents: int
    graduated_cents: int
    credit_cents: int
    #: Whether this settlement changed anything (a credit posted or a statement queued).
    new: bool
    #: Whether the credit lifted an interruption.
    resumed: bool = False


def previous_month(month: str) -> str:
    """The month before "YYYY-MM"."""
    year, number = (int(part) for part in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def last_month(now: datetime) -> str:
    """The Lisbon month that ended most recently before `now`."""
    return previous_month(month_key(now))


def settle_month(
    conn: Connection,
    registry: Registry,
    client: Client,
    month: str,
    at: datetime,
    tariff: TariffConfig,
) -> Settlement | None:
    """Settle `month` of `client` (idempotent); None when it had no answered call.

    A credit that makes the balance cover the next call again lifts an interruption.
    """
    calls = accounts.month_counter(conn, client.id, month)["answered"]
    if calls == 0:
        return None
    negotiated = client.tariff.negotiated_cents
    price = inbound_price(calls, negotiated, config=tariff)
    graduated = graduated_total_cents(calls, negotiated, config=tariff)
    credit = volume_settlement_cents(calls, negotiated, tariff)
    posted = None
    resumed = False
    if credit:
        posted = ledger.post(
            conn,
            client.id,
            at=at,
            kind="volume_credit",
            amount_cents=credit,
            ref=f"volume {month}: {calls} calls at {price} cents",
            key=f"volume:{client.id}:{month}",
        )
        if posted is not None:
            resumed = accounts.resume_if_covered(conn, registry, client, at, tariff)
    queued = client_mail.volume_statement(
        conn,
        client,
        at=at,
        month=month,
        calls=calls,
        price_cents=price,
        graduated_cents=graduated,
        credit_cents=credit,
    )
    new = posted is not None or queued > 0
    return Settlement(client.id, month, calls, price, graduated, credit, new=new, resumed=resumed)


def is_settled(conn: Connection, client: Client, month: str) -> bool:
    """Whether `month` of `client` needs nothing more: no call, its credit posted or its statement queued."""
    key = f"volume:{client.id}:{month}"
    if accounts.month_counter(conn, client.id, month)["answered"] == 0:
        return True
    if conn.execute(select(t.ledger.c.id).where(t.ledger.c.idempotency_key == key)).first():
        return True
    return conn.execute(
        select(t.outbox.c.id).where(
            t.outbox.c.client == client.id, t.outbox.c.destination == notices.CONTACT, t.outbox.c.idempotency_key == key
        )
    ).first() is not None


def settle_last_month(context: JobContext) -> int:
    """The `tariff.volume_settlement` job: settle the month that ended for every `volume` client.

    Only the most recent month is settled: after an outage longer than a whole month, run
    ``recado tick --job tariff.volume_settlement --at`` a time in the month after the one missed.
    """
    month = last_month(context.now)
    with context.store.connect() as conn:
        clients = [client for client in directory.list_clients(conn) if client.tariff.mode == VOLUME]
    done = 0
    for client in clients:
        with context.store.connect() as conn:
            # Runs after the first of the month find it settled: no write transaction for them.
            pending = not is_settled(conn, client, month)
        if not pending:
            continue
        with context.store.begin() as conn:
            settled = settle_month(conn, context.registry, client, month, context.now, context.settings.tariff)
        if settled is not None and settled.resumed:
            context.notify("service_interrupted", client=client.id, interrupted=False, at=context.now)
        if settled is not None and settled.new:
            log.info(
                "volume %s of %s: %d calls, credit %d cents", month, client.id, settled.calls, settled.credit_cents
            )
            done += 1
    return done


def months_to_settle_at_end(end: datetime) -> list[str]:
    """The months a contract ending at `end` settles: the one before (if not yet) and its own."""
    own = month_key(end)
    return [previous_month(own), own]
