"""The card path with everything running: hub web app, fake Stripe, the real sign-up and activation code.

invoice → GET /pay/{token}/card → Stripe checkout → pay → GET /pay/{token}/done → invoice paid,
sign-up activated; and the same through the webhook alone, replayed, or both at once.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from card_hub import FREE_DID, CardHub
from sqlalchemy import func, select

from hub.core import invoices, signups
from hub.core import store as t

EN = {"Accept-Language": "en"}


def open_checkout(hub: CardHub, token: str) -> str:
    """Follow the hub's card link; the checkout URL it sends the browser to."""
    response = httpx.get(f"{hub.url}/pay/{token}/card", headers=EN)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def session_of(url: str) -> str:
    """The Checkout Session id in a checkout page URL."""
    return url.rsplit("/", 1)[-1]


def pay_in_browser(checkout_url: str) -> httpx.Response:
    """Press "Pay" on the checkout page and follow the browser back to the hub."""
    with httpx.Client(follow_redirects=True, headers=EN) as browser:
        assert browser.get(checkout_url).status_code == 200
        return browser.post(checkout_url)


def contracts_bought(hub: CardHub, client: str) -> int:
    """Contract purchases in the client's ledger."""
    with hub.store.connect() as conn:
        query = select(func.count()).select_from(t.ledger).where(t.ledger.c.client == client)
        return int(conn.execute(query.where(t.ledger.c.kind == "contract")).scalar_one())


def test_paying_by_card_marks_the_invoice_paid_and_activates_the_sign_up(hub: CardHub) -> None:
    invoice = hub.sign_up()
    back = pay_in_browser(open_checkout(hub, invoice.public_token))
    assert back.status_code == 200
    assert back.url.path == f"/pay/{invoice.public_token}/done"
    assert "Payment received" in back.text and FREE_DID in back.text
    paid = hub.invoice(invoice.number)
    session = hub.fake.sessions[session_of(str(back.url.params["checkout"]))]
    assert (paid.status, paid.paid_method, paid.paid_cents) == (invoices.PAID, "card", invoice.gross_cents)
    assert paid.paid_reference == f"stripe:{session['payment_intent']}"
    assert hub.signup_status(invoice) == "active"


def test_the_checkout_is_for_the_invoice_total_with_the_invoice_number(hub: CardHub) -> None:
    invoice = hub.sign_up()
    session = hub.fake.sessions[session_of(open_checkout(hub, invoice.public_token))]
    assert (session["amount_total"], session["currency"]) == (invoice.gross_cents, "eur")
    assert session["client_reference_id"] == invoice.number
    assert session["customer_email"] == "ana@padaria.example"
    assert session["cancel_url"] == f"{hub.url}/invoices/{invoice.public_token}"


def test_asking_twice_gives_the_same_checkout(hub: CardHub) -> None:
    invoice = hub.sign_up()
    assert open_checkout(hub, invoice.public_token) == open_checkout(hub, invoice.public_token)
    assert len(hub.fake.sessions) == 1


def test_an_expired_checkout_is_replaced_by_a_fresh_one(hub: CardHub) -> None:
    invoice = hub.sign_up()
    first = open_checkout(hub, invoice.public_token)
    hub.fake.expire(session_of(first))
    second = open_checkout(hub, invoice.public_token)
    assert second != first
    assert hub.fake.requests[-1][2]["idempotency-key"] == f"{invoice.number}/2"
    assert pay_in_browser(second).status_code == 200
    assert hub.invoice(invoice.number).status == invoices.PAID


def test_a_renewal_paid_by_card_extends_the_contract(hub: CardHub) -> None:
    signup = hub.sign_up()
    pay_in_browser(open_checkout(hub, signup.public_token))
    renewal = signups.create_renewal(
        hub.store, signup.client, "12m", "card", hub.context.settings, datetime.now(UTC) + timedelta(days=300)
    )
    back = pay_in_browser(open_checkout(hub, renewal.public_token))
    assert back.status_code == 200 and "The contract is renewed until" in back.text
    assert hub.invoice(renewal.number).status == invoices.PAID
    assert contracts_bought(hub, signup.client) == 2


def test_a_paid_invoice_sends_the_browser_to_the_invoice_page(hub: CardHub) -> None:
    invoice = hub.sign_up()
    pay_in_browser(open_checkout(hub, invoice.public_token))
    again = httpx.get(f"{hub.url}/pay/{invoice.public_token}/card")
    assert again.status_code == 303
    assert again.headers["location"] == f"/invoices/{invoice.public_token}"


