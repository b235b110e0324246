"""Sending over SMTP (plain, STARTTLS or implicit TLS, with AUTH) and what its errors mean.

SMTP's own vocabulary maps onto the sink's: a 4xx reply or a connection that cannot
be made is temporary (retry later), a 5xx reply about the message or all its
recipients is permanent for that record, and a refused login, a refused sender or a
certificate that does not verify make the whole destination unusable until someone
fixes its settings.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

from hub.sinks import Health
from recado_email.config import SmtpSettings

Verdict = Literal["retry", "record", "destination"]
"""How bad an SMTP failure is: retry later, refuse this record, or stop the destination."""


class SmtpFailure(Exception):
    """An SMTP exchange failed; `verdict` says what the sink should make of it."""

    def __init__(self, verdict: Verdict, reason: str) -> None:
        super().__init__(reason)
        self.verdict: Verdict = verdict
        self.reason = reason


class SmtpTransport:
    """One SMTP relay: opens a session per use, never keeps a connection idle."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.where = f"{settings.host}:{settings.effective_port}"

    async def send(self, message: EmailMessage, sender: str, recipients: list[str]) -> str:
        """Send `message`; return the refused recipients' replies ("" when all took it).

        Raises `SmtpFailure` when nobody got the message.
        """
        try:
            async with self._session() as client:
                refused, _ = await client.send_message(
                    message, sender=sender, recipients=recipients
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            replies = [(r.code, f"{r.recipient}: {r.code} {r.message}") for r in exc.recipients]
            temporary = any(400 <= code < 500 for code, _ in replies)
            raise SmtpFailure(
                "retry" if temporary else "record",
                "every recipient was refused: " + "; ".join(text for _, text in replies),
            ) from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            if 400 <= exc.code < 500:
                raise SmtpFailure("retry", f"sender deferred by {self.where}: "
                                           f"{exc.code} {exc.message}") from exc
            raise SmtpFailure("destination", f"sender {exc.sender} refused by {self.where}: "
                                             f"{exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPDataError as exc:
            verdict: Verdict = "retry" if 400 <= exc.code < 500 else "record"
            raise SmtpFailure(verdict, f"message refused by {self.where}: "
                                       f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise self._failure(exc) from exc
        return "; ".join(f"{rcpt}: {reply.code} {reply.message}" for rcpt, reply in refused.items())

    async def check(self) -> Health:
        """Connect, negotiate TLS and log in as configured, then quit without sending."""
        info = {"host": self.settings.host, "port": self.settings.effective_port,
                "security": self.settings.security,
                "authenticated": self.settings.username is not None}
        try:
            async with self._session():
                pass
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Health(ok=False, detail=self._failure(exc).reason, info=info)
        login = f", logged in as {self.settings.username}" if self.settings.username else ""
        return Health(ok=True, detail=f"connected to {self.where} "
                                      f"({self.settings.security}{login})", info=info)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[aiosmtplib.SMTP]:
        settings = self.settings
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.effective_port,
            use_tls=settings.security == "tls",
            # "plain" means plain: no opportunistic upgrade the settings did not ask for.
            start_tls=settings.security == "starttls",
            timeout=settings.timeout,
            tls_context=self._tls_context(),
            local_hostname=settings.local_hostname,
        )
        try:
            await client.connect()
            if settings.username is not None and settings.password is not None:
                await client.login(settings.username, settings.password.get_secret_value())
            yield client
        finally:
            await _close(client)

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.settings.security == "plain":
            return None
        ca_file = self.settings.ca_file
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    def _failure(self, exc: BaseException) -> SmtpFailure:
        """Classify an error of the connection, TLS, greeting or login."""
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return SmtpFailure("destination", f"login as {self.settings.username} refused by "
                                              f"{self.where}: {exc.code} {exc.message}")
        if _caused_by(exc, ssl.SSLCertVerificationError):
            return SmtpFailure("destination", f"the TLS certificate of {self.where} "
                                              f"does not verify: {exc}")
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            verdict: Verdict = "retry" if 400 <= exc.code < 500 else "destination"
            return SmtpFailure(verdict, f"{self.where} answered {exc.code} {exc.message}")
        if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
            return SmtpFailure("retry", f"SMTP server {self.where} timed out: {exc}")
        if isinstance(exc, OSError):  # refused, reset, disconnected, no route
            return SmtpFailure("retry", f"SMTP server {self.where} is unreachable: {exc}")
        # What is left is the server lacking something the settings require
        # (STARTTLS, AUTH): retrying cannot help, the settings must change.
        return SmtpFailure("destination", f"{self.where} does not support what the settings "
                                          f"ask for: {exc}")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _close(client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        # The server went away mid-goodbye; the message (if any) was already accepted.
        client.close()
