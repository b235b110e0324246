"""The sink contract: how a plugin delivers records to one kind of platform.

A sink receives a batch of at most `max_batch` deliveries and answers with one
`Outcome` per delivery, in the same order. It may also raise one of the errors
below for the whole batch:

- `RetriableError`: nothing was delivered, try the whole batch again later
  (timeouts, 5xx, 429 with its `Retry-After`).
- `DestinationError`: the destination itself is unusable (bad credentials,
  gone): the core pauses it and tells the operator.

A problem with one record's data is not an exception: return `Failed(reason)`
for that record and keep the batch going.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from hub.core.models import Delivered, Delivery, Failed, Outcome, Retry

__all__ = [
    "RETRY_STATUSES",
    "Delivered",
    "Delivery",
    "DestinationError",
    "Failed",
    "Health",
    "Outcome",
    "RetriableError",
    "Retry",
    "Sink",
    "SinkConfig",
    "SinkError",
    "is_retry_status",
    "parse_retry_after",
    "read_at_most",
]

#: Statuses that mean "not now" rather than "not this": 408 Request Timeout, 425 Too Early,
#: 429 Too Many Requests.
RETRY_STATUSES = frozenset({408, 425, 429})


class SinkError(Exception):
    """Base of the errors a sink raises for a whole batch."""


class RetriableError(SinkError):
    """Nothing in the batch was delivered; try again, after `after_s` seconds if given."""

    def __init__(self, reason: str, after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after_s = after_s


class DestinationError(SinkError):
    """The destination cannot take anything (bad credentials, gone): pause it."""

    def __init__(self, reason: str, *, disable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.disable = disable


class SinkConfig(BaseModel):
    """Base of every sink's settings model; unknown settings are errors.

    Validation errors never repeat the input: it may be a secret.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


@dataclass(frozen=True)
class Health:
    """Result of `Sink.check()`: can the destination be reached with these settings?"""

    ok: bool
    detail: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)


class Sink:
    """Base class of sinks. Subclasses set `kind` and `max_batch` and implement `deliver`."""

    kind: ClassVar[str] = ""
    #: The most deliveries one `deliver` call takes; a sink may set it per destination.
    max_batch: int = 1
    accepts_notices: ClassVar[bool] = False
    #: A sink that sends messages to people (SMS) rather than records to a platform:
    #: its destinations receive only records of channel "sms", whose text it sends.
    sends_messages: ClassVar[bool] = False

    def __init__(self, config: SinkConfig) -> None:
        self.config = config

    async def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        """Deliver `batch` (at most `max_batch` items); one outcome per item, in order."""
        raise NotImplementedError

    def release_at(self, kind: str, due_at: datetime | None) -> datetime | None:
        """When an item of `kind` ("record" or "notice") due at `due_at` may go, if later than that.

        None (the default): at once. A sink that sends on a schedule (an email digest)
        answers with its next scheduled time: the worker gives the row back until then, so
        that every item released at that time reaches `deliver` in the same batch (up to
        `max_batch`). Only first attempts are held; retries keep their own schedule.
        """
        return None

    async def check(self) -> Health:
        """Check credentials and connectivity without delivering anything."""
        return Health(ok=True, detail="no check implemented for this sink")

    def preview(self, delivery: Delivery) -> dict[str, Any]:
        """What this sink would send for `delivery`, without sending anything.

        Sinks override it to show their platform's own payload; the default shows
        the record and the fields its mapping computed.
        """
        record = delivery.record.model_dump(mode="json") if delivery.record else None
        return {"event_type": delivery.event_type, "record": record, "mapped": delivery.mapped}

    def validate(self, mapping: Mapping[str, str]) -> list[str]:
        """Return the problems with `mapping`'s target fields (empty when it is valid)."""
        return []

    async def aclose(self) -> None:
        """Release connections; called when the worker stops using this sink."""

    def __repr__(self) -> str:
        # Settings may hold secrets: never show them.
        return f"<{type(self).__name__} kind={self.kind!r}>"


def is_retry_status(status: int) -> bool:
    """Whether an HTTP `status` from a platform means "try again later": 408, 425, 429 or any 5xx."""
    return status in RETRY_STATUSES or status >= 500


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay in seconds or HTTP date).

    Returns None when the header is absent or unreadable, and 0 for a date in the past.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # RFC 9110 dates are in GMT
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def read_at_most(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """The first `limit` bytes of a streamed answer (e.g. `httpx.Response.aiter_raw()`), reading no further.

    A platform's answer is read for an id or an error message; a flood is cut off.
    """
    received = bytearray()
    async for chunk in chunks:
        received.extend(chunk)
        if len(received) >= limit:
            break
    return bytes(received[:limit])
