"""The HubSpot CRM requests this sink makes, through the official hubspot-api-client.

Every request goes through `HubSpotApi._send`, which counts it, spaces requests
out when HubSpot's rate-limit headers say the window is used up, and turns
HTTP failures into the sink error vocabulary:

- 429, 5xx, timeouts and connection errors: `RetriableError` (with the wait
  HubSpot asked for);
- 401 and 403: `DestinationError` (token revoked or scopes missing);
- any other 4xx for the whole request: `BatchRejected`, which the sink handles.

The client library is synchronous; the sink calls these methods in a thread.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3
from hubspot import HubSpot  # type: ignore[import-untyped]

from hub.sinks import DestinationError, RetriableError

from .config import HubSpotConfig
from .properties import e164, mask_numbers, national_digits

#: HubSpot-defined association types from calls and tasks to contacts.
TO_CONTACT = {"calls": 194, "tasks": 204}
#: Search returns at most this many objects per page.
SEARCH_PAGE = 200


class BatchRejected(Exception):
    """HubSpot refused a whole request with a 4xx other than 401/403/429."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HubSpot answered {status}: {message}")
        self.status = status
        self.message = message


@dataclass
class BatchResult:
    """Per-input outcome of one batch request, keyed by the input's trace id."""

    ids: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: Errors HubSpot did not attribute to an input.
    unattributed: list[str] = field(default_factory=list)


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    return None if value is None else str(value)


