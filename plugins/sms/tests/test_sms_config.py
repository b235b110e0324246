"""The settings of an sms destination: sender id, gateway URL, token, limits."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from recado_sms.config import SmsConfig
from recado_sms.sender import check_sender_id

TOKEN = "tok-Zr8Qm2Lx5Vn7Pw3K"


def settings(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"url": "https://sms.example.pt/v1/messages", "token": TOKEN, "sender_id": "ClinicaAcme"}
    base.update(overrides)
    return base


def error_of(**overrides: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        SmsConfig.model_validate(settings(**overrides))
    return str(caught.value)


@pytest.mark.parametrize("sender", ["ClinicaAcme", "Acme 24", "A", "Z9", "+351912345678", "+14155550123"])
def test_valid_sender_ids_are_accepted(sender: str) -> None:
    assert check_sender_id(sender) == sender


@pytest.mark.parametrize(
    ("sender", "says"),
    [
        ("ClinicaAcmeLx", "more than 11"),
        ("Clínica", "contains 'í'"),
        ("Acme-Lx", "contains '-'"),
        ("12345", "has no letter"),
        (" Acme", "starts or ends with a space"),
        ("", "is empty"),
        ("+351 912", "is not an E.164 number"),
        ("+0351912345678", "is not an E.164 number"),
    ],
)
def test_invalid_sender_ids_say_what_is_expected(sender: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_sender_id(sender)
    assert says in str(caught.value)
    assert "1 to 11 characters" in str(caught.value)


def test_a_bad_sender_id_is_reported_under_its_setting() -> None:
    message = error_of(sender_id="Clínica Acme Lisboa")
    assert "sender_id" in message
    assert "more than 11" in message


def test_the_gateway_must_be_reached_over_https() -> None:
    message = error_of(url="http://sms.example.pt/v1/messages")
    assert "url" in message and "https" in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:9025/v1/messages", "http://localhost:9025/send"])
def test_plain_http_is_allowed_on_this_machine(url: str) -> None:
    assert str(SmsConfig.model_validate(settings(url=url)).url) == url


def test_credentials_in_the_url_are_refused() -> None:
    assert "user name or password" in error_of(url="https://acme:pw@sms.example.pt/send")


def test_the_status_callback_must_be_https_too() -> None:
    assert "status_callback_url" in error_of(status_callback_url="http://hub.example.pt/sms/reports")


def test_max_segments_defaults_to_three_and_is_bounded() -> None:
    assert SmsConfig.model_validate(settings()).max_segments == 3
    assert "max_segments" in error_of(max_segments=0)


def test_an_empty_token_is_refused() -> None:
    assert "token is empty" in error_of(token="  ")


def test_unknown_settings_are_errors() -> None:
    assert "sender" in error_of(sender="Acme")


def test_the_token_never_appears_in_errors_or_repr() -> None:
    message = error_of(url="http://sms.example.pt/send", sender_id="x" * 20)
    assert TOKEN not in message
    config = SmsConfig.model_validate(settings())
    assert TOKEN not in repr(config) and TOKEN not in str(config)


def test_the_health_check_url_defaults_to_health_at_the_gateways_root() -> None:
    config = SmsConfig.model_validate(settings(url="http://127.0.0.1:9025/v1/messages"))
    assert config.health_url() == "http://127.0.0.1:9025/health"
    explicit = SmsConfig.model_validate(settings(check_url="https://sms.example.pt/v1/account"))
    assert explicit.health_url() == "https://sms.example.pt/v1/account"
