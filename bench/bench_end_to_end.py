"""End-to-end durable throughput, as a ratio to raw HTTP POSTs of the same payloads in the same run.

End to end: calls are ingested (each record finalized in one transaction with
its ledger debit and outbox row, on PostgreSQL), and `recado worker`
processes deliver every record to a local webhook receiver that commits each
delivery to SQLite before answering 200. The clock stops when the last outbox
row is marked delivered. The baseline POSTs the very same record payloads,
signed the same way, to the same receiver with one keep-alive httpx client.
Both run side by side, so the ratio says what durability costs on this machine.

Usage: python bench/bench_end_to_end.py [CALLS]   (default 400; skipped without PostgreSQL)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from recado_webhook.signing import new_secret, secret_key, signature_header  # noqa: E402
from sqlalchemy import text  # noqa: E402

from chaos.calls import Oracle, generate, write_jsonl  # noqa: E402
from chaos.run import PG_ADMIN, free_port, postgres_database, prepare, recado_command  # noqa: E402

CLIENTS = 4


def pg_missing() -> str | None:
    """Why PostgreSQL cannot be used, or None."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def start_receiver(port: int, db: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The receiver process; returns once it accepts connections."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "chaos" / "receiver.py"), "--port", str(port), "--db", str(db)], env=env
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the receiver did not start")


def end_to_end(
    n_calls: int, workers: int, port: int, env: dict[str, str], workdir: Path
) -> tuple[float, list[dict[str, object]]]:
    """Seconds from the first ingested line to the last delivery; and the records, for the baseline."""
    from hub.core.engine import Engine
    from hub.core.ingest import ingest
    from hub.core.store import Store
    from hub.plugins import Plugins
    from hub.settings import Settings

    calls = generate(n_calls, CLIENTS, seed=workers)
    oracle = Oracle.of(calls)
    with postgres_database() as url:
        prepare(url, workdir, oracle, CLIENTS, f"http://127.0.0.1:{port}/hooks/recado")
        path = workdir / f"calls-{workers}.jsonl"
        write_jsonl(calls, path)
        child_env = {**env, "RECADO_DATABASE_URL": url}
        processes = [
            subprocess.Popen(
                [*recado_command(), "worker", "--id", f"bench-{i}"],
                env=child_env,
                cwd=workdir,
                stdout=subprocess.DEVNULL,
            )
            for i in range(workers)
        ]
        store = Store(url)
        try:
            time.sleep(3)  # let the workers start polling before the clock starts
            engine = Engine(store, Plugins(only={"webhook"}).registry, Settings(database_url=url))
            started = time.perf_counter()
            with path.open(encoding="utf-8") as lines:
                report = ingest(engine, lines)
            if report.errors:
                raise RuntimeError(f"ingest rejected lines: {report.errors[:3]}")
            while True:
                with store.connect() as conn:
                    left = conn.execute(text("SELECT count(*) FROM outbox WHERE status <> 'delivered'")).scalar_one()
                if left == 0:
                    break
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            with store.connect() as conn:
                records = [dict(row[0]) for row in conn.execute(text("SELECT data FROM records ORDER BY record_id"))]
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
            store.dispose()
    return elapsed, records


def raw_posts(records: list[dict[str, object]], port: int, secret: str, tag: str) -> float:
    """Seconds to POST each record's event, signed, one after the other on one keep-alive connection."""
    keys = [secret_key(secret)]
    url = f"http://127.0.0.1:{port}/hooks/recado"
    bodies = []
    for number, record in enumerate(records):
        body = json.dumps(
            {
                "type": "call.record.created",
                "schema": "record.v1",
                "timestamp": "2026-03-02T10:00:00.000Z",
                "data": record,
            }
        ).encode()
        bodies.append((f"msg_raw_{tag}_{number}", body))
    with httpx.Client(timeout=10) as client:
        started = time.perf_counter()
        for msg_id, body in bodies:
            stamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": signature_header(keys, msg_id, stamp, body),
            }
            client.post(url, content=body, headers=headers).raise_for_status()
        return time.perf_counter() - started


def main() -> None:
    """Run 1 and 3 workers, each beside its baseline, and print the ratios."""
    n_calls = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    missing = pg_missing()
    if missing:
        print(f"end-to-end bench skipped: PostgreSQL is not reachable ({missing})")
        return
    secret = new_secret()
    env = {
        **os.environ,
        "RECADO_SECRET_KEY": Fernet.generate_key().decode(),
        "RECADO_WEBHOOK_ALLOW_PRIVATE": "true",
        "RECADO_PLUGINS": "webhook",
        "CHAOS_HOOK_SECRET": secret,
        "RECADO_DELIVERY__POLL_S": "0.05",
    }
    os.environ.update({k: env[k] for k in ("RECADO_SECRET_KEY", "RECADO_WEBHOOK_ALLOW_PRIVATE", "CHAOS_HOOK_SECRET")})
    with tempfile.TemporaryDirectory(prefix="recado-bench-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        receiver = start_receiver(port, workdir / "receiver.db", env)
        try:
            print(
                f"end-to-end durable throughput on PostgreSQL, {n_calls} calls"
                " (ingest -> record + debit + outbox -> webhook 200)"
            )
            for workers in (1, 3):
                elapsed, records = end_to_end(n_calls, workers, port, env, workdir)
                raw = raw_posts(records, port, secret, f"w{workers}")
                e2e_rate = len(records) / elapsed
                raw_rate = len(records) / raw
                print(
                    f"  {workers} worker{'s' if workers > 1 else ' '}: {e2e_rate:8.1f} records/s end to end | "
                    f"raw httpx POST {raw_rate:8.1f}/s | ratio {e2e_rate / raw_rate:.3f}"
                )
        finally:
            receiver.terminate()
            receiver.wait(10)


if __name__ == "__main__":
    main()
