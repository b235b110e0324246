"""A local HubSpot stand-in over real HTTP, for tests and benchmarks of this sink.

`FakeHubSpot` serves the endpoints the sink uses on 127.0.0.1 (a free port),
checks the bearer token, sends HubSpot's rate-limit headers on every answer,
and can be told to answer 429 or 5xx for the next requests. The data rules
live in `FakeCrm`. Point the sink at it with ``host=fake.url``::

    with FakeHubSpot(token="pat-test") as fake:
        sink = HubSpotSink(HubSpotConfig(access_token="pat-test", host=fake.url))
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .fake_crm import FakeCrm
from .fake_schema import KINDS, error


class FakeHubSpot:
    """A running fake HubSpot account: `crm` holds its data, `requests` counts calls."""

    def __init__(
        self,
        token: str = "pat-test",
        idempotency_property: str = "recado_record_id",
        unique: bool = True,
        rate_max: int = 10_000,
        rate_interval_ms: int = 10_000,
        atomic: bool = False,
    ) -> None:
        self.token = token
        self.crm = FakeCrm(idempotency_property, unique, atomic)
        self.rate_max = rate_max
        self.rate_interval_ms = rate_interval_ms
        #: Requests by "METHOD path" (paths without the query string).
        self.requests: Counter[str] = Counter()
        self._window: deque[float] = deque()
        self._faults: deque[tuple[int, dict[str, str], dict[str, Any]]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """Base URL to give the sink as ``host``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def total_requests(self) -> int:
        """Every request answered so far, whatever its status."""
        return sum(self.requests.values())

    def start(self) -> FakeHubSpot:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeHubSpot:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def throttle(self, times: int = 1, retry_after: float | None = None, daily: bool = False) -> None:
        """Answer the next `times` requests with 429, as HubSpot's rate limiter does."""
        headers = {"X-HubSpot-RateLimit-Remaining": "0"}
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        if daily:
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = "0"
        policy = "DAILY" if daily else "TEN_SECONDLY_ROLLING"
        body = error("You have reached your ten_secondly_rolling limit.", "RATE_LIMITS")
        body |= {"errorType": "RATE_LIMIT", "policyName": policy}
        with self._lock:
            self._faults.extend((429, headers, body) for _ in range(times))

    def fail(self, times: int = 1, status: int = 502) -> None:
        """Answer the next `times` requests with `status` (a server-side failure)."""
        body = error("Bad gateway", "INTERNAL_ERROR")
        with self._lock:
            self._faults.extend((status, {}, body) for _ in range(times))

    # -- the conformance suite's peer protocol (hub.testing.SinkPeer) -------------------------

    def effects(self) -> dict[str, int]:
        """Idempotency value -> number of calls holding it."""
        prop = self.crm.idempotency_property
        with self.crm.lock:
            counts = Counter(c.properties.get(prop) for c in self.crm.calls.values())
        return {str(key): n for key, n in counts.items() if key is not None}

    def refuse(self, idempotency_key: str, reason: str) -> None:
        """Refuse every call holding `idempotency_key`, as HubSpot refuses an invalid value."""
        with self.crm.lock:
            self.crm.refused[idempotency_key] = reason

    def unavailable(self, times: int, retry_after: float | None = None) -> None:
        """429 with `Retry-After` for the next `times` requests, or 503 without one."""
        if retry_after is None:
            self.fail(times, status=503)
        else:
            self.throttle(times, retry_after=retry_after)

    def reset(self) -> None:
        """Forget data, pending faults and counts."""
        with self._lock:
            self._faults.clear()
            self._window.clear()
            self.requests.clear()
        self.crm.reset()

    # -- request handling (called from server threads) ---------------------------------------

    def answer(self, method: str, path: str, auth: str | None, body: Any) -> tuple[int, dict[str, str], Any]:
        """Status, extra headers and JSON body for one request."""
        with self._lock:
            self.requests[f"{method} {path}"] += 1
            limits = self._rate_headers()
            fault = self._faults.popleft() if self._faults else None
        if auth != f"Bearer {self.token}":
            return (
                401,
                limits,
                error("Authentication credentials not found.", "INVALID_AUTHENTICATION"),
            )
        if fault is not None:
            status, headers, payload = fault
            return status, limits | headers, payload
        if limits["X-HubSpot-RateLimit-Remaining"] == "-1":
            limits["X-HubSpot-RateLimit-Remaining"] = "0"
            return (
                429,
                limits,
                error("You have reached your ten_secondly_rolling limit.", "RATE_LIMITS"),
            )
        status, payload = self._route(method, path, body)
        return status, limits, payload

    def _rate_headers(self) -> dict[str, str]:
        now = time.monotonic()
        horizon = now - self.rate_interval_ms / 1000
        while self._window and self._window[0] < horizon:
            self._window.popleft()
        self._window.append(now)
        return {
            "X-HubSpot-RateLimit-Max": str(self.rate_max),
            "X-HubSpot-RateLimit-Remaining": str(max(self.rate_max - len(self._window), -1)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.rate_interval_ms),
            "X-HubSpot-RateLimit-Daily": "1000000",
            "X-HubSpot-RateLimit-Daily-Remaining": "999999",
        }

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        crm = self.crm
        inputs = body.get("inputs", []) if isinstance(body, dict) else []
        if (method, path) == ("POST", "/crm/v3/objects/contacts/search"):
            return crm.search_contacts(body if isinstance(body, dict) else {})
        if (method, path) == ("POST", "/crm/v3/objects/contacts/batch/create"):
            return crm.create_contacts(inputs)
        kinds = "|".join(KINDS)
        if method == "POST" and (match := re.fullmatch(rf"/crm/v3/objects/({kinds})", path)):
            return crm.create_one(match.group(1), body if isinstance(body, dict) else {})
        if method == "POST" and (match := re.fullmatch(rf"/crm/v3/objects/({kinds})/batch/(create|upsert)", path)):
            kind, verb = match.groups()
            return crm.create(kind, inputs) if verb == "create" else crm.upsert(kind, inputs)
        if method == "POST" and (match := re.fullmatch(rf"/crm/v4/associations/({kinds})/contacts/batch/create", path)):
            return crm.associate(match.group(1), inputs)
        if method == "GET" and (match := re.fullmatch(r"/crm/v3/properties/(\w+)", path)):
            return crm.property_list(match.group(1))
        if method == "GET" and (match := re.fullmatch(r"/crm/v3/properties/(\w+)/(\w+)", path)):
            return crm.property(match.group(1), match.group(2))
        return 404, error(f"No route for {method} {path}", "OBJECT_NOT_FOUND")


def _handler(fake: FakeHubSpot) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per answer (headers and body buffered together) and no Nagle delay:
        # otherwise delayed ACKs add ~40 ms to every answer.
        disable_nagle_algorithm = True
        wbufsize = 1 << 16

        def log_message(self, format: str, *args: Any) -> None:
            # Quiet: tests and benchmarks read the counters, not the access log.
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self._send(400, {}, error("Invalid input JSON"))
                return
            path = self.path.split("?", 1)[0]
            status, headers, payload = fake.answer(self.command, path, self.headers.get("Authorization"), body)
            self._send(status, headers, payload)

        def _send(self, status: int, headers: dict[str, str], payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

    return Handler
