"""The settings of the ``stripe`` payment method (``[payments.stripe]`` in recado.toml)."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from hub.payments import PaymentConfig

DEFAULT_API_BASE = "https://api.stripe.com"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class StripeConfig(PaymentConfig):
    """Stripe credentials and where Stripe's API is.

    `api_key` is the account's secret key (``sk_live_…``, ``sk_test_…``) or a
    restricted key (``rk_…``) allowed to write Checkout Sessions; `webhook_secret`
    is the signing secret (``whsec_…``) of the webhook endpoint. Without it,
    payments are still confirmed when the applicant's browser comes back.
    """

    api_key: SecretStr
    webhook_secret: SecretStr | None = None
    #: Tests point this at a local fake; anything but loopback must be HTTPS (the key travels in it).
    api_base: str = DEFAULT_API_BASE
    currency: Literal["eur"] = "eur"
    timeout_s: float = Field(default=20.0, gt=0, le=120)
    #: Empty: the methods enabled in the Stripe dashboard; e.g. ``["card"]`` for cards only.
    payment_method_types: list[str] = Field(default_factory=list)

    @field_validator("api_key")
    @classmethod
    def _secret_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value().strip()
        if key.startswith("pk_"):
            raise ValueError(
                "this is a publishable key (pk_…); the hub needs the secret key (sk_…) or a restricted key"
            )
        if not key.startswith(("sk_", "rk_")):
            raise ValueError("expected a Stripe secret key (sk_live_…, sk_test_…) or restricted key (rk_…)")
        return SecretStr(key)

    @field_validator("webhook_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value().strip()
        if not secret.startswith("whsec_"):
            raise ValueError("expected the webhook endpoint's signing secret (whsec_…)")
        return SecretStr(secret)

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("expected an http(s) URL such as https://api.stripe.com")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise ValueError("must be https:// (the secret key is sent to it); plain http only for 127.0.0.1")
        return value.rstrip("/")
