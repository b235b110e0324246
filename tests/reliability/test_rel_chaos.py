"""The crash test at a size that fits a test run: processes killed with SIGKILL, nothing lost or charged twice.

`chaos/run.py` starts the engine, the workers and a webhook receiver as
separate processes, kills them at random and restarts them, then audits the
result against an oracle computed from the generated calls. `make chaos`
runs it at full size (10,000 calls, at least 20 kills).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

RUN = Path(__file__).resolve().parents[2] / "chaos" / "run.py"
PG_ADMIN = os.environ.get("RECADO_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def postgres_missing() -> str | None:
    """Why PostgreSQL cannot be used here, or None."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable ({PG_ADMIN}): {str(exc).strip().splitlines()[0]}"


POSTGRES_MISSING = postgres_missing()


def crash_test(*args: str) -> dict[str, Any]:
    """Run the crash test and return its report."""
    done = subprocess.run(
        [sys.executable, str(RUN), "--json", *args], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.stdout.strip(), f"no report; stderr:\n{done.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_MISSING is not None, reason=POSTGRES_MISSING or "")
def test_killing_engine_workers_and_receiver_on_postgres_loses_nothing_and_charges_once() -> None:
    report = crash_test("--calls", "600", "--clients", "2", "--kills", "8", "--workers", "3")
    assert report["failures"] == []
    assert report["kills"] >= 8
    assert (report["lost"], report["double_debits"], report["duplicate_effects"]) == (0, 0, 0)
    assert report["records"] == report["calls"] == report["delivered_records"]
    assert report["statement_total_cents"] == report["oracle_total_cents"]


def test_killing_the_engine_and_the_worker_on_sqlite_loses_nothing_and_charges_once() -> None:
    report = crash_test("--database", "sqlite", "--calls", "200", "--clients", "2", "--kills", "3")
    assert report["failures"] == []
    assert report["kills"] >= 3
    assert (report["lost"], report["double_debits"], report["duplicate_effects"]) == (0, 0, 0)
    assert report["records"] == report["calls"] == report["delivered_records"]
    assert report["statement_total_cents"] == report["oracle_total_cents"]
