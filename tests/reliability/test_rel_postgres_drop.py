"""PostgreSQL drops the hub's connections under load: the work resumes and no row is lost.

Real `recado worker` processes deliver to a local webhook receiver while every
connection of theirs is cut with `pg_terminate_backend`, as a database restart
or a failover would cut them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from recado_webhook.testing import Reply, WebhookReceiver

from hub.core.store import Store, make_url

LISBON = ZoneInfo("Europe/Lisbon")
PG_ADMIN = os.environ.get("RECADO_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
pytestmark = pytest.mark.postgres
WORKERS = 2
CALLS = 60
#: Enough calls that the ingest is still running when the database restarts.
RESTART_CALLS = 200


class UnhurriedReceiver(WebhookReceiver):
    """Answers every delivery after a short pause, so that deliveries are in flight when connections drop."""

    def handle(self, headers: Any, body: bytes) -> Reply:
        reply = super().handle(headers, body)
        return Reply(reply.status, reply.body, reply.headers, delay_s=0.05)


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[Store]:
    """A store on a fresh PostgreSQL database."""
    opened = Store(postgres_url)
    yield opened
    opened.dispose()


def terminate_connections(database: str) -> int:
    """Cut every connection to `database` but this one; return how many were cut."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def pending(store: Store) -> int:
    """Outbox rows not delivered yet."""
    with store.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE status <> 'delivered'").scalar_one())


def start_workers(url: str, logs: Path) -> list[subprocess.Popen[bytes]]:
    """`recado worker` processes with short leases and quick retries."""
    env = {
        **os.environ,
        "RECADO_DATABASE_URL": url,
        "RECADO_PLUGINS": "webhook",
        "RECADO_DELIVERY__LEASE_S": "2",
        "RECADO_DELIVERY__POLL_S": "0.1",
        "RECADO_DELIVERY__SCHEDULE_S": "[" + ", ".join(["0"] + ["0.2"] * 50) + "]",
        "RECADO_DELIVERY__CLAIM_LIMIT": "10",
    }
    recado = str(Path(sys.executable).parent / "recado")
    processes = []
    for number in range(WORKERS):
        log = (logs / f"worker{number}.log").open("wb")
        processes.append(
            subprocess.Popen([recado, "worker", "--id", f"w{number}"], env=env, stdout=log, stderr=subprocess.STDOUT)
        )
    return processes


