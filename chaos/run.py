"""The crash test: calls flow through real processes that are killed at random, then an audit.

A real PostgreSQL database (a fresh one, dropped at the end), a webhook receiver
process that commits every delivery to SQLite before answering, the engine
(``recado ingest`` of a generated JSON-lines file, restarted on the same file
when killed) and several ``recado worker`` processes. Processes are killed
with SIGKILL at random moments and restarted. After the drain, the audit
checks that every call has exactly one record, every answered record exactly
one debit (statements equal an oracle computed from the calls alone), and
every record was delivered, exactly once in effect by ``webhook-id``.

Usage:
    python chaos/run.py                      # 10,000 calls, 3 workers, at least 20 kills
    python chaos/run.py --calls 600 --kills 8
    python chaos/run.py --database sqlite    # the embedded store, engine + one worker
Exit code 0 when every promise was kept, 1 otherwise; ``--json`` prints the report as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, create_engine, text

from chaos.audit import audit, failures
from chaos.calls import LISBON, Oracle, clients_yaml, generate, write_jsonl
from chaos.procs import Child
from hub.core.store import normalize_url

PG_ADMIN = os.environ.get("RECADO_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
HERE = Path(__file__).resolve().parent
#: Delivery policy of the workers: short leases so that a killed worker's rows come back fast,
#: and a schedule of attempts long enough that a receiver killed for a while never turns a record into a dead letter.
WORKER_ENV = {
    "RECADO_DELIVERY__LEASE_S": "4",
    "RECADO_DELIVERY__POLL_S": "0.2",
    "RECADO_DELIVERY__SCHEDULE_S": json.dumps([0] + [0.2] * 5 + [1] * 600),
    "RECADO_DELIVERY__CLAIM_LIMIT": "50",
}


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards (even when killed connections linger)."""
    import psycopg

    name = f"recado_chaos_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # Processes of the hub are killed, never the database server: commits need not wait
        # for the disk to survive that, and the run goes several times faster.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    params = psycopg.conninfo.conninfo_to_dict(PG_ADMIN)
    host, port, user = params.get("host", "127.0.0.1"), params.get("port", "5432"), params.get("user", "postgres")
    try:
        yield f"postgresql+psycopg://{user}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def recado_command() -> list[str]:
    """How to run `recado` from this interpreter's environment."""
    script = Path(sys.executable).parent / "recado"
    if script.exists():
        return [str(script)]
    found = shutil.which("recado")
    if found is None:
        raise SystemExit("the `recado` command is not installed in this environment")
    return [found]


def prepare(url: str, workdir: Path, oracle: Oracle, n_clients: int, hook_url: str) -> dict[str, int]:
    """Apply the clients and buy each enough balance for its calls; return the credit per client."""
    from hub.core import accounts, directory
    from hub.core.store import Store
    from hub.core.tariff import TariffConfig, document_for_plan, document_for_topup
    from hub.plugins import Plugins

    plugins = Plugins(only={"webhook"})
    store = Store(url)
    try:
        path = workdir / "clients.yaml"
        path.write_text(clients_yaml(n_clients, hook_url, "CHAOS_HOOK_SECRET"), encoding="utf-8")
        directory.apply_file(store, plugins.registry, path)
        credits: dict[str, int] = {}
        at = datetime(2026, 3, 1, 8, 0, tzinfo=LISBON)
        tariff = TariffConfig()
        for client in sorted(
            {call.client for call in oracle.expected.values()} | {f"c{i:02d}" for i in range(1, n_clients + 1)}
        ):
            plan = document_for_plan("12m", config=tariff)
            accounts.purchase(store, plugins.registry, client, plan, at, tariff)
            credit = plan.balance_change_cents
            # A margin covers the holds of calls that overlap.
            while credit < oracle.debits_by_client.get(client, 0) + 2000:
                topup = document_for_topup(50, config=tariff)
                accounts.purchase(store, plugins.registry, client, topup, at, tariff)
                credit += topup.balance_change_cents
            credits[client] = credit
        return credits
    finally:
        store.dispose()


def outbox_state(db: Engine) -> tuple[int, int]:
    """(records so far, outbox rows not delivered yet), read straight from the database."""
    with db.connect() as conn:
        records = conn.execute(text("SELECT count(*) FROM records")).scalar_one()
        pending = conn.execute(text("SELECT count(*) FROM outbox WHERE status != 'delivered'")).scalar_one()
    return int(records), int(pending)


