"""A full run leaks no secret and no caller's number: not in logs, errors, `--json` output, nor the raw database.

The run is real: `recado clients apply` with secrets read from the environment,
`recado ingest`, `recado worker` delivering to a webhook receiver that even
echoes the secret back in an error, then every `--json` view an operator uses.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from recado_webhook.signing import new_secret
from recado_webhook.testing import Reply, WebhookReceiver

from hub.core import directory
from hub.core.engine import Engine
from hub.core.ingest import ingest
from hub.core.store import Store
from hub.core.worker import Worker
from hub.plugins import Plugins
from hub.settings import DeliverySettings, Settings

LISBON = ZoneInfo("Europe/Lisbon")
CALLERS = ["+351912345678", "+351936543210", "+447700900123", "+351221234567"]


def clients_file(url: str) -> str:
    """`acme`, whose webhook is signed with a new and an old secret, both from the environment."""
    return f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    script:
      version: 1
      fields: [{{name: name, label: {{pt: Nome, en: Name}}, type: text}}]
    destinations:
      - id: hook
        kind: webhook
        settings:
          url: "{url}"
          secret: {{"$env": "ACME_HOOK_SECRET"}}
          secrets: [{{"$env": "ACME_HOOK_SECRET_OLD"}}]
          timeout: 5
"""