def test_workers_survive_dropped_database_connections_and_deliver_every_record(
    pg_store: Store, make_hub: Any, hook_secret: str, tmp_path: Path
) -> None:
    with UnhurriedReceiver([hook_secret]) as receiver:
        hub = make_hub(pg_store).configure(receiver.url)
        hub.calls(CALLS)
        database = make_url(pg_store.url).database
        workers = start_workers(pg_store.url, tmp_path)
        try:
            cuts = 0
            # Cut while work remains; each cut hits whatever the workers were doing.
            for _ in range(4):
                while pending(pg_store) == CALLS and all(w.poll() is None for w in workers):
                    time.sleep(0.05)
                time.sleep(0.3)
                cuts += terminate_connections(str(database))
            deadline = time.monotonic() + 90
            while pending(pg_store) and time.monotonic() < deadline:
                time.sleep(0.2)
            exits = [worker.poll() for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
                worker.wait(30)
        logs = "\n".join(path.read_text(errors="replace")[-1500:] for path in sorted(tmp_path.glob("worker*.log")))
        assert cuts > 0
        assert exits == [None] * WORKERS, f"a worker exited when its connection was cut:\n{logs}"
        assert pending(pg_store) == 0, logs
        assert hub.statuses() == ["delivered"] * CALLS
        assert receiver.effects() == {str(row["record_id"]): 1 for row in hub.rows()}


def calls_file(path: Path, count: int) -> None:
    """`count` answered, wrapped-up calls of `acme`, as JSON lines."""
    lines = []
    for number in range(count):
        at = datetime(2026, 3, 2, 9, 30, tzinfo=LISBON) + timedelta(minutes=number)
        call = {"type": "call", "call_id": f"k{number}"}
        lines += [
            {**call, "kind": "offered", "at": at.isoformat(), "did": "+351217000001", "caller": "+351912345678"},
            {**call, "kind": "answered", "at": (at + timedelta(seconds=4)).isoformat(), "agent": "ana"},
            {**call, "kind": "ended", "at": (at + timedelta(seconds=40)).isoformat()},
            {"type": "wrapup", "call_id": f"k{number}", "agent": "ana", "answers": {"name": "Rui"}},
        ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def counts(store: Store) -> tuple[int, int]:
    """(records, call debits) in the database."""
    with store.connect() as conn:
        records = conn.exec_driver_sql("SELECT count(*) FROM records").scalar_one()
        debits = conn.exec_driver_sql("SELECT count(*) FROM ledger WHERE kind = 'call'").scalar_one()
    return int(records), int(debits)


def answered(store: Store) -> int:
    """Records of answered calls."""
    with store.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM records WHERE disposition = 'answered'").scalar_one())


def test_an_ingest_whose_connections_are_cut_carries_on_and_makes_every_record_and_debit_once(
    pg_store: Store, make_hub: Any, hook_secret: str, tmp_path: Path
) -> None:
    make_hub(pg_store).configure("http://127.0.0.1:9/hooks")
    calls_file(tmp_path / "calls.jsonl", CALLS)
    database = str(make_url(pg_store.url).database)
    env = {**os.environ, "RECADO_DATABASE_URL": pg_store.url, "RECADO_PLUGINS": "webhook"}
    command = [str(Path(sys.executable).parent / "recado"), "ingest", str(tmp_path / "calls.jsonl"), "--json"]
    exits = []
    for _ in range(5):
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cuts = 0
        while process.poll() is None and not exits and cuts < 3:
            if counts(pg_store)[0] > 5 * (cuts + 1):
                cuts += terminate_connections(database) > 0
            time.sleep(0.05)
        process.communicate(timeout=300)
        exits.append(process.returncode)
        if process.returncode == 0:
            break
    assert exits == [0]  # the engine rides out the cuts by itself
    assert counts(pg_store) == (CALLS, CALLS)


def _cluster() -> list[str] | None:
    """The `pg_ctlcluster VERSION main` command of the local PostgreSQL, when this process may use it."""
    versions = sorted(Path("/etc/postgresql").glob("*/main")) if Path("/etc/postgresql").is_dir() else []
    if os.geteuid() != 0 or not versions or not shutil.which("pg_ctlcluster"):
        return None
    host = psycopg.conninfo.conninfo_to_dict(PG_ADMIN).get("host", "127.0.0.1")
    if host not in ("127.0.0.1", "localhost", "::1"):
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].parent.name, "main"]


def test_a_database_restart_under_load_loses_nothing(
    pg_store: Store, make_hub: Any, hook_secret: str, tmp_path: Path
) -> None:
    cluster = _cluster()
    if cluster is None:
        pytest.skip("restarting PostgreSQL needs root and the local cluster's pg_ctlcluster")
    with UnhurriedReceiver([hook_secret]) as receiver:
        hub = make_hub(pg_store).configure(receiver.url)
        calls_file(tmp_path / "calls.jsonl", RESTART_CALLS)
        env = {**os.environ, "RECADO_DATABASE_URL": pg_store.url, "RECADO_PLUGINS": "webhook"}
        command = [str(Path(sys.executable).parent / "recado"), "ingest", str(tmp_path / "calls.jsonl"), "--json"]
        workers = start_workers(pg_store.url, tmp_path)
        engine = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            while counts(pg_store)[0] < 10 and engine.poll() is None:
                time.sleep(0.05)
            subprocess.run([*cluster, "restart", "-m", "fast"], check=True, capture_output=True, timeout=120)
            _out, err = engine.communicate(timeout=300)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if counts(pg_store)[0] == RESTART_CALLS and pending(pg_store) == 0:
                        break
                except psycopg.Error:
                    pass
                time.sleep(0.2)
            exits = [worker.poll() for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
                worker.wait(30)
        assert engine.returncode == 0, err.decode(errors="replace")[-2000:]
        assert exits == [None] * WORKERS
        records, debits = counts(pg_store)
        assert records == RESTART_CALLS
        assert debits == answered(pg_store)  # one debit per answered call, none twice (the balance runs out)
        assert set(hub.statuses()) == {"delivered"}  # the records, and the interruption notice
        effects = receiver.effects()
        record_ids = [str(row["record_id"]) for row in hub.rows() if row["kind"] == "record"]
        assert len(record_ids) == RESTART_CALLS
        assert all(effects.get(record_id) == 1 for record_id in record_ids)