def test_coming_back_without_paying_says_the_payment_is_not_confirmed(hub: CardHub) -> None:
    invoice = hub.sign_up()
    checkout = session_of(open_checkout(hub, invoice.public_token))
    page = httpx.get(f"{hub.url}/pay/{invoice.public_token}/done?method=stripe&checkout={checkout}", headers=EN)
    assert page.status_code == 200 and "Payment not confirmed yet" in page.text
    assert hub.invoice(invoice.number).status == invoices.ISSUED


def test_a_paid_checkout_of_another_invoice_does_not_pay_this_one(hub: CardHub) -> None:
    mine = hub.sign_up()
    other = hub.sign_up(company="Oficina Reis, Lda", nif="503000000")
    other_checkout = open_checkout(hub, other.public_token)
    hub.fake.pay(session_of(other_checkout))
    page = httpx.get(
        f"{hub.url}/pay/{mine.public_token}/done?method=stripe&checkout={session_of(other_checkout)}", headers=EN
    )
    assert page.status_code == 400 and "does not belong to invoice" in page.text
    assert hub.invoice(mine.number).status == invoices.ISSUED


def test_an_amount_other_than_the_invoice_total_is_not_taken_as_payment(hub: CardHub) -> None:
    invoice = hub.sign_up()
    checkout = session_of(open_checkout(hub, invoice.public_token))
    hub.fake.pay(checkout)
    hub.fake.sessions[checkout]["amount_total"] = invoice.gross_cents - 100
    page = httpx.get(f"{hub.url}/pay/{invoice.public_token}/done?method=stripe&checkout={checkout}", headers=EN)
    assert page.status_code == 409 and "does not match the total" in page.text
    assert hub.invoice(invoice.number).status == invoices.ISSUED


def test_the_webhook_alone_pays_and_activates_when_the_browser_never_comes_back(hub: CardHub) -> None:
    invoice = hub.sign_up()
    hub.fake.webhook_url = hub.webhook_url()
    hub.fake.pay(session_of(open_checkout(hub, invoice.public_token)))
    sent = hub.fake.webhooks[-1]
    assert (sent.status, sent.answer) == (200, b'{"status":"paid","invoice":"' + invoice.number.encode() + b'"}')
    assert hub.invoice(invoice.number).status == invoices.PAID
    assert hub.signup_status(invoice) == "active"


def test_a_replayed_webhook_changes_nothing(hub: CardHub) -> None:
    invoice = hub.sign_up()
    hub.fake.webhook_url = hub.webhook_url()
    hub.fake.pay(session_of(open_checkout(hub, invoice.public_token)))
    balance, mails = hub.balance(invoice.client), hub.outbox_rows()
    replay = hub.fake.send_body(hub.fake.webhooks[-1].payload)
    assert (replay.status, replay.answer) == (200, b'{"status":"paid","invoice":"' + invoice.number.encode() + b'"}')
    assert (hub.balance(invoice.client), hub.outbox_rows()) == (balance, mails)
    assert contracts_bought(hub, invoice.client) == 1


def test_the_webhook_and_the_return_page_together_activate_once(hub: CardHub) -> None:
    invoice = hub.sign_up()
    hub.fake.webhook_url = hub.webhook_url()
    back = pay_in_browser(open_checkout(hub, invoice.public_token))
    assert hub.fake.webhooks[-1].status == 200
    assert back.status_code == 200 and "Payment received" in back.text
    assert contracts_bought(hub, invoice.client) == 1
    assert hub.signup_status(invoice) == "active"


def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(hub: CardHub) -> None:
    invoice = hub.sign_up()
    checkout = session_of(open_checkout(hub, invoice.public_token))
    hub.fake.sessions[checkout].update(payment_status="paid", status="complete")
    hub.fake.webhook_secret = "whsec_" + "notTheEndpointSecret"
    refused = hub.fake.send_event("checkout.session.completed", checkout, url=hub.webhook_url())
    assert refused.status == 400
    assert b"bad_signature" in refused.answer
    assert hub.invoice(invoice.number).status == invoices.ISSUED


def test_a_webhook_signed_long_ago_is_refused(hub: CardHub) -> None:
    invoice = hub.sign_up()
    checkout = session_of(open_checkout(hub, invoice.public_token))
    hub.fake.pay(checkout)
    old = hub.fake.send_event(
        "checkout.session.completed", checkout, url=hub.webhook_url(), timestamp=int(time.time()) - 600
    )
    assert old.status == 400
    assert hub.invoice(invoice.number).status == invoices.ISSUED


def test_a_webhook_about_an_unknown_invoice_is_acknowledged_and_logged(
    hub: CardHub, caplog: pytest.LogCaptureFixture
) -> None:
    invoice = hub.sign_up()
    checkout = session_of(open_checkout(hub, invoice.public_token))
    hub.fake.pay(checkout)
    hub.fake.sessions[checkout].update(client_reference_id="2026/999999", metadata={"invoice": "2026/999999"})
    with caplog.at_level(logging.WARNING, logger="hub.web.payments"):
        answer = hub.fake.send_event("checkout.session.completed", checkout, url=hub.webhook_url())
    assert (answer.status, answer.answer) == (200, b'{"status":"unknown_invoice","invoice":"2026/999999"}')
    assert "names invoice '2026/999999', which does not exist" in caplog.text


