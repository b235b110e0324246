"""`recado campaigns …` and `recado optouts …` as the operator runs them.

The commands run in this process (typer's runner over `hub.cli.build_app`), except two that
run the installed `recado` command in a real process: the exit codes and the error lines on
standard error that `hub.cli.main` makes of bad input.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import build_app
from hub.commands.context import InputError
from hub.core.contract_state import ContractOver
from hub.plugins import Plugins

RECADO = str(Path(sys.executable).with_name("recado"))
PLUGINS = Plugins(only={"sms", "email"})
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
    #: What the command raised (in this process only): `hub.cli.main` reports it, exit code 2.
    exception: BaseException | None = None

    def json(self) -> Any:
        assert self.code == 0, self.err or repr(self.exception)
        return json.loads(self.out)


@dataclass
class Cli:
    cwd: Path

    @property
    def db(self) -> str:
        return f"sqlite:///{self.cwd / 'x.db'}"

    def __call__(self, *args: str) -> Result:
        """Run `recado ARGS` in this process."""
        done = CliRunner().invoke(build_app(PLUGINS), ["--db", self.db, *args])
        raised = None if isinstance(done.exception, SystemExit) else done.exception
        return Result(done.exit_code, done.stdout, done.stderr, raised)

    def process(self, *args: str) -> Result:
        """Run the installed `recado ARGS` in a process of its own."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECADO_") or k == "RECADO_SECRET_KEY"}
        env.update(RECADO_PLUGINS="sms,email", SORRISO_SMS_TOKEN="gw-token", COLUMNS="200")
        done = subprocess.run(
            [RECADO, "--db", self.db, *args], cwd=self.cwd, env=env, capture_output=True, text=True, timeout=120
        )
        return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """A working directory whose database holds the client, under contract, and the contacts files."""
    for name in [name for name in os.environ if name.startswith("RECADO_") and name != "RECADO_SECRET_KEY"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SORRISO_SMS_TOKEN", "gw-token")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clients.yaml").write_text(CLIENTS, encoding="utf-8")
    (tmp_path / "reminders.csv").write_text(REMINDERS, encoding="utf-8")
    (tmp_path / "bad.csv").write_text(BAD, encoding="utf-8")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    cli = Cli(tmp_path)
    assert cli("clients", "apply", "clients.yaml").code == 0
    assert cli("accounts", "buy", "clinica-sorriso", "--plan", "12m", "--at", "2026-03-01T10:00:00Z").code == 0
    yield cli
    # The root command sets up logging for a process; this one goes on with pytest's.
    root.handlers[:], root.level = handlers, level


def upload(cli: Cli, file: str = "reminders.csv", *extra: str) -> Result:
    return cli(
        "campaigns", "upload", "clinica-sorriso", file, "--template-pt", PT, "--template-en", EN,
        "--name", "Consultas de março", "--at", "2026-03-02T08:00", *extra,
    )  # fmt: skip


def test_a_bad_file_exits_2_listing_every_problem_and_stores_nothing(cli: Cli) -> None:
    result = cli.process(
        "campaigns", "upload", "clinica-sorriso", "bad.csv", "--template-pt", PT, "--template-en", EN,
        "--at", "2026-03-02T08:00",
    )  # fmt: skip
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


def test_an_unknown_campaign_exits_2_with_one_error_line(cli: Cli) -> None:
    result = cli.process("campaigns", "show", "42")
    assert (result.code, result.err.strip()) == (2, "error: no campaign 42")


def test_a_bad_file_with_json_prints_the_errors_as_json(cli: Cli) -> None:
    result = upload(cli, "bad.csv", "--json")
    assert result.code == 2
    errors = json.loads(result.out)["errors"]
    assert [(e["line"], e["column"]) for e in errors][:2] == [(3, "number"), (4, "name")]


def test_a_missing_file_is_a_clear_error(cli: Cli) -> None:
    result = upload(cli, "nowhere.csv")
    assert isinstance(result.exception, InputError)
    assert str(result.exception).startswith("nowhere.csv: cannot read it")


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
    assert "+351912345678" not in table.out and "+3519******78" in table.out
    cancelled = cli("campaigns", "cancel", "1")
    assert cancelled.out.strip() == "campaign 1 cancelled: 1 contacts skipped"
    assert cli("campaigns", "show", "1", "--json").json()["counts"]["skipped"] == 1


def test_dispatching_in_quiet_hours_says_why_nothing_is_sent(cli: Cli) -> None:
    upload(cli)
    result = cli("campaigns", "dispatch", "--at", "2026-03-06T20:30")
    assert result.err.strip() == "nothing is sent at 2026-03-06T20:30:00+00:00: quiet hours"
    assert result.out.strip() == "0 sent, 0 waiting, 0 opted out, 0 skipped"


def test_an_unknown_campaign_is_a_clear_error(cli: Cli) -> None:
    for command in (("show", "42"), ("cancel", "42")):
        result = cli("campaigns", *command)
        assert isinstance(result.exception, InputError)
        assert str(result.exception) == "no campaign 42"


def test_an_unknown_client_is_a_clear_error(cli: Cli) -> None:
    result = cli("campaigns", "upload", "nobody", "reminders.csv", "--template-pt", PT)
    assert result.exception is not None
    assert "no client 'nobody'" in str(result.exception)


def test_an_upload_for_a_client_whose_contract_has_ended_is_refused(cli: Cli) -> None:
    result = cli(
        "campaigns", "upload", "clinica-sorriso", "reminders.csv", "--template-pt", PT, "--template-en", EN,
        "--at", "2027-03-02T10:00",
    )  # fmt: skip
    assert isinstance(result.exception, ContractOver)
    assert str(result.exception) == (
        "the contract of 'clinica-sorriso' ended on 2027-03-01: no campaign can be uploaded until it is renewed"
    )
    assert cli("campaigns", "list", "--json").json() == []


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
    removed = cli("optouts", "remove", "+351936000111")
    assert (removed.code, removed.out.strip()) == (0, "+351936000111 may be contacted again")
    assert cli("optouts", "list", "--json").json() == []


def test_a_bad_number_or_client_for_an_optout_is_a_clear_error(cli: Cli) -> None:
    bad_number = cli("optouts", "add", "1234")
    assert isinstance(bad_number.exception, InputError)
    assert (
        str(bad_number.exception) == "NUMBER: '1234' is not a valid phone number (expected E.164, e.g. +351217000001)"
    )
    bad_client = cli("optouts", "add", "912345678", "--client", "nobody")
    assert isinstance(bad_client.exception, InputError)
    assert str(bad_client.exception) == "--client: no client 'nobody'"
