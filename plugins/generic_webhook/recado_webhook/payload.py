"""The JSON events a webhook destination receives (``docs/schemas/record.v1.json``).

Every event is an object ``{"type", "schema", "timestamp", "data"}`` (plus
``"test": true`` for a test record), the shape the Standard Webhooks
specification recommends. ``data`` is the call record, or the object the
destination's mapping produced plus the ``record_id``, or a notice's fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import PydanticSerializationError, to_jsonable_python

from hub.core.models import Delivery
from recado_webhook.signing import batch_message_id, message_id

SCHEMA = "record.v1"
RECORD_CREATED = "call.record.created"
RECORD_UPDATED = "call.record.updated"
PING = "recado.ping"
BATCH = "recado.batch"

_EVENT_TYPE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


class PayloadError(ValueError):
    """One delivery cannot be turned into an event (its data, not the receiver, is at fault)."""


@dataclass(frozen=True)
class Event:
    """One event ready to send: its ``webhook-id``, its type and its JSON object."""

    msg_id: str
    type: str
    body: dict[str, Any]


def now_timestamp() -> str:
    """The current time as the events write it: ISO 8601, UTC, milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _record_data(delivery: Delivery) -> dict[str, Any]:
    record = delivery.record
    if record is None:
        raise PayloadError("a record delivery without a record")
    if not delivery.mapped:
        data: dict[str, Any] = record.model_dump(mode="json")
        return data
    try:
        mapped = to_jsonable_python(delivery.mapped)
    except PydanticSerializationError as exc:
        raise PayloadError(f"the mapped fields cannot be written as JSON: {exc}") from None
    # The record id is how receivers recognise a correction of a record they
    # already have, so it is always there, whatever the mapping says.
    return {**mapped, "record_id": record.record_id}


def _notice_type_and_data(delivery: Delivery) -> tuple[str, dict[str, Any]]:
    notice = dict(delivery.notice or {})
    notice_type = notice.pop("type", None)
    # The hub names a notice's event (e.g. service.interrupted); a
    # delivery that still carries the record default falls back to the notice's own type.
    if delivery.event_type and not delivery.event_type.startswith("call.record."):
        event_type: object = delivery.event_type
    else:
        event_type = notice_type
    if not isinstance(event_type, str) or not _EVENT_TYPE.match(event_type):
        raise PayloadError(f"a notice needs a type such as 'service.interrupted', got {event_type!r}")
    try:
        data = to_jsonable_python(notice)
    except PydanticSerializationError as exc:
        raise PayloadError(f"the notice cannot be written as JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("a notice must be an object")
    # Receivers recognise a notice sent twice by this id, as they do records by record_id.
    data["notice_id"] = delivery.idempotency_key
    return event_type, data


def event_for(delivery: Delivery, timestamp: str) -> Event:
    """The event for one delivery, or `PayloadError` when its data cannot be sent."""
    if delivery.kind == "notice":
        event_type, data = _notice_type_and_data(delivery)
    else:
        event_type = delivery.event_type or RECORD_CREATED
        if not _EVENT_TYPE.match(event_type):
            raise PayloadError(f"not an event type: {event_type!r}")
        data = _record_data(delivery)
    body: dict[str, Any] = {
        "type": event_type,
        "schema": SCHEMA,
        "timestamp": timestamp,
        "data": data,
    }
    if delivery.test:
        body["test"] = True
    return Event(msg_id=message_id(delivery.idempotency_key, event_type), type=event_type, body=body)


def batch_event(events: list[Event], timestamp: str) -> Event:
    """One ``recado.batch`` event carrying `events`, each with its own ``id`` to deduplicate on."""
    items = [{"id": event.msg_id, **event.body} for event in events]
    body = {"type": BATCH, "schema": SCHEMA, "timestamp": timestamp, "data": items}
    return Event(msg_id=batch_message_id(e.msg_id for e in events), type=BATCH, body=body)


def ping_event(msg_id: str, timestamp: str) -> Event:
    """The signed ``recado.ping`` event that `check()` sends; it carries no record."""
    body = {
        "type": PING,
        "schema": SCHEMA,
        "timestamp": timestamp,
        "data": {"message": "Recado checks that this endpoint accepts its signed webhooks."},
        "test": True,
    }
    return Event(msg_id=msg_id, type=PING, body=body)


def encode(event: Event) -> bytes:
    """The exact bytes that are signed and sent: compact UTF-8 JSON."""
    return json.dumps(event.body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
