"""`recado campaigns …` and `recado optouts …`, run as the operator runs them: a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RECADO = str(Path(sys.executable).with_name("recado"))
PT = "Olá {{ name }}, lembramos a sua consulta na {{ client }} a {{ appointment_date }} às {{ appointment_time }}."
EN = "Hello {{ name }}, see you at {{ client }} on {{ appointment_date }} at {{ appointment_time }}."

CLIENTS = """\
clients:
  - id: clinica-sorriso
    name: "Clínica Sorriso"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    destinations:
      - id: sms
        kind: sms
        settings: {url: "http://127.0.0.1:9/v1/messages", token: {"$env": "SORRISO_SMS_TOKEN"}, sender_id: "Sorriso"}
"""

REMINDERS = """\
name;number;appointment;language;channel
Maria Silva;912 345 678;2026-03-12 10:30;pt;sms
John Smith;+351 936 000 111;2026-03-12 11:00;en;sms
Rui Costa;217 000 123;2026-03-13 09:15;pt;phone
"""

BAD = """\
name,number,appointment,language,channel
Maria Silva,912 345 678,2026-03-12 10:30,pt,sms
Rui Costa,+351 99,2026-03-13 09:15,pt,phone
,217000123,amanhã,fr,sms
"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


@dataclass
class Cli:
    cwd: Path

    def __call__(self, *args: str) -> Result:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECADO_")}
        env.update(RECADO_PLUGINS="sms,email", SORRISO_SMS_TOKEN="gw-token", COLUMNS="200")
        done = subprocess.run(
            [RECADO, "--db", f"sqlite:///{self.cwd / 'x.db'}", *args],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def funded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory whose database holds the client, under contract, and the contacts files."""
    work = tmp_path_factory.mktemp("campaigns")
    (work / "clients.yaml").write_text(CLIENTS, encoding="utf-8")
    (work / "reminders.csv").write_text(REMINDERS, encoding="utf-8")
    (work / "bad.csv").write_text(BAD, encoding="utf-8")
    cli = Cli(work)
    assert cli("clients", "apply", "clients.yaml").code == 0
    assert cli("accounts", "buy", "clinica-sorriso", "--plan", "12m", "--at", "2026-03-01T10:00:00Z").code == 0
    return work


@pytest.fixture
def cli(funded: Path, tmp_path: Path) -> Cli:
    work = tmp_path / "work"
    shutil.copytree(funded, work)
    return Cli(work)


def upload(cli: Cli, file: str = "reminders.csv", *extra: str) -> Result:
    return cli(
        "campaigns", "upload", "clinica-sorriso", file, "--template-pt", PT, "--template-en", EN,
        "--name", "Consultas de março", "--at", "2026-03-02T08:00", *extra,
    )  # fmt: skip


def test_a_bad_file_exits_2_listing_every_problem_and_stores_nothing(cli: Cli) -> None:
    result = upload(cli, "bad.csv")
    assert result.code == 2
    assert result.err.splitlines()[:5] == [
        "bad.csv: line 3, number: '+351 99' is not a Portuguese fixed or mobile number",
        "bad.csv: line 4, name: is empty: write the contact's name",
        "bad.csv: line 4, number: '217000123' is a fixed-line number and cannot receive SMS: "
        "expected a Portuguese mobile number (9x)",
        "bad.csv: line 4, appointment: 'amanhã' is not a date and time: expected a date and time, "
        "e.g. 2026-03-12 10:30 (Lisbon time) or 2026-03-12T10:30:00+00:00",
        "bad.csv: line 4, language: 'fr' is not a language (expected pt or en)",
    ]
    assert "5 problem(s); nothing was stored" in result.err
    assert cli("campaigns", "list", "--json").json() == []


def test_a_bad_file_with_json_prints_the_errors_as_json(cli: Cli) -> None:
    result = upload(cli, "bad.csv", "--json")
    assert result.code == 2
    errors = json.loads(result.out)["errors"]
    assert [(e["line"], e["column"]) for e in errors][:2] == [(3, "number"), (4, "name")]


def test_a_missing_file_is_a_clear_error(cli: Cli) -> None:
    result = upload(cli, "nowhere.csv")
    assert result.code == 2
    assert "nowhere.csv: cannot read it" in result.err


def test_an_upload_is_shown_listed_dispatched_and_cancelled(cli: Cli) -> None:
    campaign = upload(cli, "reminders.csv", "--json").json()
    assert (campaign["id"], campaign["contacts"], campaign["counts"]["pending"]) == (1, 3, 3)
    listed = cli("campaigns", "list", "--client", "clinica-sorriso", "--json").json()
    assert [c["name"] for c in listed] == ["Consultas de março"]
    sunday = cli("campaigns", "dispatch", "--at", "2026-03-08T11:00", "--json").json()
    assert sunday["sent"] == 0
    monday = cli("campaigns", "dispatch", "--at", "2026-03-09T10:00", "--json").json()
    assert monday == {"sent": 2, "waiting": 0, "opted_out": 0, "skipped": 0}
    shown = cli("campaigns", "show", "1", "--json").json()
    assert [(c["channel"], c["status"], c["price_cents"]) for c in shown["contact_list"]] == [
        ("sms", "sent", 100),
        ("sms", "sent", 100),
        ("phone", "pending", 0),
    ]
    table = cli("campaigns", "show", "1")
    assert "2 made, 1 to do" in table.out
    assert "+351912345678" not in table.out
    cancelled = cli("campaigns", "cancel", "1")
    assert cancelled.out.strip() == "campaign 1 cancelled: 1 contacts skipped"
    assert cli("campaigns", "show", "1", "--json").json()["counts"]["skipped"] == 1


def test_an_unknown_campaign_is_a_clear_error(cli: Cli) -> None:
    result = cli("campaigns", "show", "42")
    assert (result.code, result.err.strip()) == (2, "error: no campaign 42")


def test_an_unknown_client_is_a_clear_error(cli: Cli) -> None:
    result = cli("campaigns", "upload", "nobody", "reminders.csv", "--template-pt", PT)
    assert result.code == 2
    assert "no client 'nobody'" in result.err


def test_optouts_are_added_listed_and_removed(cli: Cli) -> None:
    upload(cli)
    added = cli("optouts", "add", "936 000 111", "--client", "clinica-sorriso", "--reason", "pediu por email")
    assert added.out.strip() == "+351936000111 opted out (clinica-sorriso)"
    entries = cli("optouts", "list", "--json").json()
    assert [(e["number"], e["client"], e["reason"]) for e in entries] == [
        ("+351936000111", "clinica-sorriso", "pediu por email")
    ]
    statuses = [c["status"] for c in cli("campaigns", "show", "1", "--json").json()["contact_list"]]
    assert statuses == ["pending", "opted_out", "pending"]
    assert cli("optouts", "remove", "+351936000111").code == 0
    assert cli("optouts", "list", "--json").json() == []


def test_a_bad_number_or_client_for_an_optout_exits_2(cli: Cli) -> None:
    bad_number = cli("optouts", "add", "1234")
    assert (bad_number.code, bad_number.err.strip()) == (
        2,
        "error: NUMBER: '1234' is not a valid phone number (expected E.164, e.g. +351217000001)",
    )
    bad_client = cli("optouts", "add", "912345678", "--client", "nobody")
    assert (bad_client.code, bad_client.err.strip()) == (2, "error: --client: no client 'nobody'")
