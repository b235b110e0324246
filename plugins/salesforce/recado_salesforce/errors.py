"""What Salesforce's error answers mean for a delivery.

Whole-request errors become the sink vocabulary (`RetriableError`,
`DestinationError`); per-record errors of an sObject Collections answer become
`Retry` or `Failed` for that record only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from simple_salesforce.exceptions import SalesforceError

from hub.sinks import DestinationError, Failed, RetriableError, Retry, SinkError

#: Per-record codes that a later attempt can succeed on (contention, transient load).
RETRIABLE_RECORD_CODES = frozenset({
    "UNABLE_TO_LOCK_ROW",
    "SERVER_UNAVAILABLE",
    "REQUEST_RUNNING_TOO_LONG",
    "TXN_SECURITY_METERING_ERROR",
})
#: The org's daily API allowance (or the concurrent-request cap) is used up.
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
#: The access token expired or was revoked: sign in again.
INVALID_SESSION_ID = "INVALID_SESSION_ID"
#: Waiting out a cap on concurrent long requests takes seconds, not the daily window.
CONCURRENT_LIMIT_PAUSE_S = 30.0


#: Whole-request 400 codes caused by one record's values (a value of the wrong type):
#: the other records of the batch are fine once that one is set apart.
RECORD_DATA_CODES = frozenset({
    "JSON_PARSER_ERROR",
    "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "MALFORMED_ID",
    "STRING_TOO_LONG",
    "NUMBER_OUTSIDE_VALID_RANGE",
})


class BadRequest(SinkError):
    """Salesforce refused the whole request as malformed (HTTP 400)."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code

    @property
    def about_one_record(self) -> bool:
        """Whether the refusal comes from one record's values rather than the request's shape."""
        return self.code in RECORD_DATA_CODES


def retry_after_of(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date), if any."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_items(content: Any) -> list[dict[str, Any]]:
    """The `[{errorCode, message}]` items of an error body (REST answers a list)."""
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return []
    return [item for item in content if isinstance(item, dict)]


def error_code(content: Any) -> str:
    """The first `errorCode` of an error body, or an empty string."""
    for item in error_items(content):
        code = item.get("errorCode") or item.get("statusCode")
        if code:
            return str(code)
    return ""


def describe_errors(content: Any, *, with_message: bool = True) -> str:
    """`CODE: message; CODE: message` for an error body."""
    parts = []
    for item in error_items(content):
        code = str(item.get("errorCode") or item.get("statusCode") or "ERROR")
        message = str(item.get("message") or "").strip()
        fields = item.get("fields") or []
        where = f" [{', '.join(map(str, fields))}]" if fields else ""
        parts.append(f"{code}{where}: {message}" if with_message and message else f"{code}{where}")
    return "; ".join(parts) or "no error detail"


def translate(exc: SalesforceError, retry_after: float | None, limit_pause_s: float) -> SinkError:
    """The sink error for a whole-request failure answered by Salesforce."""
    status, content = exc.status, exc.content
    code = error_code(content)
    what = f"Salesforce {exc.resource_name or 'request'} answered HTTP {status}"
    if code == REQUEST_LIMIT_EXCEEDED:
        concurrent = "concurrent" in describe_errors(content).lower()
        pause = retry_after or (CONCURRENT_LIMIT_PAUSE_S if concurrent else limit_pause_s)
        return RetriableError(f"{what}: {describe_errors(content)}", after_s=pause)
    if status >= 500 or status == 429:
        return RetriableError(f"{what}: {describe_errors(content)}", after_s=retry_after)
    if status in (401, 403):
        return DestinationError(f"{what}: {describe_errors(content)} (check the connected app "
                                "policies, the user's profile and its API access)")
    if status == 404:
        return DestinationError(f"{what}: {describe_errors(content)} (check sobject, "
                                "external_id_field and api_version)")
    if status == 400:
        # The query echoes caller numbers in its message: keep only the code there.
        detail = describe_errors(content, with_message=code != "MALFORMED_QUERY")
        return BadRequest(f"{what}: {detail}", code)
    return DestinationError(f"{what}: {describe_errors(content)}")


def record_outcome(errors: Sequence[Any]) -> Retry | Failed:
    """The outcome of one record that an sObject Collections answer reports as failed."""
    items = error_items(list(errors))
    codes = {str(item.get("statusCode") or item.get("errorCode") or "") for item in items}
    reason = describe_errors(items)
    if codes and codes <= RETRIABLE_RECORD_CODES:
        return Retry(reason=f"Salesforce: {reason}")
    return Failed(reason=f"Salesforce refused the record: {reason}")