class Chaos:
    """Runs the roles, kills and restarts them, and waits for the drain."""

    def __init__(self, children: list[Child], engine: Child, url: str, n_calls: int, kills: int, rng: random.Random):
        self.children = children
        self.engine = engine
        self.db = create_engine(normalize_url(url), pool_pre_ping=True)
        self.n_calls = n_calls
        self.kills_wanted = kills
        self.rng = rng
        self.kill_log: list[dict[str, Any]] = []
        self.started = time.monotonic()
        self.ingest_s = 0.0
        self.drain_s = 0.0

    def _supervise(self) -> None:
        """Notice exits: the engine finishing is the end of ingest; anything else is restarted."""
        for child in self.children:
            code = child.poll()
            if code is None or child.finished:
                continue
            if child is self.engine and code == 0:
                child.finished = True
                self.ingest_s = round(time.monotonic() - self.started, 1)
                continue
            child.note_crash(code)
            if len(child.crashes) > 10:
                raise RuntimeError(f"{child.name} keeps exiting on its own; see {child.crashes[-1][1]}")
            child.start()

    def _victim(self) -> Child:
        candidates = [child for child in self.children if not child.finished and child.alive()]
        # The engine is the most interesting victim while it runs: its replay must change nothing.
        weights = [
            3.0 if child is self.engine else 2.0 if child.name.startswith("worker") else 1.0 for child in candidates
        ]
        return self.rng.choices(candidates, weights)[0]

    def _first_engine_kill(self) -> Child | None:
        """The engine, as soon as it has made records, if it was not killed yet: every run kills it mid-ingest."""
        if self.engine.kills or self.engine.finished or not self.engine.alive():
            return None
        records, _ = outbox_state(self.db)
        return self.engine if records else None

    def _interval(self) -> float:
        records, pending = outbox_state(self.db)
        elapsed = max(time.monotonic() - self.started, 1.0)
        rate = max(records / elapsed, 5.0)
        left = (self.n_calls - records) / rate + pending / max(rate, 20.0)
        kills_left = max(self.kills_wanted - len(self.kill_log), 1)
        return max(0.3, left / (kills_left + 1)) * self.rng.uniform(0.4, 1.6)

    def run(self, timeout_s: float) -> None:
        """Start everything, kill until enough kills happened and ingest is over."""
        for child in self.children:
            child.start()
        next_kill = time.monotonic() + self._interval()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._supervise()
            if self.engine.finished and len(self.kill_log) >= self.kills_wanted:
                return
            first = self._first_engine_kill() if self.kills_wanted else None
            if first is not None or (time.monotonic() >= next_kill and len(self.kill_log) < self.kills_wanted):
                victim = first or self._victim()
                victim.kill()
                self.kill_log.append({"at_s": round(time.monotonic() - self.started, 2), "process": victim.name})
                time.sleep(self.rng.uniform(0.0, 0.5))
                victim.start()
                next_kill = time.monotonic() + self._interval()
            time.sleep(0.05)
        raise TimeoutError(f"ingest did not finish within {timeout_s:.0f} s")

    def drain(self, timeout_s: float) -> None:
        """Wait until every outbox row is delivered (workers keep being supervised)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._supervise()
            _, pending = outbox_state(self.db)
            if pending == 0:
                self.drain_s = round(time.monotonic() - self.started, 1)
                return
            time.sleep(0.5)
        raise TimeoutError(f"the outbox did not drain within {timeout_s:.0f} s")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One crash test; the audit report."""
    from cryptography.fernet import Fernet
    from recado_webhook.signing import new_secret

    rng = random.Random(args.seed)
    calls = generate(args.calls, args.clients, args.seed)
    oracle = Oracle.of(calls)
    started = time.monotonic()
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="recado-chaos-"))
        if not args.keep:
            stack.callback(shutil.rmtree, workdir, True)
        logs = workdir / "logs"
        logs.mkdir()
        if args.database == "postgres":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{workdir / 'recado.db'}"
        port = free_port()
        env = {
            **os.environ,
            "RECADO_DATABASE_URL": url,
            "RECADO_SECRET_KEY": Fernet.generate_key().decode(),
            "RECADO_WEBHOOK_ALLOW_PRIVATE": "true",
            "RECADO_PLUGINS": "webhook",
            "CHAOS_HOOK_SECRET": new_secret(),
            **WORKER_ENV,
        }
        os.environ.update(
            {key: env[key] for key in ("RECADO_SECRET_KEY", "RECADO_WEBHOOK_ALLOW_PRIVATE", "CHAOS_HOOK_SECRET")}
        )
        credits = prepare(url, workdir, oracle, args.clients, f"http://127.0.0.1:{port}/hooks/recado")
        lines = write_jsonl(calls, workdir / "calls.jsonl")
        recado = recado_command()
        receiver_db = workdir / "receiver.db"
        receiver = Child(
            "receiver",
            [sys.executable, str(HERE / "receiver.py"), "--port", str(port), "--db", str(receiver_db)],
            env,
            workdir,
            logs,
        )
        engine = Child("engine", [*recado, "ingest", str(workdir / "calls.jsonl"), "--json"], env, workdir, logs)
        workers = [
            Child(f"worker{i}", [*recado, "worker", "--id", f"chaos-w{i}"], env, workdir, logs)
            for i in range(1, args.workers + 1)
        ]
        children = [receiver, engine, *workers]
        chaos = Chaos(children, engine, url, len(calls), args.kills, rng)
        try:
            chaos.run(args.timeout)
            chaos.drain(args.timeout)
        finally:
            for child in children:
                child.stop()
            chaos.db.dispose()
        report = audit(oracle, credits, recado, env, workdir, receiver_db)
        report.update(
            {
                "database": args.database,
                "workers": args.workers,
                "lines": lines,
                "kills": len(chaos.kill_log),
                "kills_by_process": {c.name: c.kills for c in children if c.kills},
                "engine_runs": engine.starts,
                "unexpected_exits": {c.name: c.crashes for c in children if c.crashes},
                "seconds": round(time.monotonic() - started, 1),
                "ingest_done_s": chaos.ingest_s,
                "drained_s": chaos.drain_s,
                "workdir": str(workdir) if args.keep else None,
            }
        )
        report["failures"] = failures(report)
        if report["unexpected_exits"]:
            report["failures"].append(f"processes exited on their own: {report['unexpected_exits']}")
        if report["kills"] < args.kills:
            report["failures"].append(f"only {report['kills']} kills of {args.kills}")
        return report


