"""The distribution as the hub sees it: an entry point registering the ``stripe`` payment method."""

from __future__ import annotations

from fake_stripe import FakeStripe
from recado_stripe.method import StripePayments

from hub.payments import PaymentMethod
from hub.plugins import Plugins


def test_the_plugin_registers_the_stripe_payment_method() -> None:
    plugins = Plugins(only={"stripe"})
    info = next(info for info in plugins.list() if info.name == "stripe")
    assert info.hooks == ["register_payment_methods"]
    assert info.as_dict()["kinds"]["payments"] == ["stripe"]
    assert info.errors == []


def test_the_hub_builds_the_method_from_its_settings(fake: FakeStripe) -> None:
    registry = Plugins(only={"stripe"}).registry
    method = registry.build_payment_method("stripe", {"api_key": fake.api_key, "api_base": fake.url})
    assert isinstance(method, StripePayments) and isinstance(method, PaymentMethod)
    assert method.label == {"pt": "Cartão", "en": "Card"}
