"""A local Stripe for tests: the Checkout Session endpoints the plugin uses, over real HTTP on 127.0.0.1.

It behaves as Stripe does where the plugin depends on it:

- ``POST /v1/checkout/sessions`` (form-encoded) and ``GET /v1/checkout/sessions/{id}``
  need ``Authorization: Bearer <secret key>`` (or Basic with the key as user);
- unknown or missing parameters are ``invalid_request_error``s naming the parameter;
- an ``Idempotency-Key`` replays the first answer for the same parameters and is an
  ``idempotency_error`` for other parameters;
- errors are ``{"error": {"type", "code", "message", "param"}}``; a 401 repeats part of the key;
- the session's ``url`` is a page with a pay button: paying marks the session paid, sends
  the signed ``checkout.session.completed`` webhook (when `webhook_url` is set) and
  redirects the browser to ``success_url`` with ``{CHECKOUT_SESSION_ID}`` filled in.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from recado_stripe import signature

API_KEY = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_" + "fakeSigningSecretForRecadoTests"
_ALLOWED = re.compile(
    r"mode|client_reference_id|customer_email|success_url|cancel_url|metadata\[[^\]]{1,40}\]"
    r"|payment_method_types\[\d+\]|line_items\[0\]\[quantity\]"
    r"|line_items\[0\]\[price_data\]\[(currency|unit_amount|product_data\]\[name)\]"
)
_REQUIRED = (
    "mode",
    "success_url",
    "line_items[0][price_data][currency]",
    "line_items[0][price_data][unit_amount]",
    "line_items[0][price_data][product_data][name]",
    "line_items[0][quantity]",
)


class Served:
    """An ASGI application served by uvicorn on 127.0.0.1 from a background thread."""

    def __init__(self, app: Any) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def __enter__(self) -> Served:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the local server did not start")
            threading.Event().wait(0.02)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@dataclass
class SentWebhook:
    """One webhook call the fake made: the body sent, and the receiver's status and answer."""

    payload: bytes
    status: int
    answer: bytes = b""

    @property
    def event(self) -> dict[str, Any]:
        """The event sent."""
        return dict(json.loads(self.payload))


