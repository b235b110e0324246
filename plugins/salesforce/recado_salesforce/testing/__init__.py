"""A local stand-in for a Salesforce org's REST API, for tests and benchmarks.

`FakeOrg` serves, over HTTPS on 127.0.0.1, the endpoints the `salesforce` sink
uses: the OAuth 2.0 token endpoint (JWT bearer and client credentials),
`sobjects/X/describe`, `query`, `composite`, `limits` and the sObject
Collections upsert. It implements `hub.testing.SinkPeer`, counts every request,
and can be told to expire sessions, run out of API requests, be unavailable,
lock or refuse a record.

```python
with FakeOrg(ssl_context, public_key=pem) as org:
    config = SalesforceConfig(instance_url=org.base_url, ...)
```
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from recado_salesforce.testing.org import OrgState
from recado_salesforce.testing.schema import RECADO_FIELD

__all__ = ["RECADO_FIELD", "FakeOrg"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: OrgState


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as Salesforce does: requests reuses one connection per host.
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        """Send small answers at once instead of waiting for the client's ACK (Nagle)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, answer = self.server.state.handle(
            self.command, self.path, dict(self.headers.items()), body)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: request lines would fill the test output."""


class FakeOrg:
    """A fake Salesforce org on 127.0.0.1 (a free port), served with `ssl_context`."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        consumer_key: str = "3MVG9FAKECONSUMERKEY",
        username: str = "integration@acme.example",
        public_key: bytes | None = None,
        consumer_secret: str | None = None,
    ) -> None:
        self.state = OrgState(consumer_key=consumer_key, username=username,
                              public_key=public_key, consumer_secret=consumer_secret)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        port = self._server.server_address[1]
        self.base_url = self.state.base_url = f"https://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="fake-salesforce")

    def start(self) -> FakeOrg:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOrg:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ------------------------------------------------ hub.testing.SinkPeer

    def effects(self) -> dict[str, int]:
        """Record id -> number of objects holding it in the external id field."""
        return self.state.effects()

    def refuse(self, idempotency_key: str, reason: str) -> None:
        """Refuse upserts of this record id from now on (a validation rule error)."""
        with self.state.lock:
            self.state.refused[idempotency_key] = reason

    def unavailable(self, times: int, retry_after: float | None = None) -> None:
        """Answer the next `times` requests with 503 SERVER_UNAVAILABLE."""
        with self.state.lock:
            self.state.down.extend([retry_after] * times)

    def reset(self) -> None:
        """Forget every record, session, count and pending failure."""
        self.state.reset()

    # ------------------------------------------------------ more failures

    def expire_sessions(self) -> None:
        """Revoke every access token: the next data request gets 401 INVALID_SESSION_ID."""
        with self.state.lock:
            self.state.tokens.clear()

    def kill_new_sessions(self) -> None:
        """Issue tokens that are refused at once (a session policy gone wrong)."""
        with self.state.lock:
            self.state.sessions_die_at_once = True
            self.state.tokens.clear()

    def exhaust_requests(self, times: int = 1, *, concurrent: bool = False) -> None:
        """Answer the next `times` data requests with 403 REQUEST_LIMIT_EXCEEDED."""
        what = "ConcurrentPerOrgLongTxn" if concurrent else "TotalRequests"
        with self.state.lock:
            self.state.limit_hits.extend([what] * times)

    def lock_row(self, idempotency_key: str, times: int = 1) -> None:
        """Fail the next `times` upserts of this record id with UNABLE_TO_LOCK_ROW."""
        with self.state.lock:
            self.state.locked[idempotency_key] += times

    def remove_field(self, sobject: str, name: str) -> None:
        """Drop a field from an sObject (as when an admin deletes it)."""
        with self.state.lock:
            describe = self.state.describes[sobject]
            describe["fields"] = [f for f in describe["fields"] if f["name"] != name]

    def break_field(self, sobject: str, name: str) -> None:
        """Keep a field in the describe but refuse every write naming it (INVALID_FIELD)."""
        with self.state.lock:
            self.state.broken.add((sobject, name))

    def insert(self, sobject: str, **values: Any) -> str:
        """Add an existing record (e.g. a Contact with a phone); returns its Id."""
        return self.state.insert(sobject, **values)

    def rows(self, sobject: str) -> list[dict[str, Any]]:
        """Copies of every record of `sobject`."""
        with self.state.lock:
            return [dict(r) for r in self.state.rows[sobject].values()]

    @property
    def requests(self) -> dict[str, int]:
        """Requests answered so far, by kind (token, describe, composite, …)."""
        with self.state.lock:
            return dict(self.state.requests)

    @property
    def api_requests(self) -> int:
        """Requests that count against the org's daily API allowance (all but OAuth)."""
        with self.state.lock:
            return self.state.api_requests
