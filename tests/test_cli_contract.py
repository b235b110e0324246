"""The command-line contract of `recado`, run as the operator runs it: a real process.

Every test runs the installed `recado` command in its own working directory,
against its own SQLite file, and reads what it prints.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from recado_cli import Result, operator_env, recado

HOOK_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()

EVENTS = """\
{"type":"call","call_id":"c1","kind":"offered","at":"2026-03-02T09:15:00Z","did":"+351217000001","caller":"+351912345678"}
{"type":"call","call_id":"c1","kind":"answered","at":"2026-03-02T09:15:04Z","agent":"ana"}
{"type":"call","call_id":"c1","kind":"ended","at":"2026-03-02T09:18:04Z"}
{"type":"wrapup","call_id":"c1","agent":"ana","language":"pt","answers":{"name":"Rui","reason":"booking"}}
"""

RECORD_FIELDS = {
    "record_id",
    "client",
    "disposition",
    "price_cents",
    "balance_after_cents",
    "caller",
    "did",
    "agent",
    "language",
    "offered_at",
    "answered_at",
    "ended_at",
    "talk_seconds",
    "script_version",
    "answers",
    "category",
    "incomplete",
}


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def clients_yaml(maildir: Path, hook_port: int) -> str:
    """The client of the command-line contract: an email and a signed webhook destination.

    A relative `maildir` is relative to the working directory of the `recado` run.
    """
    return f"""\
clients:
  - id: acme                      # slug
    name: "Clínica Acme"           # said in the greeting
    nif: "509999999"
    dids: ["+351217000001"]        # exclusive across clients
    languages: [pt, en]
    greeting: {{pt: "Clínica Acme, bom dia.", en: "Acme Clinic, good morning."}}
    agents: {{preferred: [ana, rui], gender: any}}     # any | female | male
    recorded_message: none        # none | pt | pt+en
    tariff: {{negotiated_cents: 40}}
    script:
      version: 1
      category: customer_service
      fields:
        - {{name: name, label: {{pt: Nome, en: Name}}, type: text, required: true}}
        - {{name: reason, label: {{pt: Motivo, en: Reason}}, type: choice, choices: [booking, info, complaint]}}
    destinations:
      - {{id: mail, kind: email, settings: {{to: ["rececao@acme.example"], maildir: "{maildir}"}}}}
      - id: hook
        kind: webhook
        settings: {{url: "http://127.0.0.1:{hook_port}/calls", secret: {{"$env": "ACME_HOOK_SECRET"}}}}
        mapping: {{caller: "{{{{ call.caller }}}}", name: "{{{{ answers.name }}}}"}}
"""


CLIENTS_TOML = """\
[[clients]]
id = "tomly"
name = "Tomly Lda"
nif = "509999997"
dids = ["+351217000009"]

[[clients.destinations]]
id = "hook"
kind = "webhook"
settings = { url = "http://127.0.0.1:9/calls", secret = { "$env" = "ACME_HOOK_SECRET" } }
mapping = { caller = "{{ call.caller }}" }
"""


@dataclass
class Cli:
    """`recado` run in `cwd` against the SQLite file `db`."""

    cwd: Path
    db: Path
    env: dict[str, str]

    def __call__(self, *args: str, stdin: str | None = None, **env: str) -> Result:
        """Run `recado --db … ARGS` and return its exit code and output.

        Only the commands that build sinks load the webhook plugin: the others start faster.
        """
        plugins = "email,webhook" if args[:2] == ("clients", "apply") or args[0] == "worker" else "email"
        environment = {**self.env, "RECADO_PLUGINS": plugins, **env}
        return recado(*args, db=f"sqlite:///{self.db}", cwd=self.cwd, env=environment, stdin=stdin)

    @property
    def maildir(self) -> Path:
        """Where the `mail` destination writes."""
        return self.cwd / "maildir"


def base_env() -> dict[str, str]:
    """The environment of a `recado` run: no RECADO_* from outside, the webhook plugin allowed locally."""
    return operator_env(RECADO_WEBHOOK_ALLOW_PRIVATE="true", ACME_HOOK_SECRET=HOOK_SECRET)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """An empty database in an empty working directory."""
    work = tmp_path / "work"
    work.mkdir()
    return Cli(work, work / "x.db", base_env())


@pytest.fixture(scope="module")
def applied_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory whose database holds the contract's client (applied once per module)."""
    work = tmp_path_factory.mktemp("applied")
    (work / "clients.yaml").write_text(clients_yaml(Path("maildir"), closed_port()), encoding="utf-8")
    result = Cli(work, work / "x.db", base_env())("clients", "apply", "clients.yaml")
    assert result.code == 0, result.err
    return work


