"""Settings of an `email` destination: recipients, sender, and SMTP or Maildir transport."""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveFloat,
    SecretStr,
    model_validator,
)

from hub.sinks import SinkConfig
from recado_email.schedule import parse_time

# A pragmatic addr-spec: dot-atom local part and a host name (ASCII; IDN domains in
# their xn-- form). Quoted local parts and address literals are not accepted on purpose:
# no client of the service needs them and they are a common source of typos.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")

_DEFAULT_PORTS = {"plain": 25, "starttls": 587, "tls": 465}


def check_address(value: str) -> str:
    """Return `value` stripped if it is an email address, else raise ValueError saying why."""
    address = value.strip()
    if not _ADDRESS.fullmatch(address) or len(address) > 254:
        raise ValueError(f"{value!r} is not an email address (expected name@example.com)")
    return address


EmailAddress = Annotated[str, AfterValidator(check_address)]
"""An email address, checked by `check_address` (errors name the list position)."""


def _check_time(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 13:00 as the number 780 (base 60).
        raise ValueError(f'{value} is not a time of day: write times in quotes, e.g. "13:00"')
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time of day (expected HH:MM)")
    parse_time(value)
    return value.strip()


DigestTime = Annotated[str, BeforeValidator(_check_time)]
"""A time of day written HH:MM (errors name the list position)."""
DEFAULT_DIGEST_TIMES = ("09:00", "13:00", "18:00")


class SmtpSettings(BaseModel):
    """How to reach the SMTP server that relays the emails."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["plain", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    timeout: PositiveFloat = 30.0
    ca_file: Path | None = None
    local_hostname: str | None = None

    @property
    def effective_port(self) -> int:
        """The configured port, or the usual one for the security mode (25, 587, 465)."""
        return self.port or _DEFAULT_PORTS[self.security]

    @classmethod
    def from_environment(cls) -> SmtpSettings:
        """The hub's default relay: `RECADO_SMTP_HOST` (default localhost), `_PORT`, `_SECURITY`,
        `_USERNAME`, `_PASSWORD`; plain SMTP to the local mail server when nothing is set."""
        env = os.environ
        username = env.get("RECADO_SMTP_USERNAME") or None
        password = env.get("RECADO_SMTP_PASSWORD") or None
        return cls.model_validate(
            {
                "host": env.get("RECADO_SMTP_HOST", "localhost"),
                "port": int(env["RECADO_SMTP_PORT"]) if env.get("RECADO_SMTP_PORT") else None,
                "security": env.get("RECADO_SMTP_SECURITY", "plain"),
                "username": username,
                "password": password,
            }
        )

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> SmtpSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("smtp.username and smtp.password go together: set both or neither")
        return self


class EmailConfig(SinkConfig):
    """Settings of an `email` destination.

    One transport: ``smtp`` (a relay) or ``maildir`` (a directory, used by the demo). With
    neither, the hub's default relay is used (`SmtpSettings.from_environment`).
    """

    to: list[EmailAddress] = Field(min_length=1)
    from_address: EmailAddress = "recado@localhost"
    smtp: SmtpSettings | None = None
    maildir: Path | None = None
    #: ``each``: one email per record, at once. ``digest``: one email per digest time
    #: listing every record since the previous one.
    delivery: Literal["each", "digest"] = "each"
    #: With ``delivery: digest``: when the digests go, "HH:MM" in Lisbon (09:00, 13:00, 18:00 if not set).
    digest_times: list[DigestTime] | None = None

    @property
    def digest_schedule(self) -> list[time]:
        """The digest times, in order (empty for ``delivery: each``)."""
        if self.delivery != "digest":
            return []
        return sorted({parse_time(value) for value in self.digest_times or DEFAULT_DIGEST_TIMES})

    @model_validator(mode="after")
    def _digest_times_with_digest(self) -> EmailConfig:
        if self.digest_times is not None and self.delivery != "digest":
            raise ValueError("digest_times: only used with `delivery: digest` (the default is `each`)")
        if self.digest_times is not None and not self.digest_times:
            raise ValueError("digest_times: give at least one time of day (HH:MM, Lisbon)")
        return self

    @model_validator(mode="after")
    def _one_transport(self) -> EmailConfig:
        if self.smtp is not None and self.maildir is not None:
            raise ValueError("set only one of `smtp` (a relay) or `maildir` (a directory)")
        if self.smtp is None and self.maildir is None:
            self.smtp = SmtpSettings.from_environment()
        return self
