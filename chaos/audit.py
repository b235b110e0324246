"""After the drain: what the hub kept, charged and delivered, against the oracle.

Everything is read the way an operator would: ``recado records list --json``,
``recado accounts statement CLIENT --json`` and ``recado deliveries list --json``,
plus the receiver's own SQLite file for what arrived at the client's side.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from chaos.calls import Oracle

CREATED = "call.record.created"


def webhook_id(record_id: str, event_type: str = CREATED) -> str:
    """The ``webhook-id`` a record must travel under (sha256 of id and type, as documented)."""
    return "msg_" + hashlib.sha256(f"{record_id}\x00{event_type}".encode()).hexdigest()[:32]


def recado_json(recado: list[str], args: list[str], env: dict[str, str], cwd: Path) -> Any:
    """Run one `recado … --json` command and parse its output."""
    done = subprocess.run([*recado, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"recado {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def audit(
    oracle: Oracle,
    purchases: dict[str, int],
    recado: list[str],
    env: dict[str, str],
    cwd: Path,
    receiver_db: Path,
) -> dict[str, Any]:
    """Counts of every way the run could have gone wrong (all zero when it went right)."""
    records = recado_json(recado, ["records", "list", "--json"], env, cwd)
    ids = Counter(record["record_id"] for record in records)
    expected = oracle.expected
    lost = sorted(set(expected) - set(ids))
    wrong_disposition = [
        r["record_id"]
        for r in records
        if r["record_id"] in expected and r["disposition"] != expected[r["record_id"]].expected
    ]
    answered = {rid for rid, call in expected.items() if call.expected == "answered"}

    debit_refs: Counter[str] = Counter()
    statement_mismatch = []
    balance_mismatch = []
    statement_total = 0
    for client in sorted(purchases):
        entries = recado_json(recado, ["accounts", "statement", client, "--json"], env, cwd)
        calls = [entry for entry in entries if entry["kind"] == "call"]
        debit_refs.update(entry["ref"] for entry in calls)
        charged = -sum(entry["amount_cents"] for entry in calls)
        statement_total += charged
        if charged != oracle.debits_by_client.get(client, 0):
            statement_mismatch.append(
                {"client": client, "charged": charged, "oracle": oracle.debits_by_client.get(client, 0)}
            )
        last = entries[-1]["balance_after_cents"] if entries else 0
        if last != purchases[client] - charged or sum(e["amount_cents"] for e in entries) != last:
            balance_mismatch.append(client)

    deliveries = recado_json(recado, ["deliveries", "list", "--json"], env, cwd)
    statuses = Counter(row["status"] for row in deliveries)
    outbox_per_record = Counter(row["record_id"] for row in deliveries if row["event_type"] == CREATED)

    with sqlite3.connect(receiver_db) as conn:
        effects = conn.execute("SELECT msg_id, record_id FROM effects WHERE event_type = ?", (CREATED,)).fetchall()
        requests = conn.execute("SELECT count(*) FROM requests WHERE event_type = ?", (CREATED,)).fetchone()[0]
        other = conn.execute("SELECT count(*) FROM effects WHERE event_type != ?", (CREATED,)).fetchone()[0]
    effects_per_record = Counter(record_id for _, record_id in effects)
    wrong_ids = [rid for msg_id, rid in effects if msg_id != webhook_id(rid)]
    return {
        "calls": len(expected),
        "records": len(records),
        "lost": len(lost),
        "lost_examples": lost[:5],
        "duplicate_records": sum(1 for count in ids.values() if count > 1),
        "unexpected_records": len(set(ids) - set(expected)),
        "wrong_disposition": len(wrong_disposition),
        "incomplete": sum(1 for r in records if r.get("incomplete")),
        "answered": len(answered),
        "debits": sum(debit_refs.values()),
        "double_debits": sum(1 for count in debit_refs.values() if count > 1),
        "missing_debits": len(answered - set(debit_refs)),
        "debits_not_answered": len(set(debit_refs) - answered),
        "statement_total_cents": statement_total,
        "oracle_total_cents": sum(oracle.debits_by_client.values()),
        "statement_mismatch": statement_mismatch,
        "balance_mismatch": balance_mismatch,
        "outbox": dict(statuses),
        "outbox_rows_not_one_per_record": sum(1 for rid in expected if outbox_per_record.get(rid, 0) != 1),
        "delivered_records": len(effects_per_record),
        "undelivered": sum(1 for rid in ids if rid in expected and effects_per_record.get(rid, 0) == 0),
        "duplicate_effects": sum(1 for count in effects_per_record.values() if count > 1) + len(wrong_ids),
        "other_events": other,
        "webhook_requests": requests,
        "redeliveries_absorbed": requests - len(effects),
    }


FAILURE_KEYS = (
    "lost",
    "duplicate_records",
    "unexpected_records",
    "wrong_disposition",
    "incomplete",
    "double_debits",
    "missing_debits",
    "debits_not_answered",
    "outbox_rows_not_one_per_record",
    "undelivered",
    "duplicate_effects",
)


def failures(report: dict[str, Any]) -> list[str]:
    """What went wrong, one line each (empty when every promise was kept)."""
    found = [f"{key}: {report[key]}" for key in FAILURE_KEYS if report[key]]
    if report["statement_mismatch"]:
        found.append(f"statements differ from the oracle: {report['statement_mismatch'][:3]}")
    if report["balance_mismatch"]:
        found.append(f"balances do not add up: {report['balance_mismatch']}")
    if report["statement_total_cents"] != report["oracle_total_cents"]:
        found.append("charged total differs from the oracle")
    pending = {k: v for k, v in report["outbox"].items() if k != "delivered" and v}
    if pending:
        found.append(f"outbox not drained: {pending}")
    return found
