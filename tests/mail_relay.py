"""A real SMTP server (aiosmtpd) on 127.0.0.1 playing the operator's mail relay.

Mail the hub writes to clients (reminders, welcome, reports, notices) goes through the
`email` sink to the relay named by `RECADO_SMTP_*`; the `mail_relay` fixture starts
one and points those variables at it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session


class AnyPortController(Controller):
    """aiosmtpd's controller, bound to port 0 so the kernel picks a free port."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class MailRelay:
    """Collects every message it accepts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        """Accept the message and keep it, parsed."""
        raw = envelope.original_content or envelope.content or b""
        parsed = BytesParser(policy=policy.default).parsebytes(bytes(raw) if not isinstance(raw, str) else raw.encode())
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self._messages.append(parsed)
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages accepted so far, in order."""
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to `address`."""
        return [message for message in self.messages if address in str(message["To"])]


@pytest.fixture
def mail_relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailRelay]:
    """A running relay, with `RECADO_SMTP_HOST`/`_PORT`/`_SECURITY` pointing at it."""
    relay = MailRelay()
    controller = AnyPortController(relay, hostname="127.0.0.1", port=0)
    controller.start()
    relay.port = controller.port
    monkeypatch.setenv("RECADO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RECADO_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("RECADO_SMTP_SECURITY", "plain")
    try:
        yield relay
    finally:
        controller.stop()
