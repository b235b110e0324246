"""A signed-in connection to one Salesforce org, through simple-salesforce.

Every call is synchronous (simple-salesforce uses requests); the sink runs them
in a worker thread, one at a time. An expired session is renewed once per
call, never in a loop, and a used-up API allowance pauses the connection.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
)

from hub.sinks import DestinationError, RetriableError, SinkError
from recado_salesforce.auth import fetch_token
from recado_salesforce.config import SalesforceConfig
from recado_salesforce.errors import REQUEST_LIMIT_EXCEEDED, error_code, retry_after_of, translate
from recado_salesforce.lookup import collect_matches, composite_bodies

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Describe:
    """The parts of an sObject's `describe()` that the sink relies on."""

    name: str
    fields: Mapping[str, Mapping[str, Any]]
    relationships: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Describe:
        """Build from Salesforce's describe answer."""
        fields = {str(f["name"]): f for f in body.get("fields") or [] if "name" in f}
        relationships = frozenset(
            str(f["relationshipName"]) for f in fields.values() if f.get("relationshipName"))
        return cls(name=str(body.get("name")), fields=fields, relationships=relationships)

    def writable(self, name: str) -> bool:
        """Whether a record can set `name` on create or update."""
        info = self.fields.get(name)
        return bool(info and (info.get("createable") or info.get("updateable")))

    def field_problem(self, name: str) -> str | None:
        """Why `name` cannot be a target field of this sObject, or None."""
        if name in self.relationships:
            return None
        info = self.fields.get(name)
        if info is None:
            return f"{self.name} has no field {name!r}"
        if not (info.get("createable") or info.get("updateable")):
            return f"{self.name}.{name} is read-only (neither createable nor updateable)"
        return None

    def external_id_problem(self, name: str) -> str | None:
        """Why `name` cannot be the upsert key of this sObject, or None."""
        info = self.fields.get(name)
        if info is None:
            return (f"{self.name} has no field {name!r}: create it as a Text field marked "
                    "'External ID' and 'Unique'")
        if not info.get("externalId"):
            return f"{self.name}.{name} is not marked as an External ID field"
        return None


def _json_default(value: object) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send a {type(value).__name__} to Salesforce")


class HttpSession(requests.Session):
    """A requests session whose configured CA bundle wins over REQUESTS_CA_BUNDLE.

    requests lets the environment's bundle override `Session.verify`; a destination
    that names its own bundle (a TLS-inspecting proxy, a test org) must get it.
    """

    def __init__(self, ca_bundle: str | None) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """Merge as requests does, then put the configured bundle back."""
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.ca_bundle:
            settings["verify"] = self.ca_bundle
        return settings


