"""Checkout Sessions at the fake Stripe: the form sent, idempotency, reading the payment back."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from checkout_requests import invoice_checkout
from fake_stripe import FakeStripe
from recado_stripe.config import StripeConfig
from recado_stripe.method import StripePayments

from hub.payments import PaymentError, PaymentStatus


async def test_a_checkout_is_a_payment_mode_session_with_one_line_of_the_invoice_amount(
    stripe: StripePayments, fake: FakeStripe
) -> None:
    checkout = await stripe.create_checkout(invoice_checkout())
    method, path, headers, fields = fake.requests[-1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert dict(fields) == {
        "mode": "payment",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "19065",
        "line_items[0][price_data][product_data][name]": "Recado — fatura 2026/000123",
        "line_items[0][quantity]": "1",
        "client_reference_id": "2026/000123",
        "metadata[invoice]": "2026/000123",
        "customer_email": "maria@padaria.example",
        "success_url": "https://hub.example/pay/tok/done?checkout={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://hub.example/invoices/tok",
    }
    assert checkout.id in fake.sessions
    assert checkout.url == fake.sessions[checkout.id]["url"]


async def test_the_secret_key_is_sent_as_a_bearer_token_and_the_invoice_as_idempotency_key(
    stripe: StripePayments, fake: FakeStripe
) -> None:
    await stripe.create_checkout(invoice_checkout())
    headers = fake.requests[-1][2]
    assert headers["authorization"] == f"Bearer {fake.api_key}"
    assert headers["idempotency-key"] == "2026/000123"


async def test_the_checkout_says_until_when_it_can_be_paid(stripe: StripePayments, fake: FakeStripe) -> None:
    checkout = await stripe.create_checkout(invoice_checkout())
    assert checkout.expires_at == datetime.fromtimestamp(fake.sessions[checkout.id]["expires_at"], UTC)


async def test_asking_twice_for_the_same_invoice_gives_the_same_checkout(
    stripe: StripePayments, fake: FakeStripe
) -> None:
    first = await stripe.create_checkout(invoice_checkout())
    second = await stripe.create_checkout(invoice_checkout())
    assert second == first
    assert len(fake.sessions) == 1


async def test_reusing_an_idempotency_key_with_another_amount_is_refused(stripe: StripePayments) -> None:
    await stripe.create_checkout(invoice_checkout())
    with pytest.raises(PaymentError, match="idempotency key"):
        await stripe.create_checkout(invoice_checkout(amount_cents=20000))


async def test_payment_methods_can_be_limited_to_cards(config: StripeConfig, fake: FakeStripe) -> None:
    method = StripePayments(config.model_copy(update={"payment_method_types": ["card"]}))
    try:
        await method.create_checkout(invoice_checkout())
    finally:
        await method.aclose()
    assert ("payment_method_types[0]", "card") in fake.requests[-1][3]


async def test_a_request_in_another_currency_is_refused_before_calling_stripe(
    stripe: StripePayments, fake: FakeStripe
) -> None:
    with pytest.raises(PaymentError, match="configured for EUR, not USD"):
        await stripe.create_checkout(invoice_checkout(currency="USD"))
    assert fake.requests == []


def test_an_amount_that_is_not_positive_whole_cents_is_refused() -> None:
    with pytest.raises(ValueError, match="positive integer number of cents"):
        invoice_checkout(amount_cents=0)
    with pytest.raises(ValueError, match="positive integer number of cents"):
        invoice_checkout(amount_cents=190.65)


async def test_an_open_checkout_is_not_paid(stripe: StripePayments) -> None:
    checkout = await stripe.create_checkout(invoice_checkout())
    status = await stripe.retrieve(checkout.id)
    assert status == PaymentStatus(
        paid=False, amount_cents=19065, reference=checkout.id, invoice_number="2026/000123", currency="EUR"
    )


async def test_a_paid_checkout_is_paid_with_its_amount_invoice_and_payment_reference(
    stripe: StripePayments, fake: FakeStripe
) -> None:
    checkout = await stripe.create_checkout(invoice_checkout())
    fake.pay(checkout.id)
    status = await stripe.retrieve(checkout.id)
    assert status.paid
    assert (status.amount_cents, status.invoice_number) == (19065, "2026/000123")
    assert status.reference == fake.sessions[checkout.id]["payment_intent"]


async def test_paying_on_the_checkout_page_returns_the_browser_with_the_session_id(
    stripe: StripePayments, fake: FakeStripe
) -> None:
    checkout = await stripe.create_checkout(invoice_checkout())
    async with httpx.AsyncClient() as browser:
        page = await browser.get(checkout.url)
        paid = await browser.post(checkout.url)
    assert "190,65 €" in page.text
    assert paid.status_code == 303
    assert paid.headers["location"] == f"https://hub.example/pay/tok/done?checkout={checkout.id}"
    assert (await stripe.retrieve(checkout.id)).paid


async def test_an_unknown_checkout_is_a_payment_error(stripe: StripePayments) -> None:
    with pytest.raises(PaymentError, match="does not know") as caught:
        await stripe.retrieve("cs_test_nothing")
    assert caught.value.status == 404


async def test_a_checkout_id_that_is_not_a_stripe_id_is_refused_without_asking_stripe(
    stripe: StripePayments, fake: FakeStripe
) -> None:
    with pytest.raises(PaymentError, match="not a Stripe Checkout Session id"):
        await stripe.retrieve("../../v1/customers")
    assert fake.requests == []