def print_report(report: dict[str, Any]) -> None:
    """The report for people."""
    print(
        f"crash test on {report['database']}: {report['calls']} calls, {report['lines']} lines, "
        f"{report['workers']} workers, {report['seconds']} s "
        f"(ingest done at {report['ingest_done_s']} s, drained at {report['drained_s']} s)"
    )
    print(f"  kills: {report['kills']} {report['kills_by_process']} (engine ran {report['engine_runs']} times)")
    print(
        f"  records: {report['records']}  lost {report['lost']}  duplicates {report['duplicate_records']}"
        f"  wrong disposition {report['wrong_disposition']}  incomplete {report['incomplete']}"
    )
    print(
        f"  debits: {report['debits']} for {report['answered']} answered  double debits {report['double_debits']}"
        f"  missing {report['missing_debits']}  charged {report['statement_total_cents']} cents"
        f" (oracle {report['oracle_total_cents']})"
    )
    print(
        f"  deliveries: outbox {report['outbox']}  records delivered {report['delivered_records']}"
        f"  undelivered {report['undelivered']}  duplicate effects {report['duplicate_effects']}"
        f"  redeliveries absorbed by webhook-id {report['redeliveries_absorbed']}"
    )
    print(
        "  RESULT: " + ("every promise kept" if not report["failures"] else "FAILED: " + "; ".join(report["failures"]))
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000, help="Calls to generate (default 10000).")
    parser.add_argument("--clients", type=int, default=10, help="Clients the calls are spread over.")
    parser.add_argument("--kills", type=int, default=None, help="SIGKILLs to deliver (default 20; 3 on SQLite).")
    parser.add_argument("--workers", type=int, default=None, help="Worker processes (default 3; 1 on SQLite).")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds for ingest, and again for the drain.")
    parser.add_argument("--keep", action="store_true", help="Keep the working directory (logs, files).")
    parser.add_argument("--json", action="store_true", help="Print the report as one JSON document.")
    args = parser.parse_args(argv)
    sqlite = args.database == "sqlite"
    args.kills = args.kills if args.kills is not None else (3 if sqlite else 20)
    args.workers = args.workers if args.workers is not None else (1 if sqlite else 3)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run, print, and exit 0 only when every promise was kept."""
    args = parse_args(argv)
    report = run(args)
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0 if not report["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
