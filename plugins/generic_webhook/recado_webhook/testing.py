"""A local webhook receiver for tests and benchmarks of the ``webhook`` sink.

`WebhookReceiver` serves HTTP/1.1 (or HTTPS) on 127.0.0.1 from its own event
loop in a background thread, so that synchronous and asynchronous code alike
can use it. It behaves as a careful receiver would: it checks the Standard Webhooks
signature, deduplicates on the message id (each item's ``id`` in a batch) and
stores one object per new message. It can also be told to misbehave (refuse a
record, be unavailable, say the endpoint is gone, answer slowly), and it
implements the `hub.testing.SinkPeer` protocol of the conformance suite.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any

from recado_webhook.signing import secret_key, verify

#: Standard Webhooks receivers refuse messages signed more than 5 minutes away from now.
TOLERANCE_S = 300


@dataclass(frozen=True)
class Reply:
    """A planned answer: status, JSON or text body, extra headers, and a delay before it."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it, with the status it answered."""

    headers: Mapping[str, str]
    body: bytes
    status: int

    @property
    def msg_id(self) -> str:
        """The ``webhook-id`` header."""
        return self.headers.get("webhook-id", "")

    def payload(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def _response(reply: Reply) -> bytes:
    """The bytes of one HTTP/1.1 answer."""
    reason = HTTPStatus(reply.status).phrase if reply.status in HTTPStatus._value2member_map_ else ""
    lines = [f"HTTP/1.1 {reply.status} {reason}", f"content-length: {len(reply.body)}"]
    lines += [f"{name}: {value}" for name, value in reply.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + reply.body


def _keys_of(event: Mapping[str, Any]) -> list[str]:
    """What an event is about: its record id or notice id."""
    data = event.get("data")
    if not isinstance(data, Mapping):
        return []
    return [str(data[name]) for name in ("record_id", "notice_id") if name in data]


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 that verifies, deduplicates and records deliveries."""

    def __init__(self, secrets: Sequence[str] = (), *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._keys = [secret_key(secret) for secret in secrets]
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.received: list[Received] = []
        self._objects: dict[str, tuple[str, list[str]]] = {}
        self._planned: deque[Reply] = deque()
        self._refused: dict[str, str] = {}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> WebhookReceiver:
        """Listen on a free port of 127.0.0.1; serve from an event loop in a background thread."""
        loop = asyncio.new_event_loop()
        # Clients that hang up mid-answer (a timeout, a refused certificate) are
        # part of the tests, not errors to print.
        loop.set_exception_handler(lambda _loop, _context: None)
        started: concurrent.futures.Future[asyncio.Server] = concurrent.futures.Future()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(
                    asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._ssl_context, backlog=128)
                )
            except BaseException as exc:
                started.set_exception(exc)
                return
            started.set_result(server)
            loop.run_forever()
            server.close()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="webhook-receiver", daemon=True)
        self._thread.start()
        self._server = started.result(timeout=10)
        self._loop = loop
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer the requests of one keep-alive connection (HTTP/1.1, Content-Length bodies)."""
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method = request_line.split(" ", 1)[0]
                headers: dict[str, str] = {}
                for line in lines:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                reply = self.handle(headers, body) if method == "POST" else Reply(405)
                if reply.delay_s:
                    await asyncio.sleep(reply.delay_s)
                writer.write(_response(reply))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the client closed the connection
        finally:
            writer.close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The port the receiver listens on."""
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """The endpoint's URL."""
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/hooks/recado"

    # -------------------------------------------------- how it should answer

    def plan(self, reply: Reply, times: int = 1) -> None:
        """Answer the next `times` requests with `reply`, whatever they carry."""
        with self._lock:
            self._planned.extend([reply] * times)

    def gone(self) -> None:
        """Answer every request from now on with 410 Gone."""
        self.plan(Reply(410, b"endpoint deleted"), times=1_000_000)

    # ---------------------------------------------------- SinkPeer protocol

    def effects(self) -> dict[str, int]:
        """Record or notice id -> how many distinct objects the receiver stored for it."""
        counts: dict[str, int] = {}
        with self._lock:
            for _object_id, keys in self._objects.values():
                for key in keys:
                    counts[key] = counts.get(key, 0) + 1
        return counts

    def refuse(self, idempotency_key: str, reason: str) -> None:
        """Answer 422 with `reason` to any request that carries this record or notice."""
        with self._lock:
            self._refused[idempotency_key] = reason

    def unavailable(self, times: int, retry_after: float | None = None) -> None:
        """Answer the next `times` requests 503, or 429 with ``Retry-After`` when given."""
        if retry_after is None:
            self.plan(Reply(503, b"upstream unavailable"), times)
        else:
            headers = {"retry-after": f"{retry_after:g}"}
            self.plan(Reply(429, b"slow down", headers), times)

    def reset(self) -> None:
        """Forget objects, requests, refusals and planned answers."""
        with self._lock:
            self._objects.clear()
            self._planned.clear()
            self._refused.clear()
            self.received.clear()

    # ------------------------------------------------------------ handling

    def _authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        msg_id = headers.get("webhook-id")
        timestamp = headers.get("webhook-timestamp", "")
        signatures = headers.get("webhook-signature")
        if not (msg_id and timestamp.isdigit() and signatures):
            return False
        if abs(time.time() - int(timestamp)) > TOLERANCE_S:
            return False
        return verify(self._keys, msg_id, int(timestamp), body, signatures)

    def handle(self, headers: Mapping[str, str], body: bytes) -> Reply:
        """Decide the answer to one request and record it."""
        reply = self._decide(headers, body)
        with self._lock:
            self.received.append(Received(dict(headers), body, reply.status))
        return reply

    def _decide(self, headers: Mapping[str, str], body: bytes) -> Reply:
        with self._lock:
            if self._planned:
                return self._planned.popleft()
        if self._keys and not self._authentic(headers, body):
            return Reply(401, b'{"error":"invalid signature"}', {"content-type": "application/json"})
        try:
            event = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return Reply(400, b"not JSON")
        if not isinstance(event, dict):
            return Reply(400, b"not a JSON object")
        if event.get("type") == "recado.batch":
            items = [item for item in event.get("data", []) if isinstance(item, dict)]
            ids = [str(item.get("id", "")) for item in items]
        else:
            items, ids = [event], [headers.get("webhook-id", "")]
        with self._lock:
            for item in items:
                refused = [self._refused[k] for k in _keys_of(item) if k in self._refused]
                if refused:
                    answer = json.dumps({"error": refused[0]}).encode()
                    return Reply(422, answer, {"content-type": "application/json"})
            stored = []
            for item_id, item in zip(ids, items, strict=True):
                # A message id seen before is a retry: answer as before, store nothing.
                if item_id not in self._objects:
                    self._objects[item_id] = (f"obj_{len(self._objects) + 1}", _keys_of(item))
                stored.append(self._objects[item_id][0])
        answer = json.dumps({"id": stored[0]} if len(stored) == 1 else {"ids": stored}).encode()
        return Reply(200, answer, {"content-type": "application/json"})
