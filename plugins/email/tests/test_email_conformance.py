"""The email sink passes the sink conformance suite against a real SMTP server
(STARTTLS with a login, so there is a secret to keep out of logs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from recado_email import EmailConfig, EmailSink, SmtpSettings

from hub.testing import SinkConformance

PASSWORD = "s3cr3t-Relay-Pa55"


class TestEmailSinkConformance(SinkConformance):
    peer_loggers = ("mail.log",)  # aiosmtpd's own log sees the whole conversation
    retry_after_supported = False

    @pytest.fixture
    def peer(self, start_smtp: Any) -> Any:
        return start_smtp("starttls", users={"acme-relay": PASSWORD})

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [PASSWORD]

    @pytest.fixture
    def sink(self, peer: Any, secrets: list[str], ca_file: Path) -> EmailSink:
        return EmailSink(EmailConfig(
            to=["rececao@acme.example", "gerencia@acme.example"],
            smtp=SmtpSettings(host="127.0.0.1", port=peer.port, security="starttls",
                              username="acme-relay", password=SecretStr(secrets[0]),
                              ca_file=ca_file, timeout=10),
        ))
