"""The settings of [payments.stripe]: clear errors that never repeat a secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from recado_stripe.config import StripeConfig
from recado_stripe.method import StripePayments

KEY = "sk_live_" + "SecretValue1234567890"


def test_the_defaults_talk_to_stripe_in_euros() -> None:
    config = StripeConfig.model_validate({"api_key": KEY})
    assert (config.api_base, config.currency, config.webhook_secret) == ("https://api.stripe.com", "eur", None)


def test_a_publishable_key_is_refused_with_what_is_needed_instead() -> None:
    with pytest.raises(ValidationError, match="publishable key") as caught:
        StripeConfig.model_validate({"api_key": "pk_live_PublicValue123"})
    assert "PublicValue123" not in str(caught.value)


def test_a_webhook_secret_must_be_the_endpoint_signing_secret() -> None:
    with pytest.raises(ValidationError, match="whsec_") as caught:
        StripeConfig.model_validate({"api_key": KEY, "webhook_secret": "NotASigningSecret42"})
    assert "NotASigningSecret42" not in str(caught.value)


def test_the_key_is_never_sent_over_plain_http_to_another_host() -> None:
    with pytest.raises(ValidationError, match="must be https://"):
        StripeConfig.model_validate({"api_key": KEY, "api_base": "http://stripe.example"})


def test_plain_http_is_allowed_to_a_local_fake() -> None:
    config = StripeConfig.model_validate({"api_key": KEY, "api_base": "http://127.0.0.1:8111/"})
    assert config.api_base == "http://127.0.0.1:8111"


def test_unknown_settings_are_errors() -> None:
    with pytest.raises(ValidationError, match="secret_key"):
        StripeConfig.model_validate({"api_key": KEY, "secret_key": KEY})


def test_neither_the_settings_nor_the_method_show_the_key() -> None:
    config = StripeConfig.model_validate({"api_key": KEY, "webhook_secret": "whsec_Signing987"})
    method = StripePayments(config)
    shown = f"{config!r} {config} {method!r} {config.model_dump()}"
    assert "SecretValue" not in shown and "Signing987" not in shown
