"""A fake HTTP SMS gateway on 127.0.0.1, for the ``sms`` sink's tests and for trying the plugin.

It speaks the generic gateway protocol the sink expects:

- ``POST /v1/messages`` with ``Authorization: Bearer <token>`` and a JSON message
  ``{"to", "from", "text", "reference", "encoding", "segments", "callback_url"?}``:
  ``201 {"id": "msg_1"}``; the same ``Idempotency-Key`` again answers ``200`` with the
  same id and stores nothing new;
- ``GET /health`` with the token: ``200 {"status": "ok"}``;
- a wrong token: ``401``; a message without ``to``, ``from`` or ``text``: ``422``.

Tests tell it to misbehave (`plan` any answer, `refuse` a record, be `unavailable`), and
make it post signed delivery reports and replies to a message's ``callback_url``
(`report`, `reply`). It implements `hub.testing.SinkPeer` for the conformance suite.

Run it by hand to try a destination against it (it then reports every message with a
``callback_url`` as delivered)::

    python plugins/sms/tests/fake_gateway.py --port 9025 --token dev-token --secret <reports secret>
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

WAIT = 10.0  # guards against a hang; never a timing expectation
SEND_PATH = "/v1/messages"
SIGNATURE_HEADER = "X-Signature"


@dataclass(frozen=True)
class Planned:
    """An answer the gateway gives to the next send request, whatever it carries."""

    status: int
    body: dict[str, Any] | str = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Seen:
    """One send request as the gateway got it, and the status it answered."""

    headers: dict[str, str]
    body: dict[str, Any]
    status: int


@dataclass
class Message:
    """A message the gateway accepted."""

    id: str
    key: str
    body: dict[str, Any]


class FakeGateway:
    """An SMS gateway served by uvicorn from a background thread on a free port of 127.0.0.1."""

    def __init__(self, token: str, *, secret: str | None = None, auto_report: bool = False) -> None:
        self.token = token
        self.secret = secret
        self.auto_report = auto_report
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._planned: deque[Planned] = deque()
        self._refused: dict[str, str] = {}
        self.messages: dict[str, Message] = {}
        self.seen: list[Seen] = []
        self.reports: list[tuple[str, int]] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.app = self._build()

    # ------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> FakeGateway:
        """Listen on `port` (0: a free one) of 127.0.0.1 and serve from a background thread."""
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        sockets = [self._socket]
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(sockets)), daemon=True)
        self._thread.start()
        started = threading.Event()
        for _ in range(int(WAIT / 0.01)):
            if self._server.started:
                break
            started.wait(0.01)
        if not self._server.started:
            raise RuntimeError("the fake gateway did not start")
        return self

    async def _serve(self, sockets: list[socket.socket]) -> None:
        assert self._server is not None
        await self._server.serve(sockets=sockets)

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=WAIT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._socket is None:
            raise RuntimeError("the fake gateway is not started")
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    @property
    def url(self) -> str:
        """The send endpoint."""
        return self.base_url + SEND_PATH

    # -------------------------------------------------- how it should answer

    def plan(
        self,
        status: int,
        body: dict[str, Any] | str | None = None,
        times: int = 1,
        *,
        headers: dict[str, str] | None = None,
        delay_s: float = 0.0,
    ) -> None:
        """Answer the next `times` send requests with `status`, `body` and `headers`, after `delay_s`."""
        answer = body if body is not None else {"error": f"planned {status}"}
        planned = Planned(status, answer, dict(headers or {}), delay_s)
        with self._lock:
            self._planned.extend([planned] * times)

    # ---------------------------------------------------- SinkPeer protocol

    def effects(self) -> dict[str, int]:
        """Record id (the message's reference) -> how many distinct messages the gateway holds for it."""
        counts: dict[str, int] = {}
        with self._lock:
            for message in self.messages.values():
                reference = str(message.body.get("reference"))
                counts[reference] = counts.get(reference, 0) + 1
        return counts

    def refuse(self, idempotency_key: str, reason: str) -> None:
        """Answer 400 with `reason` to any message whose reference is this record id."""
        with self._lock:
            self._refused[idempotency_key] = reason

    def unavailable(self, times: int, retry_after: float | None = None) -> None:
        """Answer the next `times` send requests 500, or 429 with ``Retry-After`` when given."""
        if retry_after is None:
            self.plan(500, {"error": "internal error"}, times)
        else:
            self.plan(429, {"error": "rate limited"}, times, headers={"Retry-After": f"{retry_after:g}"})

    def reset(self) -> None:
        """Forget messages, requests, refusals and planned answers."""
        with self._lock:
            self.messages.clear()
            self.seen.clear()
            self.reports.clear()
            self._planned.clear()
            self._refused.clear()

    # ----------------------------------------------------------- reporting

    def message(self, reference: str) -> Message:
        """The accepted message sent for record `reference`."""
        with self._lock:
            found = [m for m in self.messages.values() if m.body.get("reference") == reference]
        if len(found) != 1:
            raise AssertionError(f"expected one message for {reference}, the gateway holds {len(found)}")
        return found[0]

    async def post(self, url: str, payload: dict[str, Any], *, signature: str | None = None) -> httpx.Response:
        """POST `payload` to `url`, signed with the secret (or with the `signature` given)."""
        body = json.dumps(payload).encode()
        headers = {"content-type": "application/json"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        elif self.secret is not None:
            headers[SIGNATURE_HEADER] = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        async with httpx.AsyncClient(timeout=WAIT, trust_env=False) as client:
            return await client.post(url, content=body, headers=headers)

    async def report(
        self, message_id: str, status: str = "delivered", *, error: str | None = None, at: datetime | None = None
    ) -> httpx.Response:
        """Post a delivery report of message `message_id` to its ``callback_url``; the hub's answer."""
        with self._lock:
            message = self.messages[message_id]
        callback = message.body.get("callback_url")
        if not callback:
            raise AssertionError(f"message {message_id} was sent without a callback_url")
        payload: dict[str, Any] = {
            "id": message_id,
            "reference": message.body["reference"],
            "status": status,
            "at": (at or datetime.now(UTC)).isoformat(),
        }
        if error is not None:
            payload["error"] = error
        response = await self.post(str(callback), payload)
        with self._lock:
            self.reports.append((message_id, response.status_code))
        return response

    async def reply(
        self, callback_url: str, sender: str, text: str, *, answering: str | None = None, at: datetime | None = None
    ) -> httpx.Response:
        """Post a reply from `sender` to `callback_url`, as the gateway does when someone answers an SMS.

        With `answering` (the id of the message answered) the reply carries that message's reference.
        """
        payload: dict[str, Any] = {
            "type": "reply",
            "id": f"in_{next(self._ids)}",
            "from": sender,
            "text": text,
            "at": (at or datetime.now(UTC)).isoformat(),
        }
        if answering is not None:
            with self._lock:
                payload["reference"] = self.messages[answering].body["reference"]
        return await self.post(callback_url, payload)

    # ------------------------------------------------------------ handling

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/health")
        async def health(request: Request) -> Response:
            if not self._authorized(request):
                return JSONResponse({"error": "invalid token"}, status_code=401)
            return JSONResponse({"status": "ok"})

        @app.post(SEND_PATH)
        async def send(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = {"unreadable": raw.decode("utf-8", errors="replace")}
            status, answer, headers, delay_s = self._answer(request, body)
            if delay_s:
                await asyncio.sleep(delay_s)
            with self._lock:
                self.seen.append(Seen(dict(request.headers), body, status))
            if status == 201 and isinstance(answer, dict) and self.auto_report and body.get("callback_url"):
                asyncio.get_running_loop().create_task(self.report(str(answer["id"])))
            if isinstance(answer, str):
                return Response(answer, status_code=status, headers=headers, media_type="text/plain")
            return JSONResponse(answer, status_code=status, headers=headers)

        return app

    def _answer(self, request: Request, body: Any) -> tuple[int, dict[str, Any] | str, dict[str, str], float]:
        with self._lock:
            if self._planned:
                planned = self._planned.popleft()
                return planned.status, planned.body, planned.headers, planned.delay_s
        if not self._authorized(request):
            return 401, {"error": "invalid token"}, {}, 0.0
        if not isinstance(body, dict) or any(not body.get(name) for name in ("to", "from", "text", "reference")):
            return 422, {"error": "to, from, text and reference are required"}, {}, 0.0
        key = request.headers.get("idempotency-key") or f"no-key-{next(self._ids)}"
        with self._lock:
            reason = self._refused.get(str(body["reference"]))
            if reason is not None:
                return 400, {"error": reason}, {}, 0.0
            for message in self.messages.values():
                if message.key == key:
                    return 200, {"id": message.id}, {}, 0.0
            message = Message(id=f"msg_{next(self._ids)}", key=key, body=body)
            self.messages[message.id] = message
        return 201, {"id": message.id}, {}, 0.0


def main() -> None:
    """Serve a fake gateway until interrupted (see the module's docstring)."""
    parser = argparse.ArgumentParser(description="A fake HTTP SMS gateway on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=9025, help="port on 127.0.0.1 (default 9025)")
    parser.add_argument("--token", required=True, help="the Bearer token the gateway accepts")
    parser.add_argument("--secret", help="the shared secret that signs delivery reports")
    options = parser.parse_args()
    gateway = FakeGateway(options.token, secret=options.secret, auto_report=options.secret is not None)
    gateway.start(options.port)
    print(f"fake SMS gateway: send to {gateway.url}, health at {gateway.base_url}/health; Ctrl-C stops it")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        gateway.close()
        for message in gateway.messages.values():
            print(json.dumps({"id": message.id, **message.body}, ensure_ascii=False))


if __name__ == "__main__":
    main()
