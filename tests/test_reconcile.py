"""Bank statement lines matched to invoices by reference and exact total; the rest kept for the operator."""

from __future__ import annotations

from pathlib import Path

import pytest
from billing_setup import billing_settings, sign_up
from sample_clients import lisbon
from sqlalchemy import func, select

from hub.core import did_pool, ledger, reconcile, signups
from hub.core import store as t
from hub.core.reconcile import ImportReport, find_references
from hub.core.statements import parse_statement
from hub.core.store import Store
from hub.plugins import Plugins

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
IMPORTED_AT = lisbon("2026-03-06 09:00")


@pytest.fixture
def pool(sqlite_store: Store) -> Store:
    with sqlite_store.begin() as conn:
        did_pool.add(conn, ["+351217000101", "+351217000102", "+351217000103"], lisbon("2026-03-01 09:00"))
    return sqlite_store


def _import(store: Store, plugins: Plugins, data: bytes, *, name: str = "s.csv", dry_run: bool = False) -> ImportReport:
    return reconcile.import_statement(
        store,
        plugins.registry,
        parse_statement(data, name=name),
        file=name,
        at=IMPORTED_AT,
        settings=billing_settings(store),
        dry_run=dry_run,
    )


def _csv(amount: str, remittance: str) -> bytes:
    return f"date;amount;reference;payer\n05/03/2026;{amount};{remittance};Padaria Lopes\n".encode()


def _statuses(store: Store) -> dict[str, str]:
    with store.connect() as conn:
        return {row["client"]: row["status"] for row in signups.list_signups(conn)}


def test_the_example_camt053_pays_the_first_invoice_and_keeps_the_rest(pool: Store, plugins: Plugins) -> None:
    created = sign_up(pool, plugins)
    report = _import(pool, plugins, (EXAMPLES / "statement-camt053.xml").read_bytes(), name="statement-camt053.xml")
    assert report.counts() == {"matched": 1, "unmatched": 1, "ignored": 1, "duplicate": 0}
    paid, unknown, fee = report.lines
    assert (paid.invoice, paid.reference, paid.status) == ("2026/000001", "RC202600000116", "matched")
    assert paid.activation is not None and paid.activation["state"] == "activated"
    assert paid.activation["did"] == "+351217000101"
    assert unknown.reason == "no payment reference (RC…) in the remittance text"
    assert fee.reason == "a debit, not a payment received"
    assert _statuses(pool) == {created.client: "active"}


def test_importing_the_same_statement_twice_changes_nothing(pool: Store, plugins: Plugins) -> None:
    created = sign_up(pool, plugins)
    data = (EXAMPLES / "statement-camt053.xml").read_bytes()
    _import(pool, plugins, data)
    again = _import(pool, plugins, data)
    assert again.counts() == {"matched": 0, "unmatched": 0, "ignored": 0, "duplicate": 3}
    with pool.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.payments)).scalar() == 3
        assert ledger.lock_account(conn, created.client, for_update=False).balance_cents == 12600


def test_the_example_csv_matches_one_invoice_and_names_a_partial_payment(pool: Store, plugins: Plugins) -> None:
    sign_up(pool, plugins)
    sol = sign_up(pool, plugins, company="Clínica Sol, Lda", nif="509999999")
    azul = sign_up(pool, plugins, company="Oficina Azul", plan="6m")
    report = _import(pool, plugins, (EXAMPLES / "statement.csv").read_bytes(), name="statement.csv")
    paid, partial, tax = report.lines
    assert (paid.invoice, paid.status) == (sol.invoice.number, "matched")
    assert (partial.invoice, partial.status) == (azul.invoice.number, "unmatched")
    assert partial.reason == "partial payment: €100.00 of €118.08"
    assert tax.status == "ignored"
    assert _statuses(pool)[sol.client] == "active" and _statuses(pool)[azul.client] == "pending"


def test_an_overpayment_is_kept_for_the_operator(pool: Store, plugins: Plugins) -> None:
    sign_up(pool, plugins)
    [line] = _import(pool, plugins, _csv("200,00", "RC202600000116")).lines
    assert (line.status, line.reason) == ("unmatched", "overpaid: €200.00 for €191.88")


def test_a_reference_no_invoice_has_is_unmatched(pool: Store, plugins: Plugins) -> None:
    [line] = _import(pool, plugins, _csv("191,88", "RC202600999992")).lines
    assert (line.status, line.reason) == ("unmatched", "no invoice has the reference RC202600999992")


def test_a_reference_with_a_typo_is_named_as_such(pool: Store, plugins: Plugins) -> None:
    sign_up(pool, plugins)
    [line] = _import(pool, plugins, _csv("191,88", "RC202600000117")).lines
    assert (line.status, line.reason) == ("unmatched", "reference RC202600000117 has wrong check digits (a typo?)")


def test_a_second_payment_of_a_paid_invoice_is_unmatched(pool: Store, plugins: Plugins) -> None:
    sign_up(pool, plugins)
    _import(pool, plugins, _csv("191,88", "RC202600000116"))
    data = b"date;amount;reference\n07/03/2026;191,88;again RC202600000116\n"
    [line] = _import(pool, plugins, data).lines
    assert (line.status, line.reason) == ("unmatched", "invoice 2026/000001 was already paid: a second payment")


def test_a_payment_in_another_currency_is_unmatched(pool: Store, plugins: Plugins) -> None:
    sign_up(pool, plugins)
    data = b"date;amount;currency;reference\n05/03/2026;191,88;USD;RC202600000116\n"
    [line] = _import(pool, plugins, data).lines
    assert (line.status, line.reason) == ("unmatched", "amount in USD, expected EUR")


def test_a_dry_run_says_what_would_match_and_writes_nothing(pool: Store, plugins: Plugins) -> None:
    created = sign_up(pool, plugins)
    report = _import(pool, plugins, _csv("191,88", "RC202600000116"), dry_run=True)
    assert report.counts()["matched"] == 1
    with pool.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.payments)).scalar() == 0
    assert _statuses(pool) == {created.client: "pending"}
    assert _import(pool, plugins, _csv("191,88", "RC202600000116")).counts()["matched"] == 1


def test_unmatched_lines_are_listed_for_the_operator(pool: Store, plugins: Plugins) -> None:
    sign_up(pool, plugins)
    _import(pool, plugins, (EXAMPLES / "statement-camt053.xml").read_bytes())
    with pool.connect() as conn:
        [unmatched] = reconcile.list_payments(conn, status="unmatched")
    assert (unmatched["payer"], unmatched["amount_cents"]) == ("JOAO SILVA", 5000)


@pytest.mark.parametrize(
    "text", ["RC202600000116", "rc 2026 0000 0116", "Ref: RC-2026-0000-0116.", "fatura RC202600000116/2026"]
)
def test_references_are_found_whatever_the_spacing_and_case(text: str) -> None:
    assert find_references(text) == (["RC202600000116"], [])
