"""What a receiver's answer means: delivered, retry later, refused, or gone.

- 2xx: delivered (a JSON ``id`` in the answer becomes the remote id);
- 410 Gone: the endpoint no longer exists, the destination is disabled;
- 408, 425, 429 and 5xx: retry, after ``Retry-After`` when the receiver gives it;
- any other status: the receiver refused this item for good.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from hub.sinks import is_retry_status

EXCERPT_CHARS = 200

Verdict = Literal["delivered", "retry", "refused", "gone"]


def verdict(status: int) -> Verdict:
    """How the sink treats an HTTP `status` from the receiver."""
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    if is_retry_status(status):
        return "retry"
    return "refused"


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
