"""The ``sms_reports`` source: the gateway's delivery reports and replies, fed to the hub as events.

The source has no connection of its own to keep: while it runs (``recado run`` with the
engine role), the hub's web server accepts ``POST /sms/reports`` (see `recado_sms.routes`)
and hands each signed post to `SmsReportsSource.receive`, which checks the signature,
finds the record the report is about and ingests the event. A bad post gets a 4xx answer
that says what was wrong, and is logged with numbers masked; it never stops the source.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator

from hub.core.models import CallEvent
from hub.core.privacy import mask_phone, mask_phones_in
from hub.core.secrets import SecretError, resolve_references
from hub.sources import HubPort, Source, SourceConfig
from recado_sms.reports import Reply, ReportError, StatusReport, parse, reply_event, status_event, verify

__all__ = ["MAX_BODY_BYTES", "Receipt", "RecordFinder", "SmsReportsConfig", "SmsReportsSource"]

log = logging.getLogger(__name__)

#: A report is a few hundred bytes; anything much larger is not one.
MAX_BODY_BYTES = 64 * 1024
#: ``find(record_id)`` → the record's ``(source, call_id)``, or None when there is no such record.
RecordFinder = Callable[[str], Awaitable[tuple[str, str] | None]]


class SmsReportsConfig(SourceConfig):
    """Settings of the ``sms_reports`` source (a ``[[sources]]`` table of recado.toml)."""

    secret: SecretStr = Field(
        description='The secret shared with the gateway that signs reports ({"$env": "NAME"} reads the environment).'
    )

    @field_validator("secret", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> Any:
        # recado.toml may name the secret instead of holding it, as client files do.
        if isinstance(value, dict):
            try:
                resolved, _ = resolve_references(value, base_dir=Path.cwd(), path=("secret",))
            except SecretError as exc:
                raise ValueError(f"secret: {exc}") from None
            return resolved
        return value

    @field_validator("secret")
    @classmethod
    def _strong(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("secret: use at least 16 characters shared with the gateway")
        return value


@dataclass(frozen=True)
class Receipt:
    """The answer to one post: an HTTP status and a JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, code: str, message: str, **headers: str) -> Receipt:
        """An error answer in the hub's shape, ``{"error": {"code", "message"}}``."""
        return cls(status, {"error": {"code": code, "message": message}}, dict(headers))


class SmsReportsSource(Source):
    """Turns the gateway's signed posts into events while it runs."""

    kind = "sms_reports"

    def __init__(self, config: SmsReportsConfig) -> None:
        super().__init__(config)
        self.config: SmsReportsConfig = config
        self._hub: HubPort | None = None

    @property
    def connected(self) -> bool:
        """Whether posts are being accepted (the source runs)."""
        return self._hub is not None

    async def run(self, hub: HubPort) -> None:
        """Accept posts for `hub` until cancelled."""
        self._hub = hub
        try:
            await asyncio.Event().wait()
        finally:
            self._hub = None

    async def receive(self, body: bytes, signature: str | None, find: RecordFinder) -> Receipt:
        """Check, translate and ingest one post; never raises for a bad post."""
        hub = self._hub
        if hub is None:
            return Receipt.error(503, "unavailable", "the sms_reports source is not running", **{"Retry-After": "30"})
        if len(body) > MAX_BODY_BYTES:
            message = f"the body has {len(body)} bytes; a report has at most {MAX_BODY_BYTES}"
            return self._refused(413, "too_large", message)
        if not verify(self.config.secret.get_secret_value(), body, signature):
            what = "is missing" if not signature else "does not match the body"
            message = f"the X-Signature header {what} (expected the hex HMAC-SHA256 of the body)"
            return self._refused(401, "unauthorized", message)
        try:
            report = parse(body)
        except ReportError as exc:
            return self._refused(400, "bad_request", str(exc))
        try:
            located = await self._locate(report, find)
            if isinstance(located, Receipt):
                return located
            event, described = located
            try:
                await hub.ingest(event)
            except ValueError as exc:
                return self._refused(422, "invalid", f"{described}: the hub refused it: {exc}")
        except Exception as exc:  # a database outage must not stop the source: the gateway sends again
            log.error(
                "sms report %s could not be processed: %s: %s", report.id, type(exc).__name__, mask_phones_in(str(exc))
            )
            return Receipt.error(500, "error", "the report could not be processed now; send it again later")
        log.info("%s: %s event ingested", described, event.kind.value)
        return Receipt(202, {"accepted": True, "event": event.kind.value, "call_id": event.call_id})

    async def _locate(self, report: StatusReport | Reply, find: RecordFinder) -> tuple[CallEvent, str] | Receipt:
        """The event `report` stands for and how to describe it in logs, or the answer refusing it."""
        if isinstance(report, Reply):
            answered = await find(report.reference) if report.reference is not None else None
            if report.reference is not None and answered is None:
                return self._refused(404, "not_found", f"reply {report.id}: no record {report.reference!r}")
            event = reply_event(report, answered)
            return event, f"reply {report.id} from {mask_phone(event.caller)}"
        found = await find(report.reference)
        if found is None:
            return self._refused(404, "not_found", f"report {report.id}: no record {report.reference!r}")
        described = f"report {report.id} ({report.status}) of record {report.reference}"
        return status_event(report, *found), described

    @staticmethod
    def _refused(status: int, code: str, message: str) -> Receipt:
        log.warning("sms report refused (HTTP %d): %s", status, mask_phones_in(message))
        return Receipt.error(status, code, message)
