"""Shared setup of the data-protection tests: calls at chosen times, deliveries, campaigns, a database scan."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sample_clients import clients_yaml, lisbon
from sqlalchemy import func, select

from hub.core import campaigns_admin, directory, ledger, outbox
from hub.core import store as t
from hub.core.engine import Engine
from hub.core.hours import HoursConfig, Weekday
from hub.core.models import CallEvent, EventKind, WrapUp, record_id_for
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

ACME = "+351217000001"
BETA = "+351217000002"
GAMMA = "+351217000003"
CALLER = "+351912345678"
OTHER = "+351913000111"
NAME = "Maria Simões"
GAMMA_PASSWORD = "gamma-smtp-pass-Zx81"
TEMPLATES = {"pt": "Olá {{ name }}, consulta na {{ client }} a {{ appointment_date }} às {{ appointment_time }}."}

GAMMA_CLIENT = """
  - id: gamma
    name: "Gama Seguros"
    nif: "510000003"
    dids: ["+351217000003"]
    retention_months: 6
    script: {version: 1, fields: [{name: name, label: {pt: Nome}, type: text}]}
    destinations:
      - id: relay
        kind: email
        settings:
          to: ["gama@gamma.example"]
          smtp: {host: 127.0.0.1, port: 9, security: plain, username: gama, password: {"$env": "GAMMA_SMTP_PASSWORD"}}
"""


@pytest.fixture(autouse=True)
def gamma_smtp_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The password of gamma's SMTP relay, read from the environment (imported, it is set for every test)."""
    monkeypatch.setenv("GAMMA_SMTP_PASSWORD", GAMMA_PASSWORD)


def privacy_clients(maildir: Path, *, acme_months: int | None = 3, beta_months: int | None = None) -> str:
    """`acme` (keeps `acme_months`), `beta` (keeps `beta_months`) and `gamma` (6 months, an SMTP password secret)."""
    text = clients_yaml(maildir, extra=GAMMA_CLIENT)
    # Each acme destination gets a Maildir of its own: a worker delivers to both at once.
    text = text.replace(
        f'["gerencia@acme.example"], maildir: "{maildir}"', f'["gerencia@acme.example"], maildir: "{maildir}-gerencia"'
    )
    if acme_months is not None:
        text = text.replace(
            '    dids: ["+351217000001"]\n', f'    dids: ["+351217000001"]\n    retention_months: {acme_months}\n'
        )
    if beta_months is not None:
        text = text.replace(
            '    dids: ["+351217000002"]\n', f'    dids: ["+351217000002"]\n    retention_months: {beta_months}\n'
        )
    return text


def apply(store: Store, plugins: Plugins, tmp_path: Path, **months: int | None) -> None:
    """Apply the three clients of these tests."""
    directory.apply_file(
        store, plugins.registry, tmp_path / "clients.yaml", text=privacy_clients(tmp_path / "maildir", **months)
    )


#: Open around the clock, so that every call of these tests is answered whatever its time.
ALWAYS_OPEN = HoursConfig(
    windows={day: ["00:00-24:00"] for day in Weekday}, lisbon_holiday=False, national_holidays=False
)


def engine_for(store: Store, plugins: Plugins) -> Engine:
    """An engine over `store` that answers at any hour."""
    return Engine(store, plugins.registry, Settings(database_url=store.url, hours=ALWAYS_OPEN))


def answered(
    engine: Engine,
    call_id: str,
    at: datetime,
    *,
    did: str = ACME,
    caller: str = CALLER,
    name: str = NAME,
    notes: str | None = None,
) -> str:
    """An answered call with a wrap-up naming the caller; its record id."""
    engine.handle(CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=at, did=did, caller=caller))
    engine.handle(CallEvent(call_id=call_id, kind=EventKind.ANSWERED, at=at + timedelta(seconds=4), agent="ana"))
    engine.handle(CallEvent(call_id=call_id, kind=EventKind.ENDED, at=at + timedelta(seconds=120)))
    engine.wrapup(WrapUp(call_id=call_id, agent="ana", language="pt", answers={"name": name}, notes=notes))
    return record_id_for("ingest", call_id)


def offered(engine: Engine, call_id: str, at: datetime, *, did: str = ACME, caller: str = CALLER) -> None:
    """A call offered and not yet over, or refused for a number of no client (a state in `calls`, no record)."""
    engine.decide(CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=at, did=did, caller=caller))


def kill_pending(store: Store, client: str, reason: str) -> int:
    """Dead-letter every pending delivery of `client`, as a worker does after the last retry."""
    now = datetime.now().astimezone() + timedelta(days=30)
    claimed = [row for row in outbox.claim(store, "test", now=now, lease_s=60, limit=1000) if row.client == client]
    with store.begin() as conn:
        for row in claimed:
            outbox.mark_dead(conn, "test", row.id, reason)
    return len(claimed)


def statuses(store: Store, record_id: str) -> list[str]:
    """The delivery statuses of a record, in outbox order."""
    with store.connect() as conn:
        return list(
            conn.execute(
                select(t.outbox.c.status).where(t.outbox.c.record_id == record_id).order_by(t.outbox.c.id)
            ).scalars()
        )


def count(store: Store, table: Any, *where: Any) -> int:
    """Rows of `table` (that match `where`)."""
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def record_ids(store: Store, client: str | None = None) -> set[str]:
    """The ids of the records in the database (of `client`)."""
    query = select(t.records.c.record_id)
    if client is not None:
        query = query.where(t.records.c.client == client)
    with store.connect() as conn:
        return set(conn.execute(query).scalars())


def balances(store: Store) -> dict[str, tuple[int, int]]:
    """Each client's balance and the sum of its ledger entries."""
    with store.connect() as conn:
        rows = conn.execute(select(t.accounts.c.client, t.accounts.c.balance_cents)).all()
        return {row.client: (int(row.balance_cents), ledger.ledger_sum(conn, row.client)) for row in rows}


def ledger_rows(store: Store) -> list[tuple[Any, ...]]:
    """Every ledger entry as stored."""
    with store.connect() as conn:
        return [tuple(row) for row in conn.execute(select(t.ledger).order_by(t.ledger.c.id))]


def database_text(store: Store) -> dict[str, str]:
    """Every table's rows written out as text (JSON read back, non-ASCII as is), by table name."""
    found: dict[str, str] = {}
    with store.connect() as conn:
        for table in t.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in conn.execute(select(table))]
            found[table.name] = json.dumps(rows, ensure_ascii=False, default=str)
    return found


def campaign(store: Store, plugins: Plugins, rows: list[tuple[str, str, str]], *, at: str) -> int:
    """A phone campaign of acme with contacts `(name, number, appointment)`; its id."""
    lines = ["name,number,appointment,language,channel"] + [f"{n},{num},{when},pt,phone" for n, num, when in rows]
    created = campaigns_admin.create_campaign(
        store,
        plugins.registry,
        "acme",
        "\n".join(lines) + "\n",
        TEMPLATES,
        name="Lembretes",
        mode="agent",
        created_by="operator",
        now=lisbon(at),
    )
    return int(created["id"])
