"""`recado privacy …` as the operator runs it: a real process on its own SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from recado_cli import Result, operator_env, recado

CALLER = "+351912345678"
SECRET = "relay-pass-Qm4"

CLIENTS = """\
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    retention_months: 3
    script:
      version: 1
      fields: [{name: name, label: {pt: Nome}, type: text}]
    destinations:
      - {id: mail, kind: email, settings: {to: ["rececao@acme.example"], maildir: "maildir"}}
      - id: relay
        kind: email
        enabled: false
        settings:
          to: ["gerencia@acme.example"]
          smtp: {host: 127.0.0.1, port: 9, security: plain, username: acme, password: {"$env": "ACME_RELAY_PASSWORD"}}
"""


def call(call_id: str, day: str, caller: str = CALLER, name: str = "Maria Simões") -> str:
    """The events of one answered call on `day` at 10:00 UTC, wrapped up with the caller's name."""
    lines = [
        {
            "type": "call",
            "call_id": call_id,
            "kind": "offered",
            "at": f"{day}T10:00:00Z",
            "did": "+351217000001",
            "caller": caller,
        },
        {"type": "call", "call_id": call_id, "kind": "answered", "at": f"{day}T10:00:04Z", "agent": "ana"},
        {"type": "call", "call_id": call_id, "kind": "ended", "at": f"{day}T10:03:04Z"},
        {"type": "wrapup", "call_id": call_id, "agent": "ana", "answers": {"name": name}},
    ]
    return "".join(json.dumps(line) + "\n" for line in lines)


