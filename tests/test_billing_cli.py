"""`recado dids|invoices|payments|signups`, run as the operator runs them: a real process on a real file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from billing_setup import sign_up
from recado_cli import Result, operator_env, recado

from hub.core.store import Store
from hub.plugins import Plugins

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
RECADO_TOML = """\
[billing]
name = "Recado Atendimento, Lda"
nif = "509999999"
address = "Rua Augusta 100\\n1100-053 Lisboa"
iban = "PT50 0002 0123 1234 5678 9015 4"
bic = "CGDIPTPL"
public_url = "https://recado.example"
"""


@dataclass
class Operator:
    """`recado` in a working directory with a recado.toml, against its own SQLite file."""

    cwd: Path

    @property
    def url(self) -> str:
        """The database."""
        return f"sqlite:///{self.cwd / 'recado.db'}"

    def __call__(self, *args: str) -> Result:
        """Run `recado ARGS`."""
        env = operator_env(RECADO_PLUGINS="email", RECADO_SECRET_KEY=os.environ["RECADO_SECRET_KEY"])
        return recado(*args, db=self.url, cwd=self.cwd, env=env)


@pytest.fixture
def operator(tmp_path: Path) -> Operator:
    (tmp_path / "recado.toml").write_text(RECADO_TOML, encoding="utf-8")
    return Operator(tmp_path)


@pytest.fixture
def signed_up(operator: Operator, plugins: Plugins) -> str:
    """One applicant signed up (invoice 2026/000001); its client id."""
    store = Store(operator.url)
    try:
        return sign_up(store, plugins).client
    finally:
        store.dispose()


def test_numbers_are_added_to_the_pool_and_listed_lowest_first(operator: Operator) -> None:
    (operator.cwd / "numbers.txt").write_text("# Lisbon block\n+351217000103\n217000101\n", encoding="utf-8")
    added = operator("dids", "add", "+351217000102", "--file", "numbers.txt", "--json").json()
    assert added["added"] == ["+351217000102", "+351217000103", "+351217000101"]
    listed = operator("dids", "list", "--free", "--json").json()
    assert [row["did"] for row in listed] == ["+351217000101", "+351217000102", "+351217000103"]
    again = operator("dids", "add", "+351217000101", "--json").json()
    assert again["already_in_pool"] == ["+351217000101"]


def test_a_number_that_is_not_one_exits_2_naming_it(operator: Operator) -> None:
    (operator.cwd / "numbers.txt").write_text("+351217000101\n+35121\n", encoding="utf-8")
    run = operator("dids", "add", "--file", "numbers.txt")
    assert run.code == 2
    assert "--file numbers.txt, line 2: '+35121' is not a valid phone number" in run.err


def test_importing_the_example_statement_activates_the_sign_up_once(operator: Operator, signed_up: str) -> None:
    assert operator("dids", "add", "+351217000101").code == 0
    statement = str(EXAMPLES / "statement-camt053.xml")
    first = operator("payments", "import", statement, "--json").json()
    assert first["format"] == "camt053"
    assert first["counts"] == {"matched": 1, "unmatched": 1, "ignored": 1, "duplicate": 0}
    assert first["lines"][0]["activation"]["did"] == "+351217000101"
    again = operator("payments", "import", statement, "--json").json()
    assert again["counts"] == {"matched": 0, "unmatched": 0, "ignored": 0, "duplicate": 3}
    [row] = operator("signups", "list", "--json").json()
    assert (row["client"], row["status"], row["did"]) == (signed_up, "active", "+351217000101")


def test_the_import_table_shows_each_line_and_the_counts(operator: Operator, signed_up: str) -> None:
    run = operator("payments", "import", str(EXAMPLES / "statement-camt053.xml"), "--dry-run")
    assert run.code == 0, run.err
    assert "RC202600000116" in run.out and "2026/000001" in run.out
    assert "dry run: 1 matched, 1 unmatched, 1 ignored, 0 already imported" in run.out
    assert operator("signups", "list", "--json").json()[0]["status"] == "pending"


def test_an_unreadable_statement_exits_2_naming_the_file_line_and_column(operator: Operator) -> None:
    (operator.cwd / "bank.csv").write_text("date;amount;reference\n05/03/2026;cem;x\n", encoding="utf-8")
    run = operator("payments", "import", "bank.csv")
    assert run.code == 2
    assert "bank.csv, line 2, column amount: 'cem' is not an amount" in run.err


def test_an_invoice_is_shown_listed_and_written_as_pdf(operator: Operator, signed_up: str) -> None:
    shown = operator("invoices", "show", "2026/000001", "--json").json()
    assert (shown["client"], shown["gross_cents"], shown["status"]) == (signed_up, 19188, "issued")
    assert shown["payment_reference"] == "RC202600000116"
    assert shown["link"].startswith("https://recado.example/invoices/")
    assert [item["number"] for item in operator("invoices", "list", "--json").json()] == ["2026/000001"]
    run = operator("invoices", "pdf", "2026/000001", "--out", "fatura.pdf", "--lang", "en")
    assert run.code == 0, run.err
    assert (operator.cwd / "fatura.pdf").read_bytes().startswith(b"%PDF")


def test_an_unknown_invoice_exits_2(operator: Operator) -> None:
    run = operator("invoices", "show", "2026/000099")
    assert run.code == 2
    assert "no invoice '2026/000099'" in run.err


def test_a_cancelled_invoice_cancels_its_sign_up(operator: Operator, signed_up: str) -> None:
    assert operator("invoices", "cancel", "2026/000001").json()["status"] == "cancelled"
    assert operator("signups", "list", "--json").json()[0]["status"] == "cancelled"
    assert operator("invoices", "cancel", "2026/000001").code == 0
