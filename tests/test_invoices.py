"""Invoices: numbered per year without gaps (also under concurrency), VAT per document, payment references."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from billing_setup import SELLER
from sample_clients import lisbon

from hub.core import invoices
from hub.core.invoices import Invoice
from hub.core.store import Store
from hub.core.tariff import TariffConfig

TARIFF = TariffConfig()


def _issue(
    store: Store, at: datetime, *, plan: str = "12m", option: str = "none", tariff: TariffConfig = TARIFF
) -> Invoice:
    with store.begin() as conn:
        return invoices.issue(
            conn,
            kind="signup",
            client="padaria",
            plan=plan,
            message_option=option,
            buyer={"name": "Padaria Lopes, Lda", "nif": "513000003"},
            seller=SELLER,
            method="transfer",
            at=at,
            tariff=tariff,
        )


def test_invoices_are_numbered_one_after_the_other_within_a_year(store: Store) -> None:
    numbers = [_issue(store, lisbon(f"2026-03-0{day} 10:00")).number for day in (2, 3, 4)]
    assert numbers == ["2026/000001", "2026/000002", "2026/000003"]


def test_a_new_year_starts_at_number_one_by_lisbon_time(store: Store) -> None:
    _issue(store, lisbon("2026-12-31 23:30"))
    assert _issue(store, lisbon("2027-01-01 00:10")).number == "2027/000001"


def test_an_invoice_rolled_back_gives_its_number_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.begin() as conn:
        invoices.issue(
            conn,
            kind="signup",
            client="padaria",
            plan="12m",
            message_option="none",
            buyer={"name": "P", "nif": "513000003"},
            seller=SELLER,
            method="transfer",
            at=lisbon("2026-03-02 10:00"),
            tariff=TARIFF,
        )
        raise RuntimeError("the sign-up failed after the invoice was written")
    assert _issue(store, lisbon("2026-03-02 10:01")).number == "2026/000001"


def test_concurrent_invoices_get_every_number_once_without_gaps(store: Store) -> None:
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def issue_five() -> None:
        try:
            for _ in range(5):
                number = _issue(store, lisbon("2026-03-02 10:00")).number
                with lock:
                    numbers.append(number)
        except BaseException as exc:  # reported below, with the numbers
            errors.append(exc)

    threads = [threading.Thread(target=issue_five) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [f"2026/{seq:06d}" for seq in range(1, 31)]


def test_a_contract_is_invoiced_with_23_percent_vat(store: Store) -> None:
    twelve = _issue(store, lisbon("2026-03-02 10:00"), plan="12m")
    six = _issue(store, lisbon("2026-03-02 10:00"), plan="6m")
    assert (twelve.net_cents, twelve.vat_cents, twelve.gross_cents) == (15600, 3588, 19188)
    assert (six.net_cents, six.vat_cents, six.gross_cents) == (9600, 2208, 11808)


def test_vat_is_rounded_half_up_once_per_invoice(store: Store) -> None:
    tariff = TariffConfig(plans={"12m": 15650, "6m": 9600})
    invoice = _issue(store, lisbon("2026-03-02 10:00"), tariff=tariff)
    assert invoice.vat_cents == 3600  # 15650 × 23 % = 3599.5
    assert invoice.gross_cents == 19250


def test_the_recorded_message_is_a_line_of_its_own_paid_from_the_balance(store: Store) -> None:
    invoice = _issue(store, lisbon("2026-03-02 10:00"), option="pt+en")
    contract, message = invoice.lines
    assert (contract.kind, contract.net_cents, contract.paid_from) == ("contract", 15600, "payment")
    assert (message.kind, message.net_cents, message.paid_from, message.vat_percent) == ("message", 4000, "balance", 0)
    assert invoice.gross_cents == 19188  # the option is not added to what is paid now
    assert invoices.message_document(invoice) is not None
    assert invoices.contract_document(invoice).balance_change_cents == 15600


def test_the_payment_reference_carries_the_number_and_check_digits(store: Store) -> None:
    invoice = _issue(store, lisbon("2026-03-02 10:00"))
    assert invoice.payment_reference == "RC202600000116"
    assert invoices.reference_is_valid(invoice.payment_reference)
    assert invoices.number_of_reference(invoice.payment_reference) == invoice.number


def test_a_reference_with_one_wrong_digit_is_not_valid() -> None:
    assert not invoices.reference_is_valid("RC202600000216")
    assert not invoices.reference_is_valid("RC202600000117")


def test_each_invoice_has_its_own_unguessable_link(store: Store) -> None:
    first, second = _issue(store, lisbon("2026-03-02 10:00")), _issue(store, lisbon("2026-03-02 10:00"))
    assert first.public_token != second.public_token
    assert len(first.public_token) >= 32
    with store.connect() as conn:
        found = invoices.by_token(conn, second.public_token)
    assert found is not None and found.number == second.number


def test_a_cancelled_invoice_keeps_its_number(store: Store) -> None:
    first = _issue(store, lisbon("2026-03-02 10:00"))
    with store.begin() as conn:
        invoices.cancel(conn, first.number)
    assert _issue(store, lisbon("2026-03-02 10:00")).number == "2026/000002"
    with store.connect() as conn:
        cancelled = invoices.get(conn, first.number)
    assert cancelled is not None and cancelled.status == "cancelled"


def test_the_due_date_is_the_seller_s_days_after_issue(store: Store) -> None:
    assert _issue(store, lisbon("2026-03-02 10:00")).due_on.isoformat() == "2026-03-17"
