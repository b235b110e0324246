"""A real SMTP server (aiosmtpd) on 127.0.0.1 playing the client's mail relay.

`SmtpPeer` implements `hub.testing.SinkPeer`: it can refuse a message for good
(550 after DATA), refuse a recipient (550 at RCPT), be unavailable for a number of
transactions (451 at MAIL FROM), and counts what it holds by `Message-ID`.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


@dataclass
class Received:
    """One message the server accepted."""

    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]
    authenticated: bool
    tls: bool


class _AnyPortController(Controller):
    """aiosmtpd's controller, bound to port 0 so the kernel picks a free port."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpPeer:
    """The fake mail relay: an aiosmtpd handler plus the controls the tests need."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.port = 0
        self.reset()

    # -- SinkPeer ---------------------------------------------------------
    def effects(self) -> dict[str, int]:
        """Message-ID's local part (the idempotency key) -> distinct Message-IDs held."""
        ids: dict[str, set[str]] = {}
        with self._lock:
            for item in self.received:
                message_id = str(item.message.get("Message-ID", "")).strip().strip("<>")
                key = message_id.split("@", 1)[0]
                ids.setdefault(key, set()).add(message_id)
        return {key: len(found) for key, found in ids.items()}

    def refuse(self, idempotency_key: str, reason: str) -> None:
        """Answer 550 to the DATA of the message of this key."""
        with self._lock:
            self._refused_keys[idempotency_key] = reason

    def unavailable(self, times: int, retry_after: float | None = None) -> None:
        """Answer 451 to the next `times` MAIL FROM (SMTP has no Retry-After)."""
        with self._lock:
            self._down = times

    def reset(self) -> None:
        """Forget messages, refusals and unavailability."""
        with self._lock:
            self.received = []
            self._refused_keys: dict[str, str] = {}
            self._refused_rcpts: dict[str, str] = {}
            self._down = 0

    # -- extra controls ----------------------------------------------------
    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        """Answer `reply` to RCPT TO of `address`."""
        with self._lock:
            self._refused_rcpts[address.lower()] = reply

    # -- aiosmtpd handler hooks ----------------------------------------------
    async def handle_MAIL(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self._lock:
            if self._down > 0:
                self._down -= 1
                return "451 4.3.2 System not accepting network messages, try later"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self._lock:
            reply = self._refused_rcpts.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(raw)
        key = str(message.get("Message-ID", "")).strip().strip("<>").split("@", 1)[0]
        with self._lock:
            if key in self._refused_keys:
                return f"550 5.7.1 {self._refused_keys[key]}"
            self.received.append(Received(
                message=message,  # type: ignore[arg-type]
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                authenticated=bool(session.authenticated),
                tls=server.transport.get_extra_info("ssl_object") is not None,
            ))
        return "250 2.0.0 OK: queued"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway certificate authority for the server's TLS certificate."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    """The CA certificate as a PEM file, as a client would configure it (`smtp.ca_file`)."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def start_smtp(ca: trustme.CA) -> Iterator[Callable[..., SmtpPeer]]:
    """Start an SMTP server: ``start_smtp(security="plain"|"starttls"|"tls", users={...})``."""
    controllers: list[Controller] = []

    def start(security: str = "plain", users: dict[str, str] | None = None) -> SmtpPeer:
        peer = SmtpPeer()
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(HOST, "localhost").configure_cert(server_ctx)
        # aiosmtpd only counts STARTTLS as TLS for AUTH; an implicit-TLS session is TLS too.
        kwargs: dict[str, Any] = {"auth_require_tls": security == "starttls"}
        if users:
            def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                             data: Any) -> AuthResult:
                ok = isinstance(data, LoginPassword) and (
                    users.get(data.login.decode()) == data.password.decode())
                return AuthResult(success=ok, handled=False)
            # Requiring AUTH is only allowed (without a warning) where TLS is required too.
            kwargs.update(authenticator=authenticate, auth_required=security == "starttls")
        if security == "starttls":
            kwargs.update(tls_context=server_ctx, require_starttls=True)
        controller = _AnyPortController(
            peer, hostname=HOST, port=0,
            ssl_context=server_ctx if security == "tls" else None, **kwargs,
        )
        controller.start()
        controllers.append(controller)
        peer.port = controller.port
        return peer

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections but never says a word (no SMTP greeting)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])