@dataclass
class FakeStripe:
    """The fake's state: keys, sessions, idempotency records, planned errors, webhooks sent."""

    api_key: str = API_KEY
    webhook_secret: str = WEBHOOK_SECRET
    webhook_url: str | None = None
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every API request: (method, path, headers with lower-case names, form fields).
    requests: list[tuple[str, str, dict[str, str], list[tuple[str, str]]]] = field(default_factory=list)
    webhooks: list[SentWebhook] = field(default_factory=list)
    _idempotency: dict[str, tuple[list[tuple[str, str]], int, dict[str, Any]]] = field(default_factory=dict)
    _planned: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    _products: dict[str, str] = field(default_factory=dict)
    _served: Served | None = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeStripe:
        self._served = Served(self._app())
        self._served.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._served is not None:
            self._served.__exit__(kind, exc, tb)

    @property
    def url(self) -> str:
        """Where the fake listens (the plugin's ``api_base``)."""
        if self._served is None:
            raise RuntimeError("the fake Stripe is not running")
        return self._served.url

    # ------------------------------------------------------------ test controls

    def fail_next(self, status: int, kind: str, message: str, **extra: Any) -> None:
        """Answer the next API request with this Stripe error (e.g. 402 ``card_error``)."""
        headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else {}
        self._planned.append((status, {"type": kind, "message": message, **extra}, headers))

    def expire(self, session_id: str) -> None:
        """Let session `session_id` run out, as Stripe does after 24 hours."""
        past = int(time.time()) - 1
        self.sessions[session_id].update(status="expired", url=None, expires_at=past)
        # A replayed answer is the first one as it was, whose expiry time has now passed.
        for _fields, _status, answer in self._idempotency.values():
            if answer.get("id") == session_id:
                answer["expires_at"] = past

    def pay(self, session_id: str) -> str:
        """Pay session `session_id` by card; send its webhook; return the browser's next URL."""
        session = self.sessions[session_id]
        if session["payment_status"] != "paid":
            session.update(status="complete", payment_status="paid", payment_intent=f"pi_{secrets.token_hex(12)}")
            if self.webhook_url:
                self.send_event("checkout.session.completed", session_id)
        return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)

    def event(self, kind: str, session_id: str) -> dict[str, Any]:
        """A Stripe event of type `kind` about session `session_id` as it is now."""
        return {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": dict(self.sessions[session_id])},
        }

    def send_event(
        self, kind: str, session_id: str, *, url: str | None = None, timestamp: int | None = None
    ) -> SentWebhook:
        """Post a signed event to `url` (default `webhook_url`), as Stripe's webhook delivery does."""
        return self.send_body(json.dumps(self.event(kind, session_id)).encode(), url=url, timestamp=timestamp)

    def send_body(self, body: bytes, *, url: str | None = None, timestamp: int | None = None) -> SentWebhook:
        """Post `body` signed with the endpoint secret at `timestamp` (default now)."""
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook URL to send to")
        headers = {
            "content-type": "application/json; charset=utf-8",
            "stripe-signature": signature.header(self.webhook_secret, body, timestamp),
        }
        response = httpx.post(target, content=body, headers=headers, timeout=10)
        sent = SentWebhook(payload=body, status=response.status_code, answer=response.content)
        self.webhooks.append(sent)
        return sent

    # ------------------------------------------------------------ the HTTP side

    def _error(self, status: int, kind: str, message: str, param: str | None = None) -> JSONResponse:
        body: dict[str, Any] = {"type": kind, "message": message}
        if param:
            body["param"] = param
        return JSONResponse({"error": body}, status_code=status, headers={"Request-Id": "req_fake"})

    def _authorized(self, request: Request) -> JSONResponse | None:
        value = request.headers.get("authorization", "")
        scheme, _, credentials = value.partition(" ")
        key = credentials.strip()
        if scheme.lower() == "basic":
            key = base64.b64decode(credentials).decode().partition(":")[0]
        elif scheme.lower() != "bearer":
            key = ""
        if not key:
            return self._error(401, "invalid_request_error", "You did not provide an API key.")
        if not secrets.compare_digest(key, self.api_key):
            return self._error(401, "invalid_request_error", f"Invalid API Key provided: {key[:8]}****{key[-4:]}")
        return None

    def _planned_error(self) -> Response | None:
        if not self._planned:
            return None
        status, error, headers = self._planned.pop(0)
        return JSONResponse({"error": error}, status_code=status, headers=headers)

    def _create(self, fields: list[tuple[str, str]], base: str) -> tuple[int, dict[str, Any]]:
        params = dict(fields)
        for name in params:
            if not _ALLOWED.fullmatch(name):
                return 400, {"type": "invalid_request_error", "message": f"Received unknown parameter: {name}"}
        for name in _REQUIRED:
            if not params.get(name):
                return 400, {
                    "type": "invalid_request_error",
                    "message": f"Missing required param: {name}.",
                    "param": name,
                }
        amount = params["line_items[0][price_data][unit_amount]"]
        if params["mode"] != "payment" or not amount.isdigit() or int(amount) < 50:
            return 400, {"type": "invalid_request_error", "message": "Invalid mode or unit_amount.", "param": "mode"}
        session_id = f"cs_test_{secrets.token_hex(16)}"
        metadata = {name[9:-1]: value for name, value in params.items() if name.startswith("metadata[")}
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_subtotal": int(amount) * int(params["line_items[0][quantity]"]),
            "amount_total": int(amount) * int(params["line_items[0][quantity]"]),
            "currency": params["line_items[0][price_data][currency]"],
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": metadata,
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "payment_intent": None,
            "created": int(time.time()),
            "expires_at": int(time.time()) + 24 * 3600,
            "livemode": False,
            "url": f"{base}/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        self._products[session_id] = params["line_items[0][price_data][product_data][name]"]
        return 200, session

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/checkout/sessions")
        async def create(request: Request) -> Response:
            body = (await request.body()).decode()
            fields = parse_qsl(body, keep_blank_values=True)
            self.requests.append(("POST", request.url.path, dict(request.headers), fields))
            refused = self._authorized(request) or self._planned_error()
            if refused is not None:
                return refused
            if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                return self._error(400, "invalid_request_error", "Stripe takes form-encoded request bodies.")
            key = request.headers.get("idempotency-key")
            if key and key in self._idempotency:
                first, status, answer = self._idempotency[key]
                if sorted(first) != sorted(fields):
                    return self._error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                    )
                return JSONResponse(answer, status_code=status, headers={"Idempotent-Replayed": "true"})
            status, answer = self._create(fields, str(request.base_url).rstrip("/"))
            answer = answer if status == 200 else {"error": answer}
            if key:
                self._idempotency[key] = (fields, status, json.loads(json.dumps(answer)))
            return JSONResponse(answer, status_code=status)

        @app.get("/v1/checkout/sessions/{session_id}")
        async def retrieve(request: Request, session_id: str) -> Response:
            self.requests.append(("GET", request.url.path, dict(request.headers), []))
            refused = self._authorized(request) or self._planned_error()
            if refused is not None:
                return refused
            if session_id not in self.sessions:
                return self._error(404, "invalid_request_error", f"No such checkout.session: '{session_id}'", "id")
            return JSONResponse(self.sessions[session_id])

        @app.get("/c/pay/{session_id}")
        async def page(session_id: str) -> Response:
            session = self.sessions.get(session_id)
            if session is None or session["status"] == "expired":
                return HTMLResponse("<h1>This checkout session has expired.</h1>", status_code=410)
            if session["payment_status"] == "paid":
                return RedirectResponse(self.pay(session_id), status_code=303)
            euros = f"{session['amount_total'] // 100},{session['amount_total'] % 100:02d} €"
            return HTMLResponse(
                "<!doctype html><html><head><meta charset='utf-8'><title>Fake Stripe Checkout</title></head><body>"
                f"<h1>{html.escape(self._products[session_id])}</h1><p id='amount'>{euros}</p>"
                f"<form method='post' action='/c/pay/{session_id}'><button type='submit'>Pay {euros}</button></form>"
                f"<a href='{html.escape(str(session['cancel_url'] or '/'))}'>Cancel</a></body></html>"
            )

        @app.post("/c/pay/{session_id}")
        async def paid(session_id: str) -> Response:
            if session_id not in self.sessions or self.sessions[session_id]["status"] == "expired":
                return HTMLResponse("<h1>This checkout session has expired.</h1>", status_code=410)
            # The webhook goes out from a worker thread: the receiver may be served by this same loop.
            return RedirectResponse(await asyncio.to_thread(self.pay, session_id), status_code=303)

        return app


def main() -> None:
    """Run the fake on a fixed port for trying the card path by hand (see docs/payments.md)."""
    import argparse

    parser = argparse.ArgumentParser(description="A local fake of Stripe Checkout for trying Recado's card payments.")
    parser.add_argument("--port", type=int, default=12111, help="port on 127.0.0.1 (default 12111)")
    parser.add_argument("--webhook-url", help="where to send signed checkout.session.completed events")
    args = parser.parse_args()
    fake = FakeStripe(webhook_url=args.webhook_url)
    print(f"fake Stripe on http://127.0.0.1:{args.port}")
    print(f"  RECADO_PAYMENTS__STRIPE__API_BASE=http://127.0.0.1:{args.port}")
    print(f"  RECADO_PAYMENTS__STRIPE__API_KEY={fake.api_key}")
    print(f"  RECADO_PAYMENTS__STRIPE__WEBHOOK_SECRET={fake.webhook_secret}")
    uvicorn.run(fake._app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
