"""Durable finalization rate, as a ratio to plain inserts of the same rows in the same run.

Finalizing a record is one transaction: the record row, the ledger debit (with
its idempotency check and the account update), the hold release and one outbox
row per destination. The baseline inserts the very same rows (record, ledger
entry, outbox rows), one transaction per record, with no rule applied. Both run
side by side on the same kind of database, so the ratio says what the engine's
bookkeeping costs, whatever the machine.

Usage: python bench/bench_finalize.py [N]   (PostgreSQL too when it is reachable)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import insert, select

from hub.core import accounts, directory
from hub.core import store as t
from hub.core.engine import Engine
from hub.core.models import CallEvent, EventKind, WrapUp
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_plan, document_for_topup
from hub.plugins import Plugins
from hub.settings import Settings

LISBON = ZoneInfo("Europe/Lisbon")
PG_ADMIN = os.environ.get("RECADO_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
CLIENTS = """
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    script:
      version: 1
      fields: [{name: name, label: {pt: Nome, en: Name}, type: text}]
    destinations:
      - {id: mail, kind: email, settings: {to: ["a@acme.example"], maildir: "MAILDIR"}}
      - {id: copy, kind: email, settings: {to: ["b@acme.example"], maildir: "MAILDIR"}}
"""


def prepare(store: Store, plugins: Plugins, workdir: Path, calls: int) -> Engine:
    """A client with enough balance and `calls` calls that ended, waiting for their wrap-up."""
    text = CLIENTS.replace("MAILDIR", str(workdir / "maildir"))
    directory.apply_file(store, plugins.registry, workdir / "clients.yaml", text=text)
    start = datetime(2026, 3, 1, 8, 0, tzinfo=LISBON)
    accounts.purchase(store, plugins.registry, "acme", document_for_plan("12m"), start, TariffConfig())
    for _ in range(calls // 50):
        accounts.purchase(store, plugins.registry, "acme", document_for_topup(50), start, TariffConfig())
    engine = Engine(store, plugins.registry, Settings(database_url=store.url))
    at = datetime(2026, 3, 2, 9, 0, tzinfo=LISBON)
    for number in range(calls):
        call_id = f"c{number}"
        moment = at + timedelta(seconds=number)
        engine.handle(
            CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=moment, did="+351217000001", caller="+351912345678")
        )
        engine.handle(CallEvent(call_id=call_id, kind=EventKind.ANSWERED, at=moment, agent="ana"))
        engine.handle(CallEvent(call_id=call_id, kind=EventKind.ENDED, at=moment + timedelta(seconds=1)))
    return engine


def finalize_all(engine: Engine, calls: int) -> None:
    """The measured work: the wrap-up that makes each record final."""
    for number in range(calls):
        engine.wrapup(WrapUp(call_id=f"c{number}", agent="ana", answers={"name": "Rui"}))


def rows_of(store: Store) -> list[dict[str, Any]]:
    """Every record with its ledger entry and outbox rows, as the engine wrote them."""
    with store.connect() as conn:
        records = conn.execute(select(t.records).order_by(t.records.c.record_id)).mappings().all()
        ledger = {row["ref"]: dict(row) for row in conn.execute(select(t.ledger)).mappings()}
        outbox: dict[str, list[dict[str, Any]]] = {}
        for row in conn.execute(select(t.outbox)).mappings():
            outbox.setdefault(row["record_id"], []).append(dict(row))
    return [
        {"record": dict(row), "ledger": ledger[row["record_id"]], "outbox": outbox.get(row["record_id"], [])}
        for row in records
    ]


def plain_insert(store: Store, rows: list[dict[str, Any]]) -> None:
    """The baseline: the same rows, inserted as they are, one transaction per record."""
    for item in rows:
        with store.begin() as conn:
            conn.execute(insert(t.records).values(**item["record"]))
            conn.execute(insert(t.ledger).values({k: v for k, v in item["ledger"].items() if k != "id"}))
            for row in item["outbox"]:
                conn.execute(insert(t.outbox).values({k: v for k, v in row.items() if k != "id"}))


def timed(work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run(label: str, open_store: Callable[[str], Store], calls: int, plugins: Plugins) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        engine_store = open_store("engine")
        baseline_store = open_store("baseline")
        engine = prepare(engine_store, plugins, workdir, calls)
        directory.apply_file(
            baseline_store,
            plugins.registry,
            workdir / "clients.yaml",
            text=CLIENTS.replace("MAILDIR", str(workdir / "maildir")),
        )
        finalize_s = timed(lambda: finalize_all(engine, calls))
        rows = rows_of(engine_store)
        assert len(rows) == calls, f"expected {calls} records, got {len(rows)}"
        baseline_s = timed(lambda: plain_insert(baseline_store, rows))
        engine_store.dispose()
        baseline_store.dispose()
    finalize_rate, baseline_rate = calls / finalize_s, calls / baseline_s
    print(
        f"{label}: finalize {finalize_rate:,.0f} records/s, plain insert {baseline_rate:,.0f} records/s, "
        f"ratio {finalize_rate / baseline_rate:.2f} ({calls} records, {datetime.now(UTC):%H:%M:%S})"
    )


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    os.environ.setdefault("RECADO_SECRET_KEY", "J8U7Qx3wqNwQ2n0W9m3a2Yw6sQ1y3x5k7o9q1s3u5w4=")
    plugins = Plugins(only={"email"})
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", lambda name: Store(f"sqlite:///{tmp}/{name}.db"), calls, plugins)
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.Error:
        print("postgresql: skipped (not reachable)")
        return
    created: list[str] = []

    def open_pg(name: str) -> Store:
        database = f"recado_bench_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        created.append(database)
        return Store(f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}")

    try:
        run("postgresql", open_pg, calls, plugins)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            for database in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