def calls_file() -> str:
    """One answered, wrapped-up call per caller, and one missed call."""
    lines = []
    start = datetime(2026, 3, 2, 10, 0, tzinfo=LISBON)
    for number, caller in enumerate(CALLERS):
        at = start + timedelta(minutes=10 * number)
        call = {"type": "call", "call_id": f"c{number}"}
        lines.append({**call, "kind": "offered", "at": at.isoformat(), "did": "+351217000001", "caller": caller})
        lines.append({**call, "kind": "answered", "at": (at + timedelta(seconds=5)).isoformat(), "agent": "ana"})
        lines.append({**call, "kind": "ended", "at": (at + timedelta(seconds=90)).isoformat()})
        lines.append(
            {"type": "wrapup", "call_id": f"c{number}", "agent": "ana", "answers": {"name": f"Pessoa {number}"}}
        )
    missed = start + timedelta(hours=2)
    lines.append(
        {
            "type": "call",
            "call_id": "m1",
            "kind": "offered",
            "at": missed.isoformat(),
            "did": "+351217000001",
            "caller": "+351969999999",
        }
    )
    lines.append({"type": "call", "call_id": "m1", "kind": "ended", "at": (missed + timedelta(seconds=30)).isoformat()})
    return "".join(json.dumps(line) + "\n" for line in lines)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every secret of the run, as the operator sets them in the environment."""
    values = {"ACME_HOOK_SECRET": new_secret(), "ACME_HOOK_SECRET_OLD": new_secret()}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RECADO_WEBHOOK_ALLOW_PRIVATE", "true")
    values["RECADO_SECRET_KEY"] = os.environ["RECADO_SECRET_KEY"]
    return values


def forbidden(secrets: dict[str, str]) -> list[str]:
    """Each secret, and each webhook secret without its `whsec_` prefix (how receivers may echo it)."""
    found = list(secrets.values())
    found += [value.removeprefix("whsec_") for value in secrets.values() if value.startswith("whsec_")]
    return found


def national(number: str) -> str:
    """The digits that identify a caller, without the country code."""
    return number.removeprefix("+351").removeprefix("+44")


class EchoingReceiver(WebhookReceiver):
    """Answers the first request with a 503 whose body quotes the signing secret back."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(secrets)
        self.plan(Reply(503, f"cannot verify with secret {secrets[0]}".encode()))


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One `recado` command; its stdout and stderr are what the test inspects."""
    recado = str(Path(sys.executable).parent / "recado")
    return subprocess.run([recado, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_no_secret_and_no_callers_number_appear_in_a_full_run_of_the_commands(
    secrets: dict[str, str], tmp_path: Path
) -> None:
    with EchoingReceiver([secrets["ACME_HOOK_SECRET"]]) as receiver:
        (tmp_path / "clients.yaml").write_text(clients_file(receiver.url), encoding="utf-8")
        (tmp_path / "calls.jsonl").write_text(calls_file(), encoding="utf-8")
        env = {
            **os.environ,
            "RECADO_DATABASE_URL": f"sqlite:///{tmp_path / 'recado.db'}",
            "RECADO_DELIVERY__SCHEDULE_S": "[0, 0, 0]",
        }
        steps = [
            ("-v", "clients", "apply", "clients.yaml", "--json"),
            ("-v", "accounts", "buy", "acme", "--plan", "12m", "--at", "2026-03-01T08:00:00"),
            ("-v", "ingest", "calls.jsonl", "--json"),
            ("-v", "worker", "--once", "--json"),
            ("-v", "worker", "--once", "--json"),
            ("-v", "check", "--json"),
            ("clients", "show", "acme", "--json"),
            ("accounts", "statement", "acme", "--json"),
            ("deliveries", "list", "--json"),
            ("alerts", "--json"),
        ]
        results = [run(env, tmp_path, *step) for step in steps]
        delivered = receiver.effects()
    failed = [
        (step, result.stderr) for step, result in zip(steps, results, strict=True) if result.returncode not in (0, 1)
    ]
    assert failed == []
    assert len(delivered) == len(CALLERS) + 1
    output = "\n".join(result.stdout + result.stderr for result in results)
    logs = "\n".join(result.stderr for result in results)
    assert "INFO" in logs  # the run was verbose: there were logs to search
    assert [secret for secret in forbidden(secrets) if secret in output] == []
    assert [number for number in CALLERS if national(number) in logs] == []
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("recado.db*"))
    assert b"[redacted]" in raw  # the receiver's echo was kept, without the secret
    assert [secret for secret in forbidden(secrets) if secret.encode() in raw] == []


def test_secrets_are_encrypted_in_the_raw_database_file(secrets: dict[str, str], tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    try:
        plugins = Plugins(only={"webhook"})
        directory.apply_file(store, plugins.registry, tmp_path / "c.yaml", text=clients_file("http://127.0.0.1:9/h"))
    finally:
        store.dispose()
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("recado.db*"))
    assert b"127.0.0.1:9" in raw  # the settings are in the file: only the secrets are hidden
    assert [secret for secret in forbidden(secrets) if secret.encode() in raw] == []


async def test_logs_of_the_engine_and_worker_carry_no_secret_and_no_callers_number(
    secrets: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with EchoingReceiver([secrets["ACME_HOOK_SECRET"]]) as receiver:
        store = Store(f"sqlite:///{tmp_path / 'recado.db'}")
        try:
            plugins = Plugins(only={"webhook"})
            directory.apply_file(store, plugins.registry, tmp_path / "c.yaml", text=clients_file(receiver.url))
            from hub.core import accounts
            from hub.core.tariff import TariffConfig, document_for_plan

            accounts.purchase(
                store,
                plugins.registry,
                "acme",
                document_for_plan("12m"),
                datetime(2026, 3, 1, 8, 0, tzinfo=LISBON),
                TariffConfig(),
            )
            settings = Settings(database_url=store.url, delivery=DeliverySettings(schedule_s=[0, 0, 0]))
            report = ingest(Engine(store, plugins.registry, settings), calls_file().splitlines(keepends=True))
            worker = Worker(store, plugins.registry, settings, worker_id="w1")
            await worker.run_once()
            await worker.run_once()
            await worker.aclose()
        finally:
            store.dispose()
        delivered = receiver.effects()
    assert report.errors == []
    assert len(delivered) == len(CALLERS) + 1
    text = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    assert caplog.records  # there were logs to search
    assert [secret for secret in forbidden(secrets) if secret in text] == []
    assert [number for number in CALLERS if national(number) in text] == []


def test_a_destination_error_names_the_setting_without_showing_the_secret(
    secrets: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_HOOK_SECRET", "whsec_not-base64-" + secrets["ACME_HOOK_SECRET_OLD"][6:20])
    env = {**os.environ, "RECADO_DATABASE_URL": f"sqlite:///{tmp_path / 'recado.db'}"}
    (tmp_path / "clients.yaml").write_text(clients_file("http://127.0.0.1:9/h"), encoding="utf-8")
    result = run(env, tmp_path, "clients", "apply", "clients.yaml", "--json")
    assert result.returncode == 2
    assert "secret" in result.stderr
    assert os.environ["ACME_HOOK_SECRET"] not in result.stdout + result.stderr
    assert secrets["ACME_HOOK_SECRET_OLD"][6:20] not in result.stdout + result.stderr
