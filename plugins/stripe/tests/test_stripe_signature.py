"""Stripe-Signature verification and reading webhook events (t=…,v1=HMAC-SHA256 of "t.body")."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pydantic import SecretStr
from recado_stripe import signature
from recado_stripe.config import StripeConfig
from recado_stripe.method import StripePayments

from hub.payments import InvalidWebhook, PaymentEvent

SECRET = "whsec_" + "testSigningSecret0123456789"
BODY = b'{"id": "evt_1", "type": "checkout.session.completed"}'


def session(**overrides: Any) -> dict[str, Any]:
    """A paid Checkout Session of invoice 2026/000123 as Stripe sends it in events."""
    return {
        "id": "cs_test_a1",
        "object": "checkout.session",
        "payment_status": "paid",
        "status": "complete",
        "amount_total": 19065,
        "currency": "eur",
        "client_reference_id": "2026/000123",
        "metadata": {"invoice": "2026/000123"},
        "payment_intent": "pi_3abc",
        **overrides,
    }


def event(kind: str = "checkout.session.completed", **overrides: Any) -> bytes:
    """An event body of type `kind` about `session(**overrides)`."""
    return json.dumps(
        {"id": "evt_1", "object": "event", "type": kind, "data": {"object": session(**overrides)}}
    ).encode()


def method(webhook_secret: str | None = SECRET) -> StripePayments:
    """The payment method with `webhook_secret`; no request is made by these tests."""
    secret = SecretStr(webhook_secret) if webhook_secret else None
    return StripePayments(StripeConfig(api_key=SecretStr("sk_test_unused"), webhook_secret=secret))


def signed(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Headers of a webhook call carrying `body`, signed as Stripe does."""
    return {"stripe-signature": signature.header(secret, body, timestamp)}


def test_a_signature_made_with_the_endpoint_secret_is_accepted() -> None:
    now = int(time.time())
    assert signature.verify(SECRET, BODY, signature.header(SECRET, BODY, now)) == now


def test_the_signature_is_the_hmac_sha256_of_timestamp_dot_body() -> None:
    # Stripe's documented example shape: v1 = hex(HMAC_SHA256(secret, "<t>.<body>")).
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature.header(SECRET, BODY, 1700000000) == f"t=1700000000,v1={expected}"


def test_a_tampered_body_is_refused() -> None:
    header = signature.header(SECRET, BODY)
    with pytest.raises(InvalidWebhook, match="does not match"):
        signature.verify(SECRET, BODY.replace(b"evt_1", b"evt_2"), header)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidWebhook, match="does not match"):
        signature.verify(SECRET, BODY, signature.header("whsec_other", BODY))


def test_a_call_signed_more_than_five_minutes_ago_is_refused() -> None:
    old = int(time.time()) - 301
    with pytest.raises(InvalidWebhook, match="more than the 300 s allowed"):
        signature.verify(SECRET, BODY, signature.header(SECRET, BODY, old))


def test_a_call_signed_within_five_minutes_is_accepted() -> None:
    recent = int(time.time()) - 240
    assert signature.verify(SECRET, BODY, signature.header(SECRET, BODY, recent)) == recent


def test_a_missing_header_is_refused() -> None:
    with pytest.raises(InvalidWebhook, match="missing"):
        signature.verify(SECRET, BODY, None)


def test_a_header_without_a_v1_signature_is_refused() -> None:
    with pytest.raises(InvalidWebhook, match="needs t=… and v1=…"):
        signature.verify(SECRET, BODY, f"t={int(time.time())},v0=abc")


def test_one_matching_signature_among_several_is_enough_while_secrets_roll() -> None:
    now = int(time.time())
    header = f"t={now},v1={signature.compute('whsec_old', now, BODY)},v1={signature.compute(SECRET, now, BODY)}"
    assert signature.verify(SECRET, BODY, header) == now


def test_a_completed_session_becomes_a_paid_event_of_its_invoice() -> None:
    body = event()
    assert method().parse_webhook(body, signed(body)) == PaymentEvent(
        checkout_id="cs_test_a1",
        invoice_number="2026/000123",
        amount_cents=19065,
        paid=True,
        reference="pi_3abc",
        currency="EUR",
    )


def test_a_delayed_payment_that_succeeds_later_is_a_paid_event() -> None:
    body = event("checkout.session.async_payment_succeeded")
    parsed = method().parse_webhook(body, signed(body))
    assert parsed is not None and parsed.paid


def test_a_completed_session_still_waiting_for_a_delayed_payment_is_not_paid() -> None:
    body = event(payment_status="unpaid")
    parsed = method().parse_webhook(body, signed(body))
    assert parsed is not None and not parsed.paid


def test_events_the_hub_does_not_need_are_ignored() -> None:
    body = event("checkout.session.expired", payment_status="unpaid")
    assert method().parse_webhook(body, signed(body)) is None


def test_a_session_made_by_another_application_of_the_account_is_ignored() -> None:
    body = event(metadata={}, client_reference_id=None)
    assert method().parse_webhook(body, signed(body)) is None


def test_an_event_with_a_bad_signature_is_refused_before_it_is_read() -> None:
    body = event()
    with pytest.raises(InvalidWebhook):
        method().parse_webhook(body, signed(body, secret="whsec_attacker"))


def test_an_old_event_replayed_by_someone_else_is_refused() -> None:
    body = event()
    with pytest.raises(InvalidWebhook, match="ago"):
        method().parse_webhook(body, signed(body, timestamp=int(time.time()) - 3600))


def test_without_a_webhook_secret_no_webhook_is_trusted() -> None:
    body = event()
    with pytest.raises(InvalidWebhook, match="set webhook_secret"):
        method(webhook_secret=None).parse_webhook(body, signed(body))


def test_a_signed_body_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidWebhook, match="not JSON"):
        method().parse_webhook(b"<xml/>", signed(b"<xml/>"))