def _float(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def _error_message(body: Any) -> tuple[str, dict[str, Any]]:
    """HubSpot's error message (masked) and the parsed error body."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    if not isinstance(parsed, dict):
        parsed = {}
    message = str(parsed.get("message") or (body or "")[:200] or "no message")
    return mask_numbers(message), parsed


def _seconds_to_utc_midnight(now: datetime) -> float:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max((tomorrow - now).total_seconds(), 60.0)


def retry_after(headers: Any, body: Mapping[str, Any]) -> float:
    """How long to wait after a 429, from `Retry-After` or HubSpot's rate-limit headers."""
    explicit = _float(_header(headers, "Retry-After"))
    if explicit is not None:
        return max(explicit, 0.0)
    policy = str(body.get("policyName", "")).upper()
    if policy == "DAILY" or _header(headers, "X-HubSpot-RateLimit-Daily-Remaining") == "0":
        # The daily allowance resets at midnight; waiting less only burns attempts.
        return _seconds_to_utc_midnight(datetime.now(UTC))
    if policy == "SECONDLY" or _header(headers, "X-HubSpot-RateLimit-Secondly-Remaining") == "0":
        return 1.0
    interval_ms = _float(_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds"))
    return interval_ms / 1000 if interval_ms is not None else 10.0


class HubSpotApi:
    """The handful of HubSpot endpoints the sink uses, built once and reused."""

    def __init__(self, config: HubSpotConfig) -> None:
        self._config = config
        client = HubSpot(
            access_token=config.access_token.get_secret_value(),
            host=config.host,
            # Retries belong to the outbox (with backoff and dead letters); the
            # library only retries a refused connection once.
            retry=urllib3.util.Retry(
                total=1,
                connect=1,
                read=0,
                redirect=0,
                status=0,
                other=0,
                # Hand 429/503 back to the sink, which tells the outbox how long to wait.
                respect_retry_after_header=False,
            ),
        )
        self.contacts_search = client.crm.contacts.search_api
        self.contacts_batch = client.crm.contacts.batch_api
        self.batch = {
            "calls": client.crm.objects.calls.batch_api,
            "tasks": client.crm.objects.tasks.batch_api,
        }
        self.associations = client.crm.associations.v4.batch_api
        self.properties = client.crm.properties.core_api
        self.requests = 0
        self._lock = threading.Lock()
        self._not_before = 0.0

    def close(self) -> None:
        """Close the connection pools of every API object."""
        apis = [self.contacts_search, self.contacts_batch, self.associations, self.properties]
        for api in [*apis, *self.batch.values()]:
            api.api_client.rest_client.pool_manager.clear()
            api.api_client.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, what: str, call: Callable[..., Any], *args: Any) -> tuple[Any, int]:
        """Make one request; return the deserialized body and the HTTP status."""
        with self._lock:
            wait = self._not_before - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, self._config.max_rate_wait_s))
        with self._lock:
            self.requests += 1
        try:
            data, status, headers = call(*args, _request_timeout=self._config.timeout_s)
        except urllib3.exceptions.HTTPError as exc:
            raise RetriableError(f"HubSpot unreachable during {what}: {type(exc).__name__}") from None
        except Exception as exc:
            status = getattr(exc, "status", None)
            if not isinstance(status, int):
                raise
            self._raise_for(what, status, getattr(exc, "headers", None), getattr(exc, "body", None))
            raise  # pragma: no cover - _raise_for always raises
        self._pace(headers)
        return data, status

    def _pace(self, headers: Any) -> None:
        """Hold the next request back when the current rate-limit window is used up."""
        pause = 0.0
        if _header(headers, "X-HubSpot-RateLimit-Remaining") == "0":
            pause = (_float(_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")) or 0) / 1000
        if _header(headers, "X-HubSpot-RateLimit-Secondly-Remaining") == "0":
            pause = max(pause, 1.0)
        if pause:
            with self._lock:
                self._not_before = max(self._not_before, time.monotonic() + pause)

    def _raise_for(self, what: str, status: int, headers: Any, body: Any) -> None:
        message, parsed = _error_message(body)
        if status == 429:
            raise RetriableError(f"HubSpot rate limit during {what}: {message}", retry_after(headers, parsed))
        if status in (401, 403):
            raise DestinationError(f"HubSpot refused the token during {what} ({status}): {message}")
        if status >= 500 or status == 0:
            raise RetriableError(
                f"HubSpot error {status} during {what}: {message}",
                _float(_header(headers, "Retry-After")),
            )
        raise BatchRejected(status, message)

    @staticmethod
    def _batch(data: Any, key: Callable[[Mapping[str, Any]], str | None]) -> BatchResult:
        """Sort a batch response's results and errors by input trace id."""
        result = BatchResult()
        body = data.to_dict() if data is not None else {}
        for item in body.get("results") or []:
            # The echoed trace id first: HubSpot may reformat the values it stores.
            trace = item.get("object_write_trace_id") or key(item)
            if trace is not None:
                result.ids[str(trace)] = str(item["id"])
        for error in body.get("errors") or []:
            message = mask_numbers(str(error.get("message") or error.get("category") or "error"))
            traces = (error.get("context") or {}).get("objectWriteTraceId") or []
            for trace in traces:
                result.errors[str(trace)] = message
            if not traces:
                result.unattributed.append(message)
        return result

    # -- contacts ---------------------------------------------------------------------------

    def find_contacts(self, phones: Sequence[str]) -> dict[str, str]:
        """Contact id per phone (E.164) for the phones some contact has; the oldest contact wins.

        Contacts are searched by `phone` and `mobilephone` as E.164, and by HubSpot's
        calculated searchable numbers (digits without the country code), so that a
        number typed ``+351 912 345 678`` or ``912345678`` is found too; each hit is
        then checked by normalizing the number it holds.
        """
        found: dict[str, str] = {}
        wanted = sorted(set(phones))
        nationals = sorted({national_digits(p) for p in wanted})
        searched = [
            ("phone", wanted),
            ("mobilephone", wanted),
            ("hs_searchable_calculated_phone_number", nationals),
            ("hs_searchable_calculated_mobile_number", nationals),
        ]
        request: dict[str, Any] = {
            "filterGroups": [
                {"filters": [{"propertyName": name, "operator": "IN", "values": values}]} for name, values in searched
            ],
            "properties": ["phone", "mobilephone"],
            "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}],
            "limit": SEARCH_PAGE,
        }
        while True:
            data, _ = self._send("contact search", self.contacts_search.do_search_with_http_info, request)
            body = data.to_dict()
            for contact in body.get("results") or []:
                props = contact.get("properties") or {}
                for name in ("phone", "mobilephone"):
                    number = e164(props.get(name))
                    if number in wanted and number not in found:
                        found[number] = str(contact["id"])
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if after is None or len(found) == len(wanted):
                return found
            request = request | {"after": after}

    def create_contacts(self, inputs: Mapping[str, Mapping[str, str]]) -> BatchResult:
        """Create one contact per phone; `inputs` maps the phone to the contact's properties."""
        body = {"inputs": [{"properties": dict(props), "objectWriteTraceId": phone} for phone, props in inputs.items()]}
        data, _ = self._send("contact create", self.contacts_batch.create_with_http_info, body)
        return self._batch(data, lambda item: (item.get("properties") or {}).get("phone"))

    # -- calls and tasks --------------------------------------------------------------------

    def _key(self, item: Mapping[str, Any]) -> str | None:
        value = (item.get("properties") or {}).get(self._config.idempotency_property)
        return None if value is None else str(value)

    @staticmethod
    def _to_contact(kind: str, contact: str) -> dict[str, Any]:
        spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TO_CONTACT[kind]}
        return {"to": {"id": contact}, "types": [spec]}

    def create(self, kind: str, inputs: Mapping[str, tuple[Mapping[str, str], str | None]]) -> BatchResult:
        """Create `kind` objects keyed by idempotency key, each with its contact association inline."""
        body = {
            "inputs": [
                {"properties": dict(props), "objectWriteTraceId": key}
                | ({"associations": [self._to_contact(kind, contact)]} if contact else {})
                for key, (props, contact) in inputs.items()
            ]
        }
        data, _ = self._send(f"{kind} create", self.batch[kind].create_with_http_info, body)
        return self._batch(data, self._key)

    def upsert(self, kind: str, inputs: Mapping[str, Mapping[str, str]]) -> BatchResult:
        """Create or update `kind` objects by the idempotency property; `inputs` is keyed by its value."""
        prop = self._config.idempotency_property
        body = {
            "inputs": [
                {"idProperty": prop, "id": key, "properties": dict(props), "objectWriteTraceId": key}
                for key, props in inputs.items()
            ]
        }
        data, _ = self._send(f"{kind} upsert", self.batch[kind].upsert_with_http_info, body)
        return self._batch(data, self._key)

    def associate(self, kind: str, pairs: Mapping[str, str]) -> list[str]:
        """Associate `kind` object id -> contact id; return the errors HubSpot reported."""
        body = {
            "inputs": [{"from": {"id": source}} | self._to_contact(kind, contact) for source, contact in pairs.items()]
        }
        data, _ = self._send(f"{kind} association", self.associations.create_with_http_info, kind, "contacts", body)
        errors = (data.to_dict() if data is not None else {}).get("errors") or []
        return [mask_numbers(str(e.get("message") or "association error")) for e in errors]

    # -- properties -------------------------------------------------------------------------

    def object_property(self, kind: str, name: str) -> dict[str, Any] | None:
        """The definition of one property of `kind`, or None when it does not exist."""
        try:
            data, _ = self._send(f"{kind} property read", self.properties.get_by_name_with_http_info, kind, name)
        except BatchRejected as exc:
            if exc.status == 404:
                return None
            raise
        result: dict[str, Any] = data.to_dict()
        return result

    def object_properties(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every property definition of `kind` by internal name."""
        data, _ = self._send(f"{kind} property list", self.properties.get_all_with_http_info, kind)
        return {p["name"]: p for p in data.to_dict().get("results") or []}
