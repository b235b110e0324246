"""A webhook destination's settings are validated with clear errors, secrets never shown."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from recado_webhook.config import WebhookConfig
from recado_webhook.signing import new_secret


def _config(secret: str, **settings: Any) -> WebhookConfig:
    return WebhookConfig.model_validate({"url": "https://crm.example.com/recado", "secret": secret, **settings})


def _error(secret: str, **settings: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        _config(secret, **settings)
    return str(caught.value)


def test_defaults_send_one_record_per_request_within_ten_seconds(secret: str) -> None:
    config = _config(secret)
    assert (config.max_batch, config.timeout, config.secrets, config.headers) == (1, 10.0, [], {})


def test_secret_is_hidden_from_repr(secret: str) -> None:
    config = _config(secret, secrets=[new_secret()])
    assert secret not in repr(config)
    assert secret not in str(config.model_dump())


def test_secret_without_whsec_prefix_is_refused_naming_the_field() -> None:
    message = _error("plain-password-value")
    assert "secret" in message and "whsec_" in message
    assert "plain-password-value" not in message


def test_rotation_secret_error_names_its_position(secret: str) -> None:
    message = _error(secret, secrets=["whsec_@@@"])
    assert "secrets[0]" in message and "base64" in message
    assert "whsec_@@@" not in message


def test_same_secret_twice_is_refused(secret: str) -> None:
    assert "listed twice" in _error(secret, secrets=[secret])


def test_url_must_be_http_or_https(secret: str) -> None:
    assert "url" in _error(secret, url="ftp://crm.example.com/recado")


def test_url_with_a_password_is_refused(secret: str) -> None:
    message = _error(secret, url="https://user:hunter2@crm.example.com/recado")
    assert "user name or password" in message and "hunter2" not in message


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://app.localhost/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.1.10/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://[fd00::1]/hook", "private"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://100.64.0.1/hook", "non-public"),
    ],
)
def test_non_public_address_is_refused(guarded: None, secret: str, url: str, kind: str) -> None:
    message = _error(secret, url=url)
    assert f"is a {kind} address" in message
    assert "RECADO_WEBHOOK_ALLOW_PRIVATE=true" in message


def test_private_address_is_accepted_when_the_operator_allows_it(allow_private: None, secret: str) -> None:
    assert _config(secret, url="http://127.0.0.1:8080/hook").url.host == "127.0.0.1"


def test_public_host_name_is_accepted_without_a_dns_lookup(guarded: None, secret: str) -> None:
    assert _config(secret, url="https://hooks.invalid/recado").url.host == "hooks.invalid"


def test_invalid_allow_private_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    monkeypatch.setenv("RECADO_WEBHOOK_ALLOW_PRIVATE", "perhaps")
    with pytest.raises(ValidationError, match="must be true or false"):
        _config(secret, url="http://127.0.0.1/hook")


@pytest.mark.parametrize("name", ["webhook-signature", "Content-Type", "Host"])
def test_headers_set_by_the_sink_cannot_be_replaced(secret: str, name: str) -> None:
    assert "is set by the webhook sink" in _error(secret, headers={name: "x"})


def test_credential_headers_are_refused_because_headers_are_stored_in_clear(secret: str) -> None:
    message = _error(secret, headers={"Authorization": "Bearer abc"})
    assert "credential" in message and "Bearer abc" not in message


def test_header_value_with_a_line_break_is_refused(secret: str) -> None:
    assert "line break" in _error(secret, headers={"X-Tenant": "a\r\nX-Evil: 1"})


def test_plain_extra_headers_are_kept(secret: str) -> None:
    assert _config(secret, headers={"X-Tenant": "acme"}).headers == {"X-Tenant": "acme"}


@pytest.mark.parametrize("max_batch", [0, 101])
def test_max_batch_is_between_1_and_100(secret: str, max_batch: int) -> None:
    assert "max_batch" in _error(secret, max_batch=max_batch)


def test_unknown_setting_is_refused(secret: str) -> None:
    assert "verify_tls" in _error(secret, verify_tls=False)