def test_events_other_than_payments_are_acknowledged_and_ignored(hub: CardHub) -> None:
    invoice = hub.sign_up()
    checkout = session_of(open_checkout(hub, invoice.public_token))
    answer = hub.fake.send_event("checkout.session.expired", checkout, url=hub.webhook_url())
    assert (answer.status, answer.answer) == (200, b'{"status":"ignored"}')


def test_a_webhook_for_a_method_that_is_not_configured_is_not_found(hub: CardHub) -> None:
    answer = httpx.post(f"{hub.url}/payments/paypal/webhook", content=b"{}")
    assert answer.status_code == 404


def test_a_stripe_outage_asks_the_applicant_to_try_again(hub: CardHub) -> None:
    invoice = hub.sign_up()
    hub.fake.fail_next(503, "api_error", "Service unavailable.")
    page = httpx.get(f"{hub.url}/pay/{invoice.public_token}/card", headers=EN)
    assert page.status_code == 502
    assert "Try again in a few minutes" in page.text
    assert f'href="/pay/{invoice.public_token}/card"' in page.text


def test_without_a_configured_method_card_payment_is_unavailable_and_the_operator_is_told(
    hub: CardHub, caplog: pytest.LogCaptureFixture
) -> None:
    invoice = hub.sign_up()
    hub.context.settings.payments = {}
    with caplog.at_level(logging.ERROR, logger="hub.web.payments"):
        page = httpx.get(f"{hub.url}/pay/{invoice.public_token}/card", headers=EN)
    assert page.status_code == 503 and "pay by bank transfer" in page.text
    assert "no payment method is configured: add [payments.<kind>] (installed: stripe)" in caplog.text


def test_an_unknown_invoice_link_is_a_page_saying_so(hub: CardHub) -> None:
    page = httpx.get(f"{hub.url}/pay/NoSuchToken0123456789/card", headers={"Accept-Language": "pt"})
    assert page.status_code == 404 and "Ligação desconhecida" in page.text


def test_the_keys_never_appear_in_the_logs(hub: CardHub, caplog: pytest.LogCaptureFixture) -> None:
    invoice = hub.sign_up()
    hub.fake.webhook_url = hub.webhook_url()
    with caplog.at_level(logging.DEBUG):
        pay_in_browser(open_checkout(hub, invoice.public_token))
        refused_key = hub.sign_up(company="Talho Reis, Lda", nif="503000000")
        hub.fake.fail_next(401, "invalid_request_error", f"Invalid API Key provided: {hub.fake.api_key}")
        httpx.get(f"{hub.url}/pay/{refused_key.public_token}/card")
        hub.fake.webhook_secret = "whsec_" + "notTheEndpointSecret"
        hub.fake.send_event("checkout.session.completed", next(iter(hub.fake.sessions)))
    assert "refused the API key (401)" in caplog.text
    assert "does not match the body" in caplog.text
    for secret in (hub.fake.api_key, "fakeSigningSecretForRecadoTests", "notTheEndpointSecret"):
        assert secret not in caplog.text


def test_a_checkout_id_that_is_not_a_checkout_is_refused(hub: CardHub) -> None:
    invoice = hub.sign_up()
    page = httpx.get(f"{hub.url}/pay/{invoice.public_token}/done?method=stripe&checkout=../../v1/customers", headers=EN)
    assert page.status_code == 400 and "does not belong to invoice" in page.text
    assert hub.fake.requests == []


def test_keys_can_be_read_from_the_environment_named_in_the_settings(
    hub: CardHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", hub.fake.api_key)
    hub.context.settings.payments["stripe"]["api_key"] = {"$env": "STRIPE_SECRET_KEY"}
    invoice = hub.sign_up()
    assert open_checkout(hub, invoice.public_token).startswith(hub.fake.url)


def test_a_key_whose_environment_variable_is_missing_is_named_to_the_operator(
    hub: CardHub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    hub.context.settings.payments["stripe"]["api_key"] = {"$env": "STRIPE_SECRET_KEY"}
    invoice = hub.sign_up()
    with caplog.at_level(logging.ERROR, logger="hub.web.payments"):
        page = httpx.get(f"{hub.url}/pay/{invoice.public_token}/card", headers=EN)
    assert page.status_code == 503
    assert "[payments.stripe] api_key: environment variable STRIPE_SECRET_KEY is not set" in caplog.text
