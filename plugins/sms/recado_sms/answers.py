"""What the gateway's answer to a send request means.

- 2xx: sent; the JSON ``id`` of the answer is the gateway's message id;
- 408, 425, 429 and 5xx: try again later, after ``Retry-After`` when given;
- 401 and 403: the token is refused: the destination is paused;
- 3xx, 404, 405 and 410: no send endpoint at this URL: the destination is paused;
- any other status (400, 422 …): this message is refused for good.

Reasons quote the gateway's error with the token blanked out and phone numbers masked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from hub.core.privacy import mask_phones_in
from hub.sinks import is_retry_status

__all__ = ["Answer", "Verdict", "verdict"]

EXCERPT_CHARS = 200
NOT_AN_ENDPOINT = frozenset({404, 405, 410})
CREDENTIALS_REFUSED = frozenset({401, 403})
#: Keys under which gateways put their error message, most specific first.
_ERROR_KEYS = ("error_description", "message", "detail", "error", "errors", "title")

Verdict = Literal["sent", "retry", "credentials", "endpoint", "refused"]


def verdict(status: int) -> Verdict:
    """How the sink treats HTTP `status` from the gateway."""
    if 200 <= status < 300:
        return "sent"
    if is_retry_status(status):
        return "retry"
    if status in CREDENTIALS_REFUSED:
        return "credentials"
    if status in NOT_AN_ENDPOINT or 300 <= status < 400:
        return "endpoint"
    return "refused"


def _flatten(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in _ERROR_KEYS:
            if key in value:
                return _flatten(value[key])
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "; ".join(_flatten(item) for item in value)
    return json.dumps(value, ensure_ascii=False)


def clean(text: str, secrets: Iterable[str]) -> str:
    """`text` on one line, at most 200 characters, secrets blanked out and phone numbers masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = mask_phones_in(" ".join(text.split()))
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


@dataclass(frozen=True)
class Answer:
    """The gateway's answer: status, the start of its body, and the headers that matter."""

    status: int
    body: bytes
    content_type: str | None = None
    retry_after: str | None = None

    def json(self) -> object:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None

    def message_id(self) -> str | None:
        """The gateway's id for the message: a top-level ``id`` (string or number) in a JSON answer."""
        parsed = self.json()
        if not isinstance(parsed, dict):
            return None
        value = parsed.get("id")
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            return None
        return str(value)[:EXCERPT_CHARS]

    def reason(self, secrets: Iterable[str]) -> str:
        """``HTTP 400: <the gateway's error>``, cleaned of secrets and numbers."""
        parsed = self.json()
        raw = _flatten(parsed) if parsed is not None else self.body.decode("utf-8", errors="replace")
        shown = clean(raw, secrets)
        return f"HTTP {self.status}: {shown}" if shown else f"HTTP {self.status}"
