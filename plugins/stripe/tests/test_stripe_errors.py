"""Stripe's errors as PaymentErrors: what happened, what to do, never a secret."""

from __future__ import annotations

import socket

import pytest
from checkout_requests import invoice_checkout
from fake_stripe import FakeStripe
from pydantic import SecretStr
from recado_stripe.config import StripeConfig
from recado_stripe.method import StripePayments

from hub.payments import PaymentError


async def test_a_declined_card_says_why(stripe: StripePayments, fake: FakeStripe) -> None:
    fake.fail_next(
        402, "card_error", "Your card was declined.", code="card_declined", decline_code="insufficient_funds"
    )
    with pytest.raises(PaymentError) as caught:
        await stripe.create_checkout(invoice_checkout())
    assert str(caught.value) == "the card was declined (card_declined, insufficient_funds): Your card was declined."
    assert not caught.value.retriable


async def test_an_invalid_request_names_the_parameter(stripe: StripePayments, fake: FakeStripe) -> None:
    fake.fail_next(400, "invalid_request_error", "Invalid email address: x", param="customer_email")
    with pytest.raises(PaymentError, match=r"\(400 invalid_request_error\) \(parameter customer_email\)"):
        await stripe.create_checkout(invoice_checkout())


async def test_a_refused_key_is_reported_without_any_part_of_it(config: StripeConfig, fake: FakeStripe) -> None:
    wrong = "sk_test_" + "WrongKeyWrongKeyWrong9876"
    method = StripePayments(config.model_copy(update={"api_key": SecretStr(wrong)}))
    try:
        with pytest.raises(PaymentError, match=r"refused the API key \(401\)") as caught:
            await method.create_checkout(invoice_checkout())
    finally:
        await method.aclose()
    assert "9876" not in str(caught.value) and "sk_test" not in str(caught.value)


async def test_rate_limiting_is_retriable_and_says_when(stripe: StripePayments, fake: FakeStripe) -> None:
    fake.fail_next(429, "invalid_request_error", "Too many requests.", retry_after=2)
    with pytest.raises(PaymentError, match=r"rate limiting requests \(429\) \(retry after 2 s\)") as caught:
        await stripe.retrieve("cs_test_any")
    assert caught.value.retriable


async def test_a_stripe_outage_is_retriable(stripe: StripePayments, fake: FakeStripe) -> None:
    fake.fail_next(503, "api_error", "Service unavailable.")
    with pytest.raises(PaymentError, match=r"unavailable \(503\)") as caught:
        await stripe.create_checkout(invoice_checkout())
    assert caught.value.retriable


async def test_an_unreachable_stripe_is_retriable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    method = StripePayments(StripeConfig(api_key=SecretStr("sk_test_x"), api_base=f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(PaymentError, match="cannot be reached") as caught:
            await method.create_checkout(invoice_checkout())
    finally:
        await method.aclose()
    assert caught.value.retriable


async def test_a_message_that_repeats_the_key_has_it_removed(stripe: StripePayments, fake: FakeStripe) -> None:
    fake.fail_next(400, "invalid_request_error", f"Something about {fake.api_key} went wrong.")
    with pytest.raises(PaymentError) as caught:
        await stripe.create_checkout(invoice_checkout())
    assert fake.api_key not in str(caught.value)
    assert "Something about *** went wrong." in str(caught.value)