class OrgClient:
    """simple-salesforce, signed in with the destination's OAuth flow."""

    def __init__(self, config: SalesforceConfig) -> None:
        self.config = config
        self.http = HttpSession(config.ca_bundle)
        # simple-salesforce's errors drop the response headers: keep Retry-After here.
        self.http.hooks["response"].append(self._remember_headers)
        self._retry_after: float | None = None
        self._sf: Salesforce | None = None
        self._describes: dict[str, Describe] = {}
        self.paused_until = 0.0
        self.lock = threading.Lock()

    def _remember_headers(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._retry_after = retry_after_of(response.headers)

    @property
    def api_base(self) -> str:
        """`/services/data/vXX.X` of the configured API version."""
        return f"/services/data/v{self.config.api_version}"

    def connect(self) -> Salesforce:
        """Sign in (again) and return the client bound to the new session."""
        token = fetch_token(self.config, self.http)
        self._sf = Salesforce(
            instance_url=token.instance_url,
            session_id=token.access_token,
            version=self.config.api_version,
            session=self.http,
        )
        log.info("signed in to Salesforce at %s (%s flow)", token.instance_url,
                 self.config.auth.type)
        return self._sf

    def pause_remaining(self) -> float:
        """Seconds left in a pause after REQUEST_LIMIT_EXCEEDED (0 when not paused)."""
        return max(0.0, self.paused_until - time.monotonic())

    def call(self, what: Callable[[Salesforce], T]) -> T:
        """Run `what` with a signed-in client, renewing an expired session once."""
        remaining = self.pause_remaining()
        if remaining:
            raise RetriableError(
                "Salesforce API limit reached (REQUEST_LIMIT_EXCEEDED): destination paused",
                after_s=remaining)
        sf = self._sf or self.connect()
        try:
            return self._once(what, sf)
        except SalesforceExpiredSession:
            log.info("Salesforce session expired: signing in again")
        try:
            return self._once(what, self.connect())
        except SalesforceExpiredSession:
            raise DestinationError(
                "Salesforce refused a session it had just issued (INVALID_SESSION_ID): "
                "check the connected app's session policies") from None

    def _once(self, what: Callable[[Salesforce], T], sf: Salesforce) -> T:
        self._retry_after = None
        try:
            return what(sf)
        except SalesforceExpiredSession:
            raise
        except SalesforceError as exc:
            raise self._sink_error(exc) from None
        except requests.RequestException as exc:
            raise RetriableError(f"Salesforce unreachable: {type(exc).__name__}") from None

    def _sink_error(self, exc: SalesforceError) -> SinkError:
        error = translate(exc, self._retry_after, self.config.limit_pause_s)
        if error_code(exc.content) == REQUEST_LIMIT_EXCEEDED and isinstance(error, RetriableError):
            pause = error.after_s or self.config.limit_pause_s
            self.paused_until = time.monotonic() + pause
            log.warning("Salesforce API limit reached: pausing this destination for %.0f s", pause)
        return error

    def describe(self, sobject: str) -> Describe:
        """The sObject's describe, fetched once per connection."""
        cached = self._describes.get(sobject)
        if cached is None:
            body = self.call(lambda sf: sf.restful(f"sobjects/{sobject}/describe",
                                                   timeout=self.config.timeout_s))
            cached = self._describes[sobject] = Describe.from_json(body or {})
        return cached

    def forget_describe(self, sobject: str) -> None:
        """Drop a cached describe (the org's fields changed)."""
        self._describes.pop(sobject, None)

    def limits(self) -> dict[str, Any]:
        """The org's limits (daily API requests used and left)."""
        body = self.call(lambda sf: sf.restful("limits", timeout=self.config.timeout_s))
        return dict(body or {})

    def find_callers(self, numbers: Iterable[str]) -> dict[str, str]:
        """E.164 number -> Id of the Contact (preferred) or open Lead with that phone.

        Usually one request for the whole batch (see `recado_salesforce.lookup`); the
        numbers travel in the request body, out of URLs and access logs.
        """
        wanted = sorted({n for n in numbers if n})
        found: dict[str, str] = {}
        for body in composite_bodies(self.api_base, wanted) if wanted else []:
            data = json.dumps(body)
            answer = self.call(lambda sf, data=data: sf.restful(  # type: ignore[misc]
                "composite", method="POST", data=data, timeout=self.config.timeout_s))
            for sub in (answer or {}).get("compositeResponse", []):
                status = int(sub.get("httpStatusCode") or 0)
                if status >= 300:
                    raise self._sink_error(SalesforceGeneralError(
                        "composite", status, f"caller lookup ({sub.get('referenceId')})",
                        sub.get("body")))
                collect_matches((sub.get("body") or {}).get("records", []), wanted, found)
        if wanted:
            log.debug("caller lookup: %d of %d numbers matched", len(found), len(wanted))
        return found

    def upsert(self, sobject: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Upsert up to 200 records by the external id field: one sObject Collections call.

        With allOrNone false each record succeeds or fails alone; the answer lists one
        result (`id`, `success`, `created`, `errors`) per record, in order.
        """
        body = {
            "allOrNone": False,
            "records": [{"attributes": {"type": sobject}, **fields} for fields in records],
        }
        path = f"composite/sobjects/{sobject}/{self.config.external_id_field}"
        answer = self.call(lambda sf: sf.restful(
            path, method="PATCH", data=json.dumps(body, default=_json_default),
            timeout=self.config.timeout_s))
        if not isinstance(answer, list) or len(answer) != len(records):
            raise RetriableError(
                f"Salesforce answered {type(answer).__name__} instead of one result per record")
        return [dict(item) for item in answer]

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()
