"""The `email` sink: one email per record or notice, over SMTP or into a Maildir."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from email.message import EmailMessage
from typing import ClassVar

from jinja2 import TemplateError

from hub.core.models import Delivered, Delivery, Failed, Outcome, Retry
from hub.sinks import DestinationError, Health, Sink
from recado_email.config import EmailConfig
from recado_email.maildir import MaildirTransport
from recado_email.phones import mask_phone
from recado_email.render import build_message, client_id, message_id_for
from recado_email.smtp import SmtpFailure, SmtpTransport

log = logging.getLogger(__name__)


class EmailSink(Sink):
    """Sends each delivery as its own email (text + HTML) to the destination's recipients.

    `Message-ID` is derived from the idempotency key, so a replayed record is the same
    email (mail clients show it once); in a Maildir a replay adds nothing at all.
    Failures: unreachable server or SMTP 4xx -> `Retry`; 5xx about the message or all
    its recipients -> `Failed`; refused login, refused sender, bad certificate ->
    `DestinationError`.
    """

    kind: ClassVar[str] = "email"
    max_batch: int = 1
    accepts_notices: ClassVar[bool] = True

    config: EmailConfig

    def __init__(self, config: EmailConfig) -> None:
        super().__init__(config)
        self.config = config
        self._smtp = SmtpTransport(config.smtp) if config.smtp else None
        self._maildir = MaildirTransport(config.maildir) if config.maildir else None

    async def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        """One email per delivery, one outcome each, in order."""
        return [await self._deliver_one(delivery) for delivery in batch]

    async def check(self) -> Health:
        """SMTP: connect, negotiate TLS and log in, without sending. Maildir: writable?"""
        if self._smtp is not None:
            return await self._smtp.check()
        assert self._maildir is not None  # the config guarantees one transport
        return await asyncio.to_thread(self._maildir.check)

    async def _deliver_one(self, delivery: Delivery) -> Outcome:
        key = delivery.idempotency_key
        about = _describe(delivery)
        try:
            message = build_message(
                delivery, sender=self.config.from_address, recipients=self.config.to
            )
        except (ValueError, TypeError, LookupError, TemplateError) as exc:
            log.warning("email for %s not rendered: %s", about, type(exc).__name__)
            return Failed(reason=f"the email for {key} cannot be rendered: {exc}")
        message_id = message_id_for(key, client_id(delivery))

        if self._maildir is not None:
            return await self._store(message, message_id, about)
        assert self._smtp is not None  # the config guarantees one transport
        try:
            refused = await self._smtp.send(message, self.config.from_address, self.config.to)
        except SmtpFailure as failure:
            if failure.verdict == "destination":
                log.error("email destination %s unusable: %s",
                          delivery.destination_id, failure.reason)
                raise DestinationError(failure.reason) from failure
            log.warning("email for %s not sent (%s): %s", about, failure.verdict, failure.reason)
            if failure.verdict == "retry":
                return Retry(reason=failure.reason)
            return Failed(reason=failure.reason)
        if refused:
            # Some recipients got it: sending again would give them a second copy.
            log.warning("email for %s refused by some recipients: %s", about, refused)
            return Delivered(remote_id=message_id, detail=f"not accepted for {refused}")
        log.info("email for %s sent to %d recipient(s)", about, len(self.config.to))
        return Delivered(remote_id=message_id, detail=f"sent via {self._smtp.where}")

    async def _store(
        self, message: EmailMessage, message_id: str, about: str
    ) -> Outcome:
        assert self._maildir is not None
        # `key.client`: unique like the Message-ID, and a valid Maildir file name.
        name = message_id.strip("<>").removesuffix(".recado").replace("@", ".")
        try:
            written = await asyncio.to_thread(self._maildir.store, name, message)
        except PermissionError as exc:
            raise DestinationError(f"the Maildir {self._maildir.path} is not writable: {exc}"
                                   ) from exc
        except OSError as exc:
            log.warning("email for %s not stored: %s", about, exc)
            return Retry(reason=f"cannot write to the Maildir {self._maildir.path}: {exc}")
        log.info("email for %s %s", about, "stored" if written else "already in the Maildir")
        return Delivered(remote_id=message_id,
                         detail="stored" if written else "already in the Maildir")


def _describe(delivery: Delivery) -> str:
    """How logs name a delivery: its key and, for a call, the masked caller."""
    if delivery.record is not None:
        return f"{delivery.idempotency_key} (caller {mask_phone(delivery.record.caller)})"
    notice_type = (delivery.notice or {}).get("type", "notice")
    return f"{delivery.idempotency_key} ({notice_type})"
