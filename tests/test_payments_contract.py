"""The payment contract: payment methods registered by plugins, configured under [payments.<kind>]."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.core.registry import UnknownKind
from hub.payments import CheckoutRequest, PaymentMethod
from hub.plugins import Plugins
from hub.settings import Settings

PAYMENT_PLUGIN = """\
from typing import ClassVar

from pydantic import SecretStr

from hub import hookimpl
from hub.payments import PaymentConfig, PaymentMethod


class PostcardConfig(PaymentConfig):
    api_key: SecretStr
    region: str = "pt"


class Postcard(PaymentMethod):
    kind: ClassVar[str] = "{kind}"
    label: ClassVar[dict[str, str]] = {{"pt": "Postal", "en": "Postcard"}}


@hookimpl
def register_payment_methods(register):
    register("{kind}", Postcard, PostcardConfig)
"""

RAISES_IN_PAYMENT_HOOK = """\
from hub import hookimpl


@hookimpl
def register_payment_methods(register):
    raise RuntimeError("no merchant account")


@hookimpl
def register_mapping_filters(register):
    register("whisper", lambda value: str(value).lower())
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path for made-up plugin distributions."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def install(site: Path, name: str, source: str) -> None:
    """Install a distribution whose entry point `name` is a module with `source`."""
    module = f"recado_test_{name}_{uuid.uuid4().hex[:8]}"
    dist = site / f"{module}-1.0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0.0\n")
    (dist / "entry_points.txt").write_text(f"[recado]\n{name} = {module}\n")
    (site / f"{module}.py").write_text(source)


def test_a_plugin_registers_a_payment_method_listed_with_its_kind(site: Path) -> None:
    install(site, "postcard", PAYMENT_PLUGIN.format(kind="postcard"))
    plugins = Plugins(only={"postcard"})
    info = {i.name: i for i in plugins.list()}["postcard"]
    assert info.hooks == ["register_payment_methods"]
    assert info.as_dict()["kinds"]["payments"] == ["postcard"]
    assert plugins.registry.payment_kind("postcard").plugin == "postcard"


def test_the_hub_builds_a_payment_method_from_validated_settings(site: Path) -> None:
    install(site, "postcard", PAYMENT_PLUGIN.format(kind="postcard"))
    method = Plugins(only={"postcard"}).registry.build_payment_method("postcard", {"api_key": "k-123"})
    assert isinstance(method, PaymentMethod)
    assert method.config.api_key.get_secret_value() == "k-123"  # type: ignore[attr-defined]
    assert "k-123" not in repr(method)


def test_settings_of_a_payment_method_are_checked_by_its_model_without_repeating_them(site: Path) -> None:
    install(site, "postcard", PAYMENT_PLUGIN.format(kind="postcard"))
    registry = Plugins(only={"postcard"}).registry
    with pytest.raises(ValidationError, match="api_secret") as caught:
        registry.build_payment_method("postcard", {"api_key": "k-123", "api_secret": "s-456"})
    assert "s-456" not in str(caught.value)


def test_an_unknown_payment_method_names_the_installed_ones(site: Path) -> None:
    install(site, "postcard", PAYMENT_PLUGIN.format(kind="postcard"))
    with pytest.raises(UnknownKind, match=r"'pigeon' \(installed methods: postcard\)"):
        Plugins(only={"postcard"}).registry.build_payment_method("pigeon", {})


def test_a_payment_method_registered_twice_is_reported_on_the_second_plugin(site: Path) -> None:
    install(site, "one", PAYMENT_PLUGIN.format(kind="postcard"))
    install(site, "two", PAYMENT_PLUGIN.format(kind="postcard"))
    plugins = Plugins(only={"one", "two"})
    infos = {i.name: i for i in plugins.list()}
    assert plugins.registry.payment_kind("postcard").plugin == "one"
    assert infos["two"].errors == [
        "register_payment_methods raised ValueError: kind 'postcard' is already registered by one"
    ]


def test_a_failing_payment_hook_is_reported_and_the_plugins_other_hooks_still_run(site: Path) -> None:
    install(site, "flaky", RAISES_IN_PAYMENT_HOOK)
    plugins = Plugins(only={"flaky"})
    info = {i.name: i for i in plugins.list()}["flaky"]
    assert info.errors == ["register_payment_methods raised RuntimeError: no merchant account"]
    assert "whisper" in plugins.registry.filters
    assert plugins.registry.payments == {}


def test_payment_settings_merge_recado_toml_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recado.toml").write_text('[payments.stripe]\napi_base = "https://api.stripe.com"\n')
    monkeypatch.setenv("RECADO_PAYMENTS__STRIPE__API_KEY", "sk_test_FromTheEnvironment")
    payments = Settings().payments
    assert payments["stripe"]["api_base"] == "https://api.stripe.com"
    assert payments["stripe"]["api_key"].get_secret_value() == "sk_test_FromTheEnvironment"


def test_payment_credentials_in_settings_are_hidden_when_settings_are_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECADO_PAYMENTS__STRIPE__API_KEY", "sk_test_FromTheEnvironment")
    monkeypatch.setenv("RECADO_PAYMENTS__STRIPE__WEBHOOK_SECRET", "whsec_FromTheEnvironment")
    shown = repr(Settings())
    assert "FromTheEnvironment" not in shown


def test_a_checkout_is_for_a_positive_whole_number_of_cents() -> None:
    with pytest.raises(ValueError, match="positive integer number of cents"):
        CheckoutRequest(
            invoice_number="2026/000001",
            amount_cents=-100,
            description="x",
            success_url="https://hub.example/ok",
            cancel_url="https://hub.example/no",
            idempotency_key="2026/000001",
        )
