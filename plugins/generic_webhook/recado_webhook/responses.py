"""What a receiver's answer means: delivered, retry later, refused, or gone.

- 2xx: delivered (a JSON ``id`` in the answer becomes the remote id);
- 410 Gone: the endpoint no longer exists, the destination is disabled;
- 408, 425, 429 and 5xx: retry, after ``Retry-After`` when the receiver gives it;
- any other status: the receiver refused this item for good.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

EXCERPT_CHARS = 200
#: Statuses that mean "not now" rather than "not this": 408 Request Timeout, 425 Too Early,
#: 429 Too Many Requests.
RETRY_STATUSES = frozenset({408, 425, 429})

Verdict = Literal["delivered", "retry", "refused", "gone"]


def verdict(status: int) -> Verdict:
    """How the sink treats an HTTP `status` from the receiver."""
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    if status in RETRY_STATUSES or status >= 500:
        return "retry"
    return "refused"


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
        if math.isfinite(seconds):
            return max(0.0, seconds)
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are in GMT.
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def excerpt(text: str, secrets: Iterable[str] = ()) -> str:
    """A one-line excerpt of at most 200 characters of `text`, with every secret blanked out."""
    cleaned = text
    for secret in secrets:
        if secret:
            cleaned = cleaned.replace(secret, "[redacted]")
            # A receiver may echo the key without its prefix.
            bare = secret.removeprefix("whsec_")
            if len(bare) >= 8:
                cleaned = cleaned.replace(bare, "[redacted]")
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > EXCERPT_CHARS:
        cleaned = cleaned[: EXCERPT_CHARS - 1] + "…"
    return cleaned


def remote_id(body: bytes, content_type: str | None) -> str | None:
    """The receiver's id for what it stored: a top-level ``id`` in a JSON answer, if any."""
    if not body or (content_type is not None and "json" not in content_type.lower()):
        return None
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(parsed, dict):
        return None
    value = parsed.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return text[:EXCERPT_CHARS] if text else None


@dataclass(frozen=True)
class Answer:
    """What the receiver said: status, headers of interest and the start of the body."""

    status: int
    body: bytes
    content_type: str | None
    retry_after: str | None
    location: str | None = None

    def text(self, secrets: Iterable[str] = ()) -> str:
        """The body as a redacted excerpt, for reasons shown to operators and clients."""
        return excerpt(self.body.decode("utf-8", errors="replace"), secrets)

    def reason(self, secrets: Iterable[str] = ()) -> str:
        """``HTTP 422: <excerpt>``: how an answer is described in outcomes."""
        shown = self.text(secrets)
        return f"HTTP {self.status}: {shown}" if shown else f"HTTP {self.status}"
