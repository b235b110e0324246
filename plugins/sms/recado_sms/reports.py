"""What the gateway posts back: delivery reports and replies, signed, turned into events.

The gateway signs each post with HMAC-SHA256 of the exact body under the shared secret,
hex-encoded in the ``X-Signature`` header (``sha256=`` in front is accepted). Two kinds of
JSON body are understood:

- a delivery report ``{"id": gateway id, "reference": record id, "status": "delivered" |
  "failed" | "expired" | "undelivered", "at": ISO time with offset, "error": optional}``,
  which becomes an ``sms_delivered`` (status ``delivered``) or ``sms_failed`` event of the
  record's call;
- a reply ``{"type": "reply", "id": gateway id, "from": number, "text": "STOP",
  "reference": optional record id of the message answered, "at": optional}``, which
  becomes an ``sms_delivered`` event carrying the text in ``raw["reply"]`` (campaigns
  treat STOP/PARAR as opt-outs): an event of the answered record's call when the gateway
  gives its reference, else of source ``campaigns`` and call ``reply-<gateway id>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Literal

import phonenumbers
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hub.core.models import CallEvent, EventKind

__all__ = [
    "REPLY_SOURCE",
    "SIGNATURE_HEADER",
    "Reply",
    "ReportError",
    "StatusReport",
    "parse",
    "reply_event",
    "sign",
    "status_event",
    "verify",
]

SIGNATURE_HEADER = "X-Signature"
#: Replies belong to no record: they go to the campaigns, which handle opt-outs.
REPLY_SOURCE = "campaigns"
_REPLY_PREFIX = "reply-"


class ReportError(ValueError):
    """A post that is not a report this source understands; the message says what was expected."""


def sign(secret: str, body: bytes) -> str:
    """The ``X-Signature`` value of `body`: hex HMAC-SHA256 under `secret`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` under `secret` (compared in constant time)."""
    if not header:
        return False
    given = header.strip().removeprefix("sha256=").lower()
    return hmac.compare_digest(given.encode(), sign(secret, body).encode())


class _Post(BaseModel):
    # Gateways add fields of their own; what is not used here is ignored.
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True, frozen=True)


class StatusReport(_Post):
    """A delivery report: what became of the message sent for record `reference`."""

    type: Literal["status"] = "status"
    id: str = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=200)
    status: Literal["delivered", "failed", "expired", "undelivered"]
    at: AwareDatetime
    error: str | None = Field(default=None, max_length=1000)


class Reply(_Post):
    """An SMS the recipient sent back."""

    type: Literal["reply"]
    id: str = Field(min_length=1, max_length=200 - len(_REPLY_PREFIX))
    sender: str = Field(alias="from", min_length=1, max_length=40)
    text: str = Field(max_length=2000)
    reference: str | None = Field(default=None, min_length=1, max_length=200)
    at: AwareDatetime | None = None


def _problems(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def parse(body: bytes) -> StatusReport | Reply:
    """The report or reply in `body`; ReportError naming the field and what was expected."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"the body is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ReportError("the body must be a JSON object")
    kind = data.get("type", "status")
    model: type[StatusReport] | type[Reply]
    if kind == "reply":
        model = Reply
        expected = 'a reply {"type": "reply", "id", "from", "text"}'
    elif kind == "status":
        model = StatusReport
        expected = 'a delivery report {"id", "reference", "status", "at"}'
    else:
        raise ReportError(f'unknown type {str(kind)[:40]!r}: expected "status" (the default) or "reply"')
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ReportError(f"not {expected}: {_problems(exc)}") from None


def status_event(report: StatusReport, source: str, call_id: str) -> CallEvent:
    """The event of the record's call (`source`, `call_id`) that `report` stands for."""
    kind = EventKind.SMS_DELIVERED if report.status == "delivered" else EventKind.SMS_FAILED
    return CallEvent(
        source=source,
        call_id=call_id,
        kind=kind,
        at=report.at,
        raw={"gateway_id": report.id, "status": report.status, "error": report.error},
    )


def _e164(number: str) -> str:
    """The sender's number in E.164 when it reads as one (Portuguese without a country code), else as given."""
    try:
        parsed = phonenumbers.parse(number, "PT")
    except phonenumbers.NumberParseException:
        return number.strip()
    if not phonenumbers.is_valid_number(parsed):
        return number.strip()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def reply_event(reply: Reply, answered: tuple[str, str] | None = None, now: datetime | None = None) -> CallEvent:
    """The event a reply stands for, of the `answered` record's ``(source, call_id)`` when known.

    Its time is the reply's, or `now` when the gateway gave none.
    """
    source, call_id = answered or (REPLY_SOURCE, f"{_REPLY_PREFIX}{reply.id}")
    return CallEvent(
        source=source,
        call_id=call_id,
        kind=EventKind.SMS_DELIVERED,
        at=reply.at or now or datetime.now(UTC),
        caller=_e164(reply.sender),
        raw={"reply": reply.text},
    )