@dataclass
class Cli:
    """`recado` run in `cwd` against `cwd/x.db`."""

    cwd: Path

    def __call__(self, *args: str, stdin: str | None = None, **env: str) -> Result:
        """Run `recado --db … ARGS`."""
        environment = operator_env(RECADO_PLUGINS="email", ACME_RELAY_PASSWORD=SECRET, **env)
        return recado(*args, db=f"sqlite:///{self.cwd / 'x.db'}", cwd=self.cwd, env=environment, stdin=stdin)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of a query on the database, read directly."""
        with sqlite3.connect(self.cwd / "x.db") as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """acme (3 months) with a contract, a call in March and one in June from the caller, one from another."""
    work = tmp_path_factory.mktemp("privacy")
    (work / "clients.yaml").write_text(CLIENTS, encoding="utf-8")
    cli = Cli(work)
    for args in (
        ("clients", "apply", "clients.yaml"),
        ("accounts", "buy", "acme", "--plan", "12m", "--at", "2026-03-01T08:00:00Z"),
    ):
        assert cli(*args).code == 0
    events = call("m1", "2026-03-02") + call("j1", "2026-06-02") + call("o1", "2026-06-03", "+351913000111", "Rui")
    assert cli("ingest", "-", stdin=events).code == 0
    assert cli("worker", "--once").code == 0
    return work


@pytest.fixture
def cli(template: Path, tmp_path: Path) -> Cli:
    """A copy of the template to change freely."""
    work = tmp_path / "work"
    shutil.copytree(template, work)
    return Cli(work)


def test_the_privacy_commands_have_help(cli: Cli) -> None:
    out = cli("privacy", "--help").out
    for command in ("purge", "export", "erase", "log"):
        assert command in out


def test_a_dry_run_purge_counts_and_changes_nothing(cli: Cli) -> None:
    report = cli("privacy", "purge", "--dry-run", "--at", "2026-07-15T12:00", "--json").json()
    assert (report["dry_run"], report["records"], report["deliveries"]) == (True, 1, 1)
    assert cli.rows("SELECT count(*) FROM records") == [(3,)]


def test_a_purge_removes_the_old_record_and_logs_it(cli: Cli) -> None:
    report = cli("privacy", "purge", "--at", "2026-07-15T12:00", "--json").json()
    assert report["clients"][0] | {"cutoff": None} == {
        "client": "acme",
        "retention_months": 3,
        "cutoff": None,
        "records": 1,
        "deliveries": 1,
        "attempts": 1,
        "calls": 1,
        "contacts": 0,
        "kept_pending": 0,
    }
    assert cli.rows("SELECT count(*) FROM records") == [(2,)]
    (entry,) = cli("privacy", "log", "--json").json()
    assert (entry["action"], entry["subject"], entry["details"]["records"]) == ("purge", "acme", 1)
    assert entry["actor"].startswith("cli")


def test_the_purge_prints_a_table_per_client(cli: Cli) -> None:
    result = cli("privacy", "purge", "--at", "2026-07-15T12:00")
    assert result.code == 0
    assert "acme" in result.out and "3 months" in result.out and "2026-04-01" in result.out


def test_an_unknown_client_is_bad_input(cli: Cli) -> None:
    result = cli("privacy", "purge", "--client", "nobody")
    assert result.code == 2
    assert "nobody" in result.err


def test_the_daily_job_purges_with_the_hub_default(cli: Cli) -> None:
    runs = cli("tick", "--job", "privacy.retention", "--at", "2026-07-15T12:00", "--json").json()
    assert runs == [{"job": "privacy.retention", "done": 1, "error": None}]


def test_the_hub_default_applies_to_a_client_without_its_own_period(cli: Cli) -> None:
    (cli.cwd / "clients.yaml").write_text(CLIENTS.replace("    retention_months: 3\n", ""), encoding="utf-8")
    assert cli("clients", "apply", "clients.yaml").code == 0
    at = ("--at", "2026-08-15T12:00", "--json")
    assert cli("privacy", "purge", "--dry-run", *at).json()["records"] == 0
    report = cli("privacy", "purge", "--dry-run", *at, RECADO_PRIVACY__DEFAULT_RETENTION_MONTHS="1").json()
    assert report["records"] == 3


def test_a_bad_hub_default_is_bad_input(cli: Cli) -> None:
    result = cli("privacy", "purge", "--dry-run", RECADO_PRIVACY__DEFAULT_RETENTION_MONTHS="0")
    assert result.code == 2
    assert "privacy.default_retention_months" in result.err


def test_a_client_export_is_written_private_and_logged(cli: Cli) -> None:
    result = cli("privacy", "export", "--client", "acme", "--out", "acme.json")
    assert result.code == 0, result.err
    path = cli.cwd / "acme.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "recado.export.client/1"
    assert len(document["records"]) == 3
    assert SECRET not in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (entry,) = cli("privacy", "log", "--action", "export", "--json").json()
    assert (entry["subject"], entry["details"]["counts"]["records"]) == ("acme", 3)
    assert not [name for name in os.listdir(cli.cwd) if name.endswith(".part")]


def test_a_number_export_goes_to_standard_output(cli: Cli) -> None:
    document = cli("privacy", "export", "--number", "912 345 678").json()
    assert document["number"] == CALLER
    assert len(document["records"]) == 2
    (entry,) = cli("privacy", "log", "--json").json()
    assert entry["subject"] == "number +3519******78"


def test_an_export_needs_a_client_or_a_number(cli: Cli) -> None:
    assert cli("privacy", "export").code == 2
    assert cli("privacy", "export", "--client", "acme", "--number", CALLER).code == 2


def test_an_existing_file_is_not_replaced_without_force(cli: Cli) -> None:
    (cli.cwd / "acme.json").write_text("keep me", encoding="utf-8")
    result = cli("privacy", "export", "--client", "acme", "--out", "acme.json")
    assert result.code == 2 and "--force" in result.err
    assert (cli.cwd / "acme.json").read_text(encoding="utf-8") == "keep me"
    assert cli("privacy", "export", "--client", "acme", "--out", "acme.json", "--force").code == 0


def test_an_erasure_reports_and_logs_and_leaves_no_number(cli: Cli) -> None:
    report = cli("privacy", "erase", CALLER, "--requested-by", "RGPD-7", "--reason", "art. 17", "--json").json()
    assert (report["records"], report["clients"]) == (2, ["acme"])
    assert [item["destination"] for item in report["destinations"]] == ["mail"]
    with sqlite3.connect(cli.cwd / "x.db") as conn:
        dump = "\n".join(conn.iterdump())
    assert CALLER not in dump and "912345678" not in dump
    (entry,) = cli("privacy", "log", "--json").json()
    assert (entry["action"], entry["details"]["requested_by"]) == ("erase", "RGPD-7")


def test_an_erasure_prints_where_copies_went(cli: Cli) -> None:
    result = cli("privacy", "erase", CALLER, "--requested-by", "RGPD-7", "--reason", "art. 17")
    assert result.code == 0, result.err
    assert "ask these to erase their copies" in result.out
    assert "mail" in result.out


def test_a_dry_run_erasure_changes_nothing(cli: Cli) -> None:
    report = cli("privacy", "erase", CALLER, "--requested-by", "R", "--reason", "x", "--dry-run", "--json").json()
    assert report["records"] == 2
    assert cli.rows(f"SELECT count(*) FROM records WHERE data LIKE '%{CALLER}%'") == [(2,)]
    assert cli("privacy", "log", "--json").json() == []


def test_erasing_text_that_is_no_number_is_bad_input(cli: Cli) -> None:
    result = cli("privacy", "erase", "Maria", "--requested-by", "R", "--reason", "x")
    assert result.code == 2
    assert "NUMBER" in result.err


def test_an_unknown_log_action_is_bad_input(cli: Cli) -> None:
    assert cli("privacy", "log", "--action", "delete").code == 2
