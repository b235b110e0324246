"""The `email` sink: one email per record or notice, over SMTP or into a Maildir."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import ClassVar

from jinja2 import TemplateError

from hub.core.models import Delivered, Delivery, Failed, Outcome, Retry
from hub.sinks import DestinationError, Health, Sink
from recado_email.config import EmailConfig
from recado_email.digest import DigestItem, build_digest, digest_item, digest_language, digest_message_id
from recado_email.maildir import MaildirTransport
from recado_email.phones import mask_phone
from recado_email.render import build_message, client_id, message_id_for
from recado_email.schedule import next_time
from recado_email.smtp import SmtpFailure, SmtpTransport

log = logging.getLogger(__name__)

#: The most records one digest email lists (the worker's default claim size).
DIGEST_MAX_BATCH = 500


class EmailSink(Sink):
    """Sends each delivery as its own email (text + HTML) to the destination's recipients.

    With ``delivery: digest`` records wait for the next digest time (`release_at`) and
    every record released then goes in one email; notices still go at once, one each.

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
        self._digest_times = config.digest_schedule
        if self._digest_times:
            # The whole digest in one batch (as much as a worker claims at once).
            self.max_batch = DIGEST_MAX_BATCH
        self._smtp = SmtpTransport(config.smtp) if config.smtp else None
        self._maildir = MaildirTransport(config.maildir) if config.maildir else None

    def release_at(self, kind: str, due_at: datetime | None) -> datetime | None:
        """Digest: a record waits for the first digest time at or after it was due. Else at once."""
        if not self._digest_times or kind != "record" or due_at is None:
            return None
        return next_time(self._digest_times, due_at)

    async def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        """One email per delivery, one outcome each, in order; a digest's records in one email."""
        if not self._digest_times:
            return [await self._deliver_one(delivery) for delivery in batch]
        outcomes: list[Outcome | None] = [None] * len(batch)
        listed: list[int] = []
        items: list[DigestItem] = []
        lang = digest_language(batch) if batch else "pt"
        for index, delivery in enumerate(batch):
            if delivery.kind != "record":
                outcomes[index] = await self._deliver_one(delivery)
                continue
            try:
                items.append(digest_item(delivery, lang))
            except (ValueError, TypeError, LookupError) as exc:
                outcomes[index] = Failed(reason=f"the record {delivery.idempotency_key} cannot be rendered: {exc}")
                continue
            listed.append(index)
        if listed:
            shared = await self._deliver_digest([batch[index] for index in listed], items)
            for index in listed:
                outcomes[index] = shared
        return [outcome if outcome is not None else Retry(reason="not sent") for outcome in outcomes]

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
        return await self._send(message, message_id, about, delivery.destination_id)

    async def _deliver_digest(self, deliveries: list[Delivery], items: list[DigestItem]) -> Outcome:
        """One email listing `deliveries`: one outcome, shared by all of them."""
        about = f"a digest of {len(deliveries)} record(s) for {client_id(deliveries[0])}"
        try:
            message = build_digest(deliveries, items, sender=self.config.from_address, recipients=self.config.to)
        except (ValueError, TypeError, LookupError, TemplateError) as exc:
            log.warning("email for %s not rendered: %s", about, type(exc).__name__)
            return Failed(reason=f"the digest cannot be rendered: {exc}")
        return await self._send(message, digest_message_id(deliveries), about, deliveries[0].destination_id)

    async def _send(self, message: EmailMessage, message_id: str, about: str, destination_id: str) -> Outcome:
        if self._maildir is not None:
            return await self._store(message, message_id, about)
        assert self._smtp is not None  # the config guarantees one transport
        try:
            refused = await self._smtp.send(message, self.config.from_address, self.config.to)
        except SmtpFailure as failure:
            if failure.verdict == "destination":
                log.error("email destination %s unusable: %s",
                          destination_id, failure.reason)
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