@pytest.fixture(scope="module")
def funded_template(applied_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The applied client with a 12-month contract bought on 1 March 2026."""
    work = tmp_path_factory.mktemp("funded") / "work"
    shutil.copytree(applied_template, work)
    result = Cli(work, work / "x.db", base_env())(
        "accounts", "buy", "acme", "--plan", "12m", "--at", "2026-03-01T10:00:00Z"
    )
    assert result.code == 0, result.err
    return work


@pytest.fixture(scope="module")
def ingested_template(funded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The funded client after the contract's example call was ingested."""
    work = tmp_path_factory.mktemp("ingested") / "work"
    shutil.copytree(funded_template, work)
    result = Cli(work, work / "x.db", base_env())("ingest", "-", stdin=EVENTS)
    assert result.code == 0, result.err
    return work


def private_copy(template: Path, tmp_path: Path) -> Cli:
    """A copy of a prepared working directory (database, key file, client file) for one test."""
    work = tmp_path / "work"
    shutil.copytree(template, work)
    return Cli(work, work / "x.db", base_env())


@pytest.fixture
def applied(applied_template: Path, tmp_path: Path) -> Cli:
    """The contract's client applied, no balance yet."""
    return private_copy(applied_template, tmp_path)


@pytest.fixture
def funded(funded_template: Path, tmp_path: Path) -> Cli:
    """The contract's client with a 12-month contract bought on 1 March 2026."""
    return private_copy(funded_template, tmp_path)


@pytest.fixture
def ingested(ingested_template: Path, tmp_path: Path) -> Cli:
    """The funded client with the example call ingested: one record, two deliveries pending."""
    return private_copy(ingested_template, tmp_path)


def no_traceback(result: Result) -> None:
    """Bad input is one clear message, never a Python traceback."""
    assert "Traceback" not in result.err
    assert "Traceback" not in result.out


def table(db: Path, name: str) -> list[tuple[Any, ...]]:
    """Every row of a table of the SQLite file, in rowid order."""
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchall()


# --- clients apply -------------------------------------------------------------------------------


def test_clients_apply_creates_the_client_of_a_yaml_file(cli: Cli) -> None:
    (cli.cwd / "clients.yaml").write_text(clients_yaml(Path("maildir"), 9), encoding="utf-8")
    result = cli("clients", "apply", "clients.yaml", "--json")
    assert result.code == 0, result.err
    assert result.json() == {"created": ["acme"], "updated": [], "unchanged": []}
    shown = cli("clients", "show", "acme", "--json").json()
    assert shown["dids"] == ["+351217000001"]
    assert [d["kind"] for d in shown["destinations"]] == ["email", "webhook"]


def test_clients_apply_reads_a_toml_file(cli: Cli) -> None:
    (cli.cwd / "clients.toml").write_text(CLIENTS_TOML, encoding="utf-8")
    result = cli("clients", "apply", "clients.toml")
    assert result.code == 0, result.err
    assert "created" in result.out and "tomly" in result.out
    shown = cli("clients", "show", "tomly", "--json").json()
    assert shown["destinations"][0]["mapping"] == {"caller": "{{ call.caller }}"}


def test_applying_the_same_file_twice_changes_nothing(applied: Cli) -> None:
    before = {name: table(applied.db, name) for name in ("clients", "dids", "destinations", "accounts")}
    result = applied("clients", "apply", "clients.yaml", "--json")
    assert result.code == 0, result.err
    assert result.json() == {"created": [], "updated": [], "unchanged": ["acme"]}
    assert {name: table(applied.db, name) for name in before} == before


def test_webhook_secret_is_not_stored_in_clear(applied: Cli) -> None:
    settings = [row[0] for row in sqlite3.connect(applied.db).execute("SELECT settings FROM destinations")]
    assert settings and all(HOOK_SECRET not in text for text in settings)
    for path in applied.cwd.glob("x.db*"):
        assert HOOK_SECRET.encode() not in path.read_bytes()
        assert HOOK_SECRET.removeprefix("whsec_").encode() not in path.read_bytes()


def test_clients_show_prints_secrets_as_stars(applied: Cli) -> None:
    result = applied("clients", "show", "acme", "--json")
    hook = next(d for d in result.json()["destinations"] if d["id"] == "hook")
    assert hook["settings"]["secret"] == "***"
    assert HOOK_SECRET not in result.out


def test_wrong_secret_key_is_a_clear_error(ingested: Cli) -> None:
    wrong = base64.urlsafe_b64encode(b"w" * 32).decode()
    result = ingested("worker", "--once", RECADO_SECRET_KEY=wrong)
    no_traceback(result)
    assert result.code == 2
    assert "cannot be decrypted" in result.err and "RECADO_SECRET_KEY" in result.err


BAD_FILES = {
    "malformed_yaml": (
        "clients:\n  - id: acme\n    name: [unclosed\n",
        "bad.yaml, line 4, column 1: invalid YAML",
        "flow sequence that starts on line 3",
    ),
    "unknown_sink_kind": (
        'clients:\n  - id: a\n    name: A\n    nif: "509999999"\n    dids: ["+351217000001"]\n'
        "    destinations:\n      - {id: x, kind: fax}\n",
        "bad.yaml, line 7, field clients[0].destinations[0].kind",
        "installed kinds: email, webhook",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_client_file_exits_2_naming_file_line_and_field(cli: Cli, case: str) -> None:
    text, where, what = BAD_FILES[case]
    (cli.cwd / "bad.yaml").write_text(text, encoding="utf-8")
    result = cli("clients", "apply", "bad.yaml")
    no_traceback(result)
    assert result.code == 2
    assert where in result.err
    assert what in result.err


def test_did_of_a_stored_client_cannot_be_claimed_by_another(applied: Cli) -> None:
    (applied.cwd / "other.yaml").write_text(
        'clients:\n  - id: other\n    name: O\n    nif: "509999998"\n    dids: ["+351217000001"]\n',
        encoding="utf-8",
    )
    result = applied("clients", "apply", "other.yaml")
    no_traceback(result)
    assert result.code == 2
    assert "other.yaml, line 5, field clients[0].dids[0]" in result.err
    assert "already belongs to client 'acme'" in result.err
    assert applied("clients", "show", "other").code == 2


def test_unknown_mapping_fields_are_named(cli: Cli) -> None:
    text = clients_yaml(Path("maildir"), 9).replace("{{ answers.name }}", "{{ answers.nope }}")
    text = text.replace("{{ call.caller }}", "{{ call.nope }}")
    (cli.cwd / "clients.yaml").write_text(text, encoding="utf-8")
    result = cli("clients", "apply", "clients.yaml")
    no_traceback(result)
    assert result.code == 2
    assert "clients.yaml, line 22, field clients[0].destinations[1].mapping" in result.err
    assert "unknown field answers.nope" in result.err and "unknown field call.nope" in result.err


# --- accounts ------------------------------------------------------------------------------------


def test_buying_a_12_month_contract_prints_the_document(applied: Cli) -> None:
    result = applied("accounts", "buy", "acme", "--plan", "12m", "--at", "2026-03-01T10:00:00Z")
    assert result.code == 0, result.err
    document = result.json()
    assert (document["net_cents"], document["vat_cents"], document["gross_cents"]) == (15600, 3588, 19188)


def test_topup_of_20_prints_the_document(applied: Cli) -> None:
    result = applied("accounts", "topup", "acme", "--amount", "20", "--at", "2026-03-01T10:00:00Z")
    assert result.code == 0, result.err
    document = result.json()
    assert (document["net_cents"], document["vat_cents"], document["gross_cents"]) == (2000, 460, 2460)


@pytest.mark.parametrize("amount", ["25", "-20"])
def test_topup_of_an_amount_not_on_offer_is_refused_and_changes_nothing(applied: Cli, amount: str) -> None:
    before = table(applied.db, "ledger")
    result = applied("accounts", "topup", "acme", f"--amount={amount}")
    no_traceback(result)
    assert result.code == 2
    assert "--amount" in result.err and "20, 30, 50" in result.err
    assert table(applied.db, "ledger") == before


def test_recorded_message_bought_from_the_balance_prints_the_document(funded: Cli) -> None:
    result = funded("accounts", "buy-message", "acme", "--languages", "pt+en", "--at", "2026-03-01T11:00:00Z")
    assert result.code == 0, result.err
    assert result.json()["net_cents"] == 4000
    assert funded("accounts", "show", "acme", "--json").json()["balance_cents"] == 15600 - 4000


def test_recorded_message_with_too_small_a_balance_is_refused_and_changes_nothing(applied: Cli) -> None:
    applied("accounts", "topup", "acme", "--amount", "20", "--at", "2026-03-01T10:00:00Z")
    before = table(applied.db, "ledger")
    result = applied("accounts", "buy-message", "acme", "--languages", "pt")
    no_traceback(result)
    assert result.code == 2
    assert "not enough" in result.err
    assert table(applied.db, "ledger") == before
    assert applied("clients", "show", "acme", "--json").json()["recorded_message"] == "none"


def test_accounts_show_json_has_the_contract_shape(funded: Cli) -> None:
    view = funded("accounts", "show", "acme", "--json").json()
    assert {"client", "balance_cents", "held_cents", "interrupted", "month"} <= set(view)
    assert {"answered", "outbound"} <= set(view["month"])
    assert (view["client"], view["balance_cents"], view["held_cents"], view["interrupted"]) == (
        "acme",
        15600,
        0,
        False,
    )


def test_accounts_statement_json_lists_entries_with_running_balance(ingested: Cli) -> None:
    entries = ingested("accounts", "statement", "acme", "--json").json()
    assert [set(e) for e in entries] == [{"at", "kind", "amount_cents", "balance_after_cents", "ref"}] * 2
    assert [(e["kind"], e["amount_cents"], e["balance_after_cents"]) for e in entries] == [
        ("contract", 15600, 15600),
        ("call", -150, 15450),
    ]


def test_accounts_of_an_unknown_client_is_a_clear_error(applied: Cli) -> None:
    result = applied("accounts", "show", "nobody", "--json")
    no_traceback(result)
    assert result.code == 2
    assert "no client 'nobody'" in result.err


# --- ingest and records --------------------------------------------------------------------------


def test_ingest_turns_the_example_into_one_answered_record(funded: Cli) -> None:
    (funded.cwd / "events.jsonl").write_text(EVENTS, encoding="utf-8")
    result = funded("ingest", "events.jsonl")
    assert result.code == 0, result.err
    records = funded("records", "list", "--json").json()
    assert len(records) == 1
    record = records[0]
    assert set(record) >= RECORD_FIELDS
    assert (record["client"], record["disposition"], record["price_cents"], record["balance_after_cents"]) == (
        "acme",
        "answered",
        150,
        15450,
    )
    assert record["caller"] == "+351912345678"
    assert record["answers"] == {"name": "Rui", "reason": "booking"}
    assert record["talk_seconds"] == 180
    assert record["incomplete"] is False


def test_ingest_reads_standard_input(funded: Cli) -> None:
    result = funded("ingest", "-", stdin=EVENTS)
    assert result.code == 0, result.err
    assert [r["disposition"] for r in funded("records", "list", "--json").json()] == ["answered"]


def test_ingesting_the_same_events_twice_changes_nothing(ingested: Cli) -> None:
    before = (table(ingested.db, "records"), table(ingested.db, "ledger"), table(ingested.db, "outbox"))
    result = ingested("ingest", "-", stdin=EVENTS)
    assert result.code == 0, result.err
    assert (table(ingested.db, "records"), table(ingested.db, "ledger"), table(ingested.db, "outbox")) == before


BAD_LINES = """\
{"type":"call","call_id":"d1","kind":"offered","at":"2026-03-02T10:15:00Z","did":"+351217000001","caller":"+351912345678"}
not json
{"type":"call","call_id":"d1","kind":"answered","at":"yesterday","agent":"ana"}
{"type":"call","call_id":"d1","kind":"answered","at":"2026-03-02T10:15:04Z","agent":"ana","colour":"red"}
{"type":"call","call_id":"x9","kind":"offered","at":"2026-03-02T10:16:00Z","did":"+351217999999","caller":"+351912345670"}
{"type":"call","call_id":"d2","kind":"offered","at":"2026-03-02T10:17:00Z","did":"+351217000001","caller":"+351912345671"}
{"type":"call","call_id":"d2","kind":"answered","at":"2026-03-02T10:17:05Z","agent":"rui"}
{"type":"call","call_id":"d1","kind":"ended","at":"2026-03-02T10:18:04Z"}
{"type":"call","call_id":"d2","kind":"ended","at":"2026-03-02T10:19:05Z"}
{"type":"wrapup","call_id":"d2","agent":"rui","language":"en","answers":{"name":"Ann"}}
"""


def test_ingest_reports_bad_lines_with_their_numbers_and_exits_2(funded: Cli) -> None:
    result = funded("ingest", "-", stdin=BAD_LINES)
    no_traceback(result)
    assert result.code == 2
    assert "line 2: not JSON" in result.err
    assert "line 3: field at:" in result.err
    assert "line 4: field colour: unknown field" in result.err
    assert "line 5:" in result.err and "+351217999999" in result.err and "belongs to no client" in result.err


def test_ingest_reports_a_line_that_is_not_utf8_and_goes_on(funded: Cli) -> None:
    (funded.cwd / "events.jsonl").write_bytes(b"\xff\xfe\n" + EVENTS.encode())
    result = funded("ingest", "events.jsonl")
    no_traceback(result)
    assert result.code == 2
    assert "events.jsonl: line 1: not UTF-8 text" in result.err
    assert [r["disposition"] for r in funded("records", "list", "--json").json()] == ["answered"]


def test_ingest_processes_the_good_lines_around_bad_ones(funded: Cli) -> None:
    funded("ingest", "-", stdin=BAD_LINES)
    records = {r["call_id"]: r for r in funded("records", "list", "--json").json()}
    assert set(records) == {"d1", "d2"}
    assert records["d1"]["disposition"] == "missed" and records["d1"]["price_cents"] == 0
    assert records["d2"]["disposition"] == "answered" and records["d2"]["price_cents"] == 150
    assert records["d2"]["language"] == "en"


def test_every_call_ends_as_exactly_one_record_whatever_its_disposition(funded: Cli) -> None:
    lines = [
        # answered, wrapped up
        *EVENTS.splitlines(),
        # offered, never answered
        '{"type":"call","call_id":"m1","kind":"offered","at":"2026-03-02T10:00:00Z",'
        '"did":"+351217000001","caller":"+351912345671"}',
        '{"type":"call","call_id":"m1","kind":"ended","at":"2026-03-02T10:00:30Z"}',
        # Saturday: after hours
        '{"type":"call","call_id":"w1","kind":"offered","at":"2026-03-07T11:00:00Z",'
        '"did":"+351217000001","caller":"+351912345672"}',
        '{"type":"call","call_id":"w1","kind":"ended","at":"2026-03-07T11:00:20Z"}',
        # answered, no wrap-up: incomplete at the end of the input
        '{"type":"call","call_id":"i1","kind":"offered","at":"2026-03-03T10:00:00Z",'
        '"did":"+351217000001","caller":"+351912345673"}',
        '{"type":"call","call_id":"i1","kind":"answered","at":"2026-03-03T10:00:03Z","agent":"rui"}',
        '{"type":"call","call_id":"i1","kind":"ended","at":"2026-03-03T10:02:03Z"}',
    ]
    assert funded("ingest", "-", stdin="\n".join(lines) + "\n").code == 0
    records = funded("records", "list", "--json").json()
    by_call = {r["call_id"]: r for r in records}
    assert len(records) == len(by_call) == 4
    assert {k: (v["disposition"], v["incomplete"]) for k, v in by_call.items()} == {
        "c1": ("answered", False),
        "m1": ("missed", False),
        "w1": ("after_hours", False),
        "i1": ("answered", True),
    }


# --- deliveries and worker -----------------------------------------------------------------------


def test_finalized_record_waits_in_the_outbox_for_every_destination(ingested: Cli) -> None:
    rows = ingested("deliveries", "list", "--status", "pending", "--json").json()
    assert sorted(r["destination"] for r in rows) == ["hook", "mail"]
    assert {r["status"] for r in rows} == {"pending"}


def test_worker_once_delivers_the_email_to_the_maildir(ingested: Cli) -> None:
    result = ingested("worker", "--once", "--json")
    assert result.code == 0, result.err
    delivered = ingested("deliveries", "list", "--status", "delivered", "--json").json()
    assert [r["destination"] for r in delivered] == ["mail"]
    mails = list((ingested.maildir / "new").iterdir())
    assert len(mails) == 1
    assert "Rui" in mails[0].read_text(encoding="utf-8")


def test_unreachable_webhook_stays_pending_with_its_error(ingested: Cli) -> None:
    ingested("worker", "--once")
    pending = ingested("deliveries", "list", "--status", "pending", "--json").json()
    assert [r["destination"] for r in pending] == ["hook"]
    assert pending[0]["attempts"] == 1 and pending[0]["last_error"]


def test_replay_sends_dead_letters_again(ingested: Cli) -> None:
    ingested("worker", "--once", RECADO_DELIVERY__SCHEDULE_S="[0]")
    dead = ingested("deliveries", "list", "--status", "dead", "--json").json()
    assert [r["destination"] for r in dead] == ["hook"]
    result = ingested("deliveries", "replay", "--destination", "hook", "--json")
    assert result.json() == {"replayed": 1}
    pending = ingested("deliveries", "list", "--status", "pending", "--json").json()
    assert [(r["destination"], r["attempts"]) for r in pending] == [("hook", 0)]


def test_unknown_delivery_status_is_a_clear_error(applied: Cli) -> None:
    result = applied("deliveries", "list", "--status", "lost")
    no_traceback(result)
    assert result.code == 2
    assert "--status" in result.err and "pending" in result.err


def test_an_invalid_setting_in_the_environment_is_named(applied: Cli) -> None:
    result = applied("records", "list", RECADO_ENGINE__WRAPUP_TIMEOUT_S="-1")
    no_traceback(result)
    assert result.code == 2
    assert "setting engine.wrapup_timeout_s (RECADO_ENGINE__WRAPUP_TIMEOUT_S or recado.toml)" in result.err


# --- plugins -------------------------------------------------------------------------------------


@pytest.fixture
def broken_plugin_path(tmp_path: Path) -> Path:
    """A directory holding an installed distribution whose plugin module raises at import."""
    site = tmp_path / "site"
    dist = site / "recado_broken-1.2.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: recado-broken\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text("[recado]\nbroken = recado_broken_plugin\n")
    (site / "recado_broken_plugin.py").write_text('raise RuntimeError("the broken plugin exploded")\n')
    return site


def test_plugins_json_lists_each_plugin_with_version_hooks_and_kinds(cli: Cli) -> None:
    result = cli("plugins", "--json", RECADO_PLUGINS="email,webhook")
    assert result.code == 0, result.err
    plugins = {p["name"]: p for p in result.json()}
    assert {"email", "webhook"} <= set(plugins)
    assert plugins["email"]["version"] == "0.1.0"
    assert plugins["email"]["hooks"] == ["register_sinks"]
    assert plugins["email"]["kinds"]["sinks"] == ["email"]
    assert plugins["webhook"]["kinds"]["sinks"] == ["webhook"]
    assert plugins["email"]["error"] is None


def test_broken_plugin_is_reported_and_the_others_still_load(cli: Cli, broken_plugin_path: Path) -> None:
    result = cli(
        "plugins",
        "--json",
        PYTHONPATH=str(broken_plugin_path),
        RECADO_PLUGINS="email,broken",
    )
    assert result.code == 0, result.err
    plugins = {p["name"]: p for p in result.json()}
    assert plugins["broken"]["version"] == "1.2.3"
    assert "RuntimeError: the broken plugin exploded" in plugins["broken"]["error"]
    assert plugins["email"]["kinds"]["sinks"] == ["email"] and plugins["email"]["error"] is None


def test_recado_plugins_variable_limits_what_loads(cli: Cli) -> None:
    names = {p["name"] for p in cli("plugins", "--json", RECADO_PLUGINS="email").json()}
    assert "email" in names
    assert "webhook" not in names


def test_plugins_setting_in_recado_toml_limits_what_loads(cli: Cli) -> None:
    (cli.cwd / "recado.toml").write_text('plugins = "email"\n', encoding="utf-8")
    done = recado("plugins", "--json", db=None, cwd=cli.cwd, env=cli.env)
    assert done.code == 0, done.err
    assert {p["name"] for p in json.loads(done.out)} == {"builtin", "email"}


# --- demo ----------------------------------------------------------------------------------------


def test_demo_plays_the_calls_and_prints_a_json_summary(cli: Cli) -> None:
    data = cli.cwd / "demo"
    result = cli("demo", "--calls", "60", "--json", "--data-dir", str(data))
    assert result.code == 0, result.err
    summary = json.loads(result.out.strip().splitlines()[-1])
    assert {"calls", "records", "by_disposition", "delivered", "dead", "balances"} <= set(summary)
    assert summary["calls"] == summary["records"] == 60
    assert sum(summary["by_disposition"].values()) == 60
    assert summary["dead"] == 0
    assert all(isinstance(cents, int) and cents >= 0 for cents in summary["balances"].values())
    mails = [p for p in data.rglob("*") if p.is_file() and p.parent.name in {"new", "cur"}]
    assert len(mails) == summary["delivered"] > 0
