"""Settings of an email destination, and the plugin's registration."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from recado_email import EmailConfig, EmailSink, SmtpSettings

SMTP = {"host": "smtp.acme.example"}


def test_a_bad_recipient_is_named_with_its_position() -> None:
    with pytest.raises(ValidationError) as error:
        EmailConfig(to=["ok@acme.example", "rececao.acme.example"], smtp=SMTP)

    [problem] = error.value.errors()
    assert problem["loc"] == ("to", 1)
    assert "'rececao.acme.example' is not an email address" in problem["msg"]


def test_recipients_are_required() -> None:
    with pytest.raises(ValidationError, match="to"):
        EmailConfig(to=[], smtp=SMTP)


def test_smtp_and_maildir_together_are_an_error() -> None:
    with pytest.raises(ValidationError, match="only one of `smtp`"):
        EmailConfig(to=["a@acme.example"], smtp=SMTP, maildir="/tmp/mail")


def test_without_a_transport_the_local_relay_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "SECURITY", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"RECADO_SMTP_{name}", raising=False)
    config = EmailConfig(to=["a@acme.example"])
    assert config.smtp is not None
    assert (config.smtp.host, config.smtp.effective_port, config.smtp.security) == ("localhost", 25, "plain")


def test_the_default_relay_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECADO_SMTP_HOST", "relay.example")
    monkeypatch.setenv("RECADO_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("RECADO_SMTP_USERNAME", "recado")
    monkeypatch.setenv("RECADO_SMTP_PASSWORD", "s3cret-pass")
    config = EmailConfig(to=["a@acme.example"])
    assert config.smtp is not None
    assert (config.smtp.host, config.smtp.effective_port) == ("relay.example", 587)
    assert "s3cret-pass" not in repr(config)


def test_unknown_settings_are_errors() -> None:
    with pytest.raises(ValidationError, match="subject"):
        EmailConfig.model_validate({"to": ["a@acme.example"], "smtp": SMTP, "subject": "x"})


def test_username_and_password_go_together() -> None:
    with pytest.raises(ValidationError, match=r"username and smtp\.password go together"):
        SmtpSettings(host="smtp.acme.example", username="relay")


def test_ports_default_to_the_security_mode() -> None:
    ports = [SmtpSettings(host="h", security=mode).effective_port
             for mode in ("plain", "starttls", "tls")]

    assert ports == [25, 587, 465]


def test_the_password_never_shows_in_reprs() -> None:
    config = EmailConfig(to=["a@acme.example"], smtp=SmtpSettings(
        host="h", username="relay", password=SecretStr("hunter2-relay")))

    assert "hunter2-relay" not in repr(config)
    assert "hunter2-relay" not in repr(EmailSink(config))
    assert "hunter2-relay" not in config.model_dump_json()


def test_the_plugin_registers_the_email_kind_through_its_entry_point() -> None:
    [entry] = [e for e in entry_points(group="recado") if e.name == "email"]
    registered: list[tuple[str, Any, Any]] = []

    entry.load().register_sinks(register=lambda *args: registered.append(args))

    assert registered == [("email", EmailSink, EmailConfig)]
    assert EmailSink.max_batch == 1 and EmailSink.accepts_notices
