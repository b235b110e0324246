"""The fake org's behaviour: OAuth, describe, query, composite and Collections upsert.

Answers follow Salesforce's REST API: error bodies are `[{"errorCode", "message"}]`,
Collections upserts answer one `{"id", "success", "created", "errors"}` per record,
and a whole request is refused (HTTP 400) when a record cannot even be read
(an unknown field, a value of the wrong type).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from recado_salesforce.testing.schema import KEY_PREFIXES, RECADO_FIELD, describes
from recado_salesforce.testing.schema import required_on_create as _required
from recado_salesforce.testing.soql import SoqlError, parse

Answer = tuple[int, dict[str, str], Any]
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DAILY_MAX = 15_000
_DATA = re.compile(r"^/services/data/v(?P<version>\d+\.\d)(?P<rest>/.*)?$")


def _errors(code: str, message: str) -> list[dict[str, Any]]:
    return [{"errorCode": code, "message": message}]


def _record_error(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"success": False, "errors": [
        {"statusCode": code, "message": message, "fields": fields or []}]}


class OrgState:
    """Everything the fake org holds and the failures it was told to produce."""

    def __init__(self, *, consumer_key: str, username: str, public_key: bytes | None,
                 consumer_secret: str | None) -> None:
        self.consumer_key = consumer_key
        self.username = username
        self.public_key = public_key
        self.consumer_secret = consumer_secret
        self.base_url = ""
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every record, session, count and pending failure."""
        with self.lock:
            self.describes = describes()
            self.rows: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in self.describes}
            self.tokens: set[str] = set()
            self.requests: Counter[str] = Counter()
            self.subrequests: Counter[str] = Counter()
            # (sObject, external id field, value) -> Id: upserts find their record at once.
            self.by_key: dict[tuple[str, str, str], str] = {}
            self.api_requests = 0
            self.refused: dict[str, str] = {}
            self.locked: Counter[str] = Counter()
            self.down: list[float | None] = []
            self.limit_hits: list[str] = []
            self.sessions_die_at_once = False
            self.broken: set[tuple[str, str]] = set()
            self._serial = 0

    # ------------------------------------------------------------ dispatch

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """Answer one HTTP request: (status, headers, JSON-able body)."""
        with self.lock:
            parts = urlsplit(target)
            if self.down:
                retry_after = self.down.pop(0)
                extra = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
                self.requests["unavailable"] += 1
                return 503, extra, _errors("SERVER_UNAVAILABLE", "Server temporarily unavailable")
            if parts.path == "/services/oauth2/token" and method == "POST":
                self.requests["token"] += 1
                return self._token(parse_qs(body.decode()))
            m = _DATA.match(parts.path)
            if not m:
                return 404, {}, _errors("NOT_FOUND", "The requested resource does not exist")
            self.api_requests += 1
            usage = {"Sforce-Limit-Info": f"api-usage={self.api_requests}/{DAILY_MAX}"}
            auth = headers.get("Authorization") or headers.get("authorization") or ""
            if auth.removeprefix("Bearer ") not in self.tokens:
                self.requests["expired"] += 1
                return 401, usage, _errors("INVALID_SESSION_ID", "Session expired or invalid")
            if self.limit_hits:
                what = self.limit_hits.pop(0)
                self.requests["limited"] += 1
                return 403, usage, _errors("REQUEST_LIMIT_EXCEEDED", f"{what} Limit exceeded.")
            payload = json.loads(body) if body else None
            status, extra, answer = self._route(method, m["rest"] or "/", parts.query, payload)
            return status, {**usage, **extra}, answer

    def _route(self, method: str, path: str, query: str, payload: Any,
               count: Counter[str] | None = None) -> Answer:
        count = self.requests if count is None else count
        segments = [s for s in path.split("/") if s]
        if method == "GET" and segments[:1] == ["limits"]:
            count["limits"] += 1
            return 200, {}, {"DailyApiRequests": {"Max": DAILY_MAX,
                                                  "Remaining": DAILY_MAX - self.api_requests}}
        if method == "GET" and len(segments) == 3 and segments[0] == "sobjects" \
                and segments[2] == "describe":
            count["describe"] += 1
            found = self.describes.get(segments[1])
            if found is None:
                return 404, {}, _errors("NOT_FOUND", "The requested resource does not exist")
            return 200, {}, found
        if method == "GET" and segments[:1] == ["query"]:
            count["query"] += 1
            return self._query(parse_qs(query).get("q", [""])[0])
        if method == "POST" and segments == ["composite"]:
            count["composite"] += 1
            return self._composite(payload)
        if method == "PATCH" and len(segments) == 4 and segments[:2] == ["composite", "sobjects"]:
            count["collections_upsert"] += 1
            return self._upsert(segments[2], segments[3], payload)
        if method == "PATCH" and len(segments) == 4 and segments[0] == "sobjects":
            count["single_upsert"] += 1
            return self._upsert_single(segments[1], segments[2], segments[3], payload)
        return 404, {}, _errors("NOT_FOUND", "The requested resource does not exist")

    # ---------------------------------------------------------------- OAuth

    def _token(self, form: dict[str, list[str]]) -> Answer:
        grant = (form.get("grant_type") or [""])[0]
        if grant == JWT_BEARER and self.public_key is not None:
            assertion = (form.get("assertion") or [""])[0]
            try:
                claims = jwt.decode(
                    assertion, self.public_key, algorithms=["RS256"],
                    audience=["https://login.salesforce.com", "https://test.salesforce.com"],
                    options={"require": ["exp", "iss", "sub", "aud"]})
            except jwt.PyJWTError:
                return 400, {}, {"error": "invalid_grant", "error_description": "invalid assertion"}
            if claims["iss"] != self.consumer_key:
                return 400, {}, {"error": "invalid_client_id",
                                 "error_description": "client identifier invalid"}
            if claims["sub"] != self.username:
                return 400, {}, {"error": "invalid_grant",
                                 "error_description": "user hasn't approved this consumer"}
        elif grant == "client_credentials" and self.consumer_secret is not None:
            client = (form.get("client_id") or [""])[0]
            secret = (form.get("client_secret") or [""])[0]
            if client != self.consumer_key or secret != self.consumer_secret:
                return 400, {}, {"error": "invalid_client",
                                 "error_description": "invalid client credentials"}
        else:
            return 400, {}, {"error": "unsupported_grant_type",
                             "error_description": "grant type not supported"}
        token = "00DFAKE!" + secrets.token_urlsafe(24)
        if not self.sessions_die_at_once:
            self.tokens.add(token)
        return 200, {}, {
            "access_token": token, "instance_url": self.base_url,
            "id": f"{self.base_url}/id/00D000000000001AAA/005000000000001AAA",
            "token_type": "Bearer", "issued_at": str(int(time.time() * 1000)),
            "signature": secrets.token_urlsafe(16), "scope": "api",
        }

    # ---------------------------------------------------------------- data

    def _query(self, text: str) -> Answer:
        try:
            query = parse(text)
        except SoqlError as exc:
            return 400, {}, _errors(exc.code, exc.message)
        describe = self.describes.get(query.sobject)
        if describe is None:
            return 400, {}, _errors("INVALID_TYPE", f"sObject type '{query.sobject}' is not "
                                                    "supported.")
        known = {f["name"] for f in describe["fields"]}
        unknown = sorted(query.names() - known)
        if unknown:
            return 400, {}, _errors("INVALID_FIELD", f"No such column '{unknown[0]}' on entity "
                                                     f"'{query.sobject}'.")
        rows = [r for r in self.rows[query.sobject].values() if query.matches(r)]
        if query.order:
            order = query.order
            rows.sort(key=lambda r: str(r.get(order) or ""), reverse=query.descending)
        rows = rows[: query.limit] if query.limit is not None else rows
        records = [{"attributes": {"type": query.sobject, "url": self._url(query.sobject, r)},
                    **{f: r.get(f) for f in query.fields}} for r in rows]
        return 200, {}, {"totalSize": len(records), "done": True, "records": records}

    def _composite(self, payload: Any) -> Answer:
        subrequests = (payload or {}).get("compositeRequest") or []
        if not subrequests or len(subrequests) > 25:
            return 400, {}, _errors("INVALID_BATCH_SIZE", "between 1 and 25 subrequests")
        answers = []
        for sub in subrequests:
            parts = urlsplit(str(sub.get("url", "")))
            m = _DATA.match(parts.path)
            if m is None:
                status, _, body = 404, {}, _errors("NOT_FOUND", "The requested resource does "
                                                                "not exist")
            else:
                status, _, body = self._route(str(sub.get("method")), m["rest"] or "/",
                                              parts.query, sub.get("body"), self.subrequests)
            answers.append({"body": body, "httpHeaders": {}, "httpStatusCode": status,
                            "referenceId": sub.get("referenceId")})
        return 200, {}, {"compositeResponse": answers}

    def _upsert(self, sobject: str, id_field: str, payload: Any) -> Answer:
        describe = self.describes.get(sobject)
        if describe is None:
            return 404, {}, _errors("NOT_FOUND", "The requested resource does not exist")
        fields = {f["name"]: f for f in describe["fields"]}
        if not fields.get(id_field, {}).get("externalId"):
            return 404, {}, _errors("NOT_FOUND", "Provided external ID field does not exist or "
                                                 f"is not accessible: {id_field}")
        records = (payload or {}).get("records")
        if not isinstance(records, list) or not 1 <= len(records) <= 200:
            return 400, {}, _errors("INVALID_BATCH_SIZE", "between 1 and 200 records")
        for rec in records:
            problem = self._unreadable(sobject, fields, rec)
            if problem:
                return 400, {}, _errors(*problem)
        keys = Counter(str(r.get(id_field)) for r in records)
        return 200, {}, [self._upsert_one(sobject, id_field, fields, r, keys) for r in records]

    def _upsert_single(self, sobject: str, id_field: str, key: str, payload: Any) -> Answer:
        # One record per request: what a client without Collections would do.
        record = {"attributes": {"type": sobject}, **(payload or {}), id_field: key}
        status, extra, answer = self._upsert(sobject, id_field, {"records": [record]})
        if status != 200:
            return status, extra, answer
        [result] = answer
        if not result["success"]:
            return 400, {}, [{"errorCode": e["statusCode"], "message": e["message"]}
                             for e in result["errors"]]
        return (201 if result["created"] else 200), {}, result

    def _unreadable(self, sobject: str, fields: dict[str, Any],
                    rec: dict[str, Any]) -> tuple[str, str] | None:
        if (rec.get("attributes") or {}).get("type") != sobject:
            return "INVALID_TYPE", f"attributes.type must be {sobject}"
        for name, value in rec.items():
            info = fields.get(name)
            if name == "attributes":
                continue
            if info is None or (sobject, name) in self.broken:
                return "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}"
            kind = info["type"]
            bad = value is not None and (
                (kind == "int" and (not isinstance(value, int) or isinstance(value, bool)))
                or (kind == "boolean" and not isinstance(value, bool))
                or (kind == "date" and not _is_date(value))
                or (kind not in ("int", "boolean") and not isinstance(value, str)))
            if bad:
                return ("JSON_PARSER_ERROR", f"Cannot deserialize instance of {kind} from "
                                             f"{type(value).__name__} value for field {name}")
        return None

    def _upsert_one(self, sobject: str, id_field: str, fields: dict[str, Any],
                    rec: dict[str, Any], keys: Counter[str]) -> dict[str, Any]:
        key = str(rec.get(id_field) or "")
        values = {k: v for k, v in rec.items() if k != "attributes"}
        if not key:
            return _record_error("MISSING_ARGUMENT", f"{id_field} not specified", [id_field])
        if keys[key] > 1:
            return _record_error("DUPLICATE_EXTERNAL_ID",
                                 f"Duplicate external id specified: {key}", [id_field])
        if key in self.refused:
            return _record_error("FIELD_CUSTOM_VALIDATION_EXCEPTION", self.refused[key])
        if self.locked[key] > 0:
            self.locked[key] -= 1
            return _record_error("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to "
                                                       "this record or 1 records")
        existing_id = self.by_key.get((sobject, id_field, key))
        existing = self.rows[sobject].get(existing_id) if existing_id else None
        flag = "updateable" if existing else "createable"
        for name, value in values.items():
            info = fields[name]
            if not info[flag]:
                return _record_error("INVALID_FIELD_FOR_INSERT_UPDATE",
                                     f"Unable to create/update fields: {name}.", [name])
            allowed = [p["value"] for p in info["picklistValues"]]
            if info["restrictedPicklist"] and value is not None and value not in allowed:
                return _record_error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                     f"{info['label']}: bad value for restricted picklist "
                                     f"field: {value}", [name])
            if info["type"] == "reference" and value and not self._exists(value):
                return _record_error("FIELD_INTEGRITY_EXCEPTION",
                                     f"{info['label']}: id value of incorrect type: {value}",
                                     [name])
        if existing is None:
            missing = [n for n in _required(self.describes[sobject]) if not values.get(n)]
            if missing:
                return _record_error("REQUIRED_FIELD_MISSING",
                                     f"Required fields are missing: {missing}", missing)
            self._serial += 1
            row_id = f"{KEY_PREFIXES[sobject]}{self._serial:012d}AAA"
            existing = self.rows[sobject][row_id] = {"Id": row_id, **self._defaults(sobject)}
            created = True
        else:
            created = False
        existing.update(values)
        self.by_key[(sobject, id_field, key)] = existing["Id"]
        self._serial += 1
        existing["LastModifiedDate"] = f"2026-01-01T00:00:00.{self._serial:09d}Z"
        return {"id": existing["Id"], "success": True, "errors": [], "created": created}

    def _defaults(self, sobject: str) -> dict[str, Any]:
        # What Salesforce fills in on create: false checkboxes, default picklist values.
        found: dict[str, Any] = {}
        for info in self.describes[sobject]["fields"]:
            if info["type"] == "boolean":
                found[info["name"]] = False
            elif info["defaultedOnCreate"] and info["picklistValues"]:
                found[info["name"]] = info["picklistValues"][0]["value"]
        return found

    def _exists(self, row_id: Any) -> bool:
        return any(row_id in rows for rows in self.rows.values())

    def _url(self, sobject: str, row: dict[str, Any]) -> str:
        return f"/services/data/v62.0/sobjects/{sobject}/{row.get('Id')}"

    def insert(self, sobject: str, **values: Any) -> str:
        """Put a record straight into the org (a Contact or Lead that already exists)."""
        with self.lock:
            self._serial += 1
            row_id = f"{KEY_PREFIXES[sobject]}{self._serial:012d}AAA"
            self.rows[sobject][row_id] = {"Id": row_id, "IsConverted": False,
                                          "LastModifiedDate": f"2025-01-01T00:00:00."
                                                              f"{self._serial:09d}Z", **values}
            return row_id

    def effects(self) -> dict[str, int]:
        """Record id -> number of objects holding it in the external id field (any sObject)."""
        with self.lock:
            found: Counter[str] = Counter()
            for sobject, rows in self.rows.items():
                if sobject == "Lead":
                    continue  # a Lead is the caller, not the delivered record
                for row in rows.values():
                    if row.get(RECADO_FIELD):
                        found[str(row[RECADO_FIELD])] += 1
            return dict(found)


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
