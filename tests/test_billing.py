"""A paid invoice activates its sign-up (a number from the pool, the contract, the welcome) or renews a contract."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from billing_setup import TWELVE_MONTHS_GROSS, billing_settings, sign_up
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from sample_clients import buy, clients_yaml, lisbon
from sqlalchemy import select

from hub.core import accounts, billing, did_pool, directory, invoices, ledger, notices, signups
from hub.core import store as t
from hub.core.billing import ActivationResult, UnknownInvoice, mark_invoice_paid
from hub.core.scheduler import JobContext, run_jobs
from hub.core.signups import SignupCreated
from hub.core.store import Store
from hub.core.worker import Worker
from hub.plugins import Plugins
from hub.settings import Settings

PAID_AT = lisbon("2026-03-05 11:00")


def _pool(store: Store, *numbers: str) -> None:
    with store.begin() as conn:
        did_pool.add(conn, list(numbers), lisbon("2026-03-01 09:00"))


def _pay(store: Store, plugins: Plugins, created: SignupCreated, **changes: object) -> ActivationResult:
    values: dict[str, object] = {
        "amount_cents": created.invoice.gross_cents,
        "method": "transfer",
        "reference": "bank:1",
        "at": PAID_AT,
        "settings": billing_settings(store),
    } | changes
    return mark_invoice_paid(store, plugins.registry, created.invoice.number, **values)  # type: ignore[arg-type]


def _signup_row(store: Store, client: str) -> dict[str, object]:
    with store.connect() as conn:
        [row] = [row for row in signups.list_signups(conn) if row["client"] == client]
    return row


def test_a_paid_sign_up_becomes_a_client_with_the_lowest_free_number(store: Store, plugins: Plugins) -> None:
    _pool(store, "+351217000102", "+351217000101", "+351217000110")
    created = sign_up(store, plugins)
    result = _pay(store, plugins, created)
    assert (result.state, result.did, result.newly_paid) == ("activated", "+351217000101", True)
    with store.connect() as conn:
        client = directory.get_client(conn, created.client)
        assert directory.client_for_did(conn, "+351217000101") == created.client
        assert did_pool.listing(conn, free_only=True)[0]["did"] == "+351217000102"
    assert client is not None and client.dids == ["+351217000101"] and client.nif == "513000003"
    assert client.contact_email == "ana@padaria.example"
    assert [d.settings["to"] for d in client.destinations] == [["registos@padaria.example"]]
    assert _signup_row(store, created.client)["status"] == "active"


def test_activation_buys_the_contract_and_pays_the_option_from_the_balance(store: Store, plugins: Plugins) -> None:
    _pool(store, "+351217000101")
    created = sign_up(store, plugins, message_option="pt")
    result = _pay(store, plugins, created)
    assert result.balance_cents == 15600 - 3000
    with store.connect() as conn:
        view = accounts.show(conn, created.client, PAID_AT, Settings().tariff)
        entries = ledger.statement(conn, created.client)
        client = accounts.load_client(conn, created.client)
    assert [entry["amount_cents"] for entry in entries] == [15600, -3000]
    assert view["contract_ends_at"] == (PAID_AT + timedelta(days=365)).isoformat()
    assert client.recorded_message == "pt"


def test_a_sign_up_stays_out_of_the_clients_until_it_is_paid(store: Store, plugins: Plugins) -> None:
    created = sign_up(store, plugins)
    with store.connect() as conn:
        assert directory.get_client(conn, created.client) is None
    assert _signup_row(store, created.client)["status"] == "pending"


def test_marking_an_invoice_paid_twice_changes_nothing(store: Store, plugins: Plugins) -> None:
    _pool(store, "+351217000101", "+351217000102")
    created = sign_up(store, plugins)
    _pay(store, plugins, created)
    again = _pay(store, plugins, created)
    assert (again.state, again.newly_paid, again.did) == ("already_done", False, "+351217000101")
    with store.connect() as conn:
        assert ledger.lock_account(conn, created.client, for_update=False).balance_cents == 12600
        mails = conn.execute(select(t.outbox.c.id).where(t.outbox.c.event_type == "mail.welcome")).all()
        assert did_pool.free_count(conn) == 1
    assert len(mails) == 1


def test_a_second_payment_of_a_paid_invoice_alerts_the_operator(store: Store, plugins: Plugins) -> None:
    _pool(store, "+351217000101")
    created = sign_up(store, plugins)
    _pay(store, plugins, created, reference="card:pi_1")
    assert _pay(store, plugins, created, reference="card:pi_1").state == "already_done"
    assert _pay(store, plugins, created, reference="card:pi_2").state == "already_done"
    with store.connect() as conn:
        [alert] = notices.list_alerts(conn)
    assert alert["kind"] == "second_payment"
    assert "card:pi_2" in alert["message"] and "refund" in alert["message"]


def test_an_empty_pool_leaves_the_sign_up_paid_and_waiting_with_an_alert(store: Store, plugins: Plugins) -> None:
    created = sign_up(store, plugins)
    result = _pay(store, plugins, created)
    assert (result.state, result.newly_paid) == ("waiting_for_did", True)
    assert result.problem == "the DID pool has no free number"
    assert _signup_row(store, created.client)["status"] == "waiting_for_did"
    with store.connect() as conn:
        alerts = notices.list_alerts(conn)
        assert directory.get_client(conn, created.client) is None
    assert [alert["kind"] for alert in alerts] == ["did_pool_empty"]
    assert "recado dids add" in alerts[0]["message"]


def test_a_waiting_sign_up_is_activated_once_a_number_is_added(store: Store, plugins: Plugins) -> None:
    created = sign_up(store, plugins)
    _pay(store, plugins, created)
    _pool(store, "+351217000101")
    [result] = billing.resume_pending(store, plugins.registry, billing_settings(store), lisbon("2026-03-06 09:00"))
    assert (result.state, result.did) == ("activated", "+351217000101")
    assert billing.resume_pending(store, plugins.registry, billing_settings(store), lisbon("2026-03-06 09:05")) == []


def test_a_payment_of_another_amount_marks_nothing_and_alerts(store: Store, plugins: Plugins) -> None:
    _pool(store, "+351217000101")
    created = sign_up(store, plugins)
    result = _pay(store, plugins, created, amount_cents=TWELVE_MONTHS_GROSS - 1)
    assert result.state == "amount_mismatch"
    assert result.problem == "paid 19187 cents, the invoice's total is 19188 cents"
    with store.connect() as conn:
        assert conn.execute(select(t.invoices.c.status)).scalar() == "issued"
        assert [alert["kind"] for alert in notices.list_alerts(conn)] == ["payment_amount_mismatch"]


def test_a_payment_of_a_cancelled_invoice_activates_nothing(store: Store, plugins: Plugins) -> None:
    _pool(store, "+351217000101")
    created = sign_up(store, plugins)
    with store.begin() as conn:
        invoices.cancel(conn, created.invoice.number)
    assert _pay(store, plugins, created).state == "cancelled"
    assert _signup_row(store, created.client)["status"] == "cancelled"


def test_an_unknown_invoice_is_refused(sqlite_store: Store, plugins: Plugins) -> None:
    with pytest.raises(UnknownInvoice, match="no invoice '2026/000042'"):
        mark_invoice_paid(
            sqlite_store, plugins.registry, "2026/000042", amount_cents=1, method="transfer", reference="x", at=PAID_AT
        )


def test_an_activation_that_cannot_write_the_client_keeps_the_payment_and_alerts(
    sqlite_store: Store, plugins: Plugins
) -> None:
    _pool(sqlite_store, "+351217000101")
    created = sign_up(sqlite_store, plugins)
    without_email = Plugins(only=set())  # the email sink uninstalled between sign-up and payment
    result = _pay(sqlite_store, without_email, created)
    assert (result.state, result.newly_paid) == ("failed", True)
    assert "no installed plugin provides the sink kind 'email'" in (result.problem or "")
    with sqlite_store.connect() as conn:
        assert did_pool.free_count(conn) == 1  # the number went back with the failed step
        assert [alert["kind"] for alert in notices.list_alerts(conn)] == ["activation_failed"]
    [done] = billing.resume_pending(sqlite_store, plugins.registry, billing_settings(sqlite_store), PAID_AT)
    assert (done.state, done.did) == ("activated", "+351217000101")


def test_two_activations_at_once_never_get_the_same_number(store: Store, plugins: Plugins) -> None:
    _pool(store, "+351217000101", "+351217000102", "+351217000103", "+351217000104")
    created = [sign_up(store, plugins, company=f"Empresa {n}") for n in range(4)]
    results: list[ActivationResult] = []
    errors: list[BaseException] = []

    def pay(item: SignupCreated) -> None:
        try:
            results.append(_pay(store, plugins, item))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(item,)) for item in created]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(result.did or "" for result in results) == [f"+35121700010{n}" for n in range(1, 5)]


def test_a_webhook_destination_keeps_its_secret_sealed(sqlite_store: Store) -> None:
    with_webhook = Plugins(only={"email", "webhook"})
    _pool(sqlite_store, "+351217000101")
    created = sign_up(sqlite_store, with_webhook, webhook=True, webhook_url="https://hooks.padaria.example/recado")
    assert created.webhook_secret is not None and created.webhook_secret.startswith("whsec_")
    _pay(sqlite_store, with_webhook, created)
    with sqlite_store.connect() as conn:
        stored = conn.execute(select(t.destinations.c.settings).where(t.destinations.c.id == "webhook")).scalar_one()
        pending = conn.execute(select(t.signups.c.config)).scalar_one()
    assert created.webhook_secret not in str(stored)
    assert created.webhook_secret not in str(pending)
    box = sqlite_store.secret_box()
    assert box.open(stored)["secret"] == created.webhook_secret


def test_a_paid_renewal_extends_the_contract_keeping_number_and_option(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    directory.apply_file(sqlite_store, plugins.registry, tmp_path / "c.yaml", text=clients_yaml(tmp_path / "maildir"))
    buy(sqlite_store, plugins, "acme", at="2026-03-01 08:00")
    settings = billing_settings(sqlite_store)
    invoice = signups.create_renewal(sqlite_store, "acme", "6m", "transfer", settings, lisbon("2027-02-01 10:00"))
    assert (invoice.kind, invoice.gross_cents, len(invoice.lines)) == ("renewal", 11808, 1)
    with sqlite_store.connect() as conn:
        before = ledger.lock_account(conn, "acme", for_update=False)
    result = mark_invoice_paid(
        sqlite_store,
        plugins.registry,
        invoice.number,
        amount_cents=11808,
        method="transfer",
        reference="bank:9",
        at=lisbon("2027-02-03 10:00"),
        settings=settings,
    )
    assert result.state == "renewed"
    assert before.contract_ends_at is not None
    assert result.contract_ends_at is not None
    added = result.contract_ends_at - before.contract_ends_at  # six months from the old end, not from the payment
    assert timedelta(days=178) <= added <= timedelta(days=185)
    assert result.balance_cents == before.balance_cents + 9600
    with sqlite_store.connect() as conn:
        client = accounts.load_client(conn, "acme")
    assert client.dids == ["+351217000001"] and client.recorded_message == "pt+en"


def test_a_second_renewal_request_reuses_the_unpaid_invoice(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    directory.apply_file(sqlite_store, plugins.registry, tmp_path / "c.yaml", text=clients_yaml(tmp_path / "maildir"))
    settings = billing_settings(sqlite_store)
    first = signups.create_renewal(sqlite_store, "acme", "12m", "transfer", settings, lisbon("2027-02-01 10:00"))
    second = signups.create_renewal(sqlite_store, "acme", "12m", "transfer", settings, lisbon("2027-02-01 10:01"))
    assert first.number == second.number


def test_the_welcome_email_reaches_the_client_with_its_number_and_the_invoice(
    sqlite_store: Store,
    plugins: Plugins,
    mail_relay: MailRelay,  # noqa: F811
) -> None:
    _pool(sqlite_store, "+351217000101")
    created = sign_up(sqlite_store, plugins)
    _pay(sqlite_store, plugins, created)
    asyncio.run(Worker(sqlite_store, plugins.registry, Settings(database_url=sqlite_store.url)).run_once())
    [message] = mail_relay.to("ana@padaria.example")
    assert message["Subject"] == "Bem-vindo: o seu número de atendimento é +351 21 700 0101"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    for expected in ("+351 21 700 0101", "12 meses", "5 de março de 2027", "126,00 €", "2026/000001"):
        assert expected in text, expected
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "fatura-2026-000001.pdf"
    assert attachment.get_content().startswith(b"%PDF")


def test_the_scheduler_finishes_a_waiting_activation(sqlite_store: Store, plugins: Plugins) -> None:
    created = sign_up(sqlite_store, plugins)
    _pay(sqlite_store, plugins, created)
    _pool(sqlite_store, "+351217000101")
    context = JobContext(sqlite_store, plugins.registry, billing_settings(sqlite_store), lisbon("2026-03-06 09:00"))
    [run] = run_jobs(context, [billing.ACTIVATIONS_JOB])
    assert (run.job, run.done, run.error) == ("signups.activate", 1, None)
    assert _signup_row(sqlite_store, created.client)["status"] == "active"
