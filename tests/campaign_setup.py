"""Shared setup of the campaign tests: clients with SMS and webhook destinations, CSV files, a local SMS gateway."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.core import accounts, campaigns_admin, directory
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_plan, document_for_topup
from hub.plugins import Plugins

LISBON = ZoneInfo("Europe/Lisbon")
SMS_TOKEN = "gw-token-7f3a9c"
TEMPLATE_PT = (
    "Olá {{ name }}, lembramos a sua consulta na {{ client }} a {{ appointment_date }} às {{ appointment_time }}."
)
TEMPLATE_EN = (
    "Hello {{ name }}, a reminder of your appointment at {{ client }} on {{ appointment_date }} "
    "at {{ appointment_time }}."
)
TEMPLATES = {"pt": TEMPLATE_PT, "en": TEMPLATE_EN}
FIRST_NAMES = ("Maria", "João", "Ana", "Rui", "Inês", "Tiago", "Beatriz", "Pedro", "Sofia", "Miguel")
LAST_NAMES = ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins")


def lisbon(text: str) -> datetime:
    """A Lisbon wall-clock time, e.g. lisbon("2026-03-02 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=LISBON)


def clients_yaml(sms_url: str, hook_url: str = "http://127.0.0.1:9/hooks") -> str:
    """`acme` (PT+EN) with a webhook and an SMS destination; `beta` (PT) with an email destination only."""
    return f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001", "+351217000011"]
    languages: [pt, en]
    contact_email: gerencia@acme.example
    agents: {{preferred: [ana, rui]}}
    destinations:
      - id: hook
        kind: webhook
        settings: {{url: "{hook_url}", secret: {{"$env": "CAMPAIGN_HOOK_SECRET"}}, timeout: 5}}
      - id: sms
        kind: sms
        settings: {{url: "{sms_url}", token: {{"$env": "CAMPAIGN_SMS_TOKEN"}}, sender_id: "ClinicaAcme"}}
  - id: beta
    name: "Beta Fisioterapia"
    nif: "510000002"
    dids: ["+351217000002"]
    languages: [pt]
    destinations:
      - {{id: mail, kind: email, settings: {{to: ["beta@beta.example"], maildir: "/nonexistent/maildir"}}}}
"""


def apply_clients(store: Store, plugins: Plugins, tmp_path: Path, sms_url: str, hook_url: str | None = None) -> None:
    """Apply the campaign clients (no balance yet)."""
    text = clients_yaml(sms_url, hook_url) if hook_url else clients_yaml(sms_url)
    directory.apply_file(store, plugins.registry, tmp_path / "clients.yaml", text=text)


def campaign_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secrets the campaign clients' destinations read, with webhooks to 127.0.0.1 allowed."""
    monkeypatch.setenv("CAMPAIGN_HOOK_SECRET", "whsec_" + "a" * 44)
    monkeypatch.setenv("CAMPAIGN_SMS_TOKEN", "gw-token")
    monkeypatch.setenv("RECADO_WEBHOOK_ALLOW_PRIVATE", "true")


def clients_offline(
    store: Store, plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, acme_contract: bool = False
) -> Store:
    """The campaign clients applied with their secrets set and an SMS gateway nothing listens at; `store`.

    `acme_contract` buys `acme` its 12-month contract too.
    """
    campaign_secrets(monkeypatch)
    apply_clients(store, plugins, tmp_path, "http://127.0.0.1:9/v1/messages")
    if acme_contract:
        buy_contract(store, plugins, "acme")
    return store


def buy_contract(store: Store, plugins: Plugins, client: str, at: str = "2026-03-01 08:00") -> None:
    """A 12-month contract: 156.00 EUR of balance."""
    accounts.purchase(store, plugins.registry, client, document_for_plan("12m"), lisbon(at), TariffConfig())


def topup(store: Store, plugins: Plugins, client: str, euros: int, at: str) -> None:
    """A top-up of `euros`."""
    accounts.purchase(store, plugins.registry, client, document_for_topup(euros), lisbon(at), TariffConfig())


def person(index: int) -> str:
    """A realistic name for the index-th person of a file."""
    return f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]}"


def mobile(index: int) -> str:
    """A distinct Portuguese mobile number, as a client types it."""
    return f"91{index // 1000 % 10}{index % 1000:03d}{(index * 7) % 1000:03d}"


def contacts_csv(rows: Iterable[Iterable[str]], *, header: str = "name,number,appointment,language,channel") -> str:
    """A CSV file from a header and rows of cells (cells are quoted)."""
    lines = [header]
    for row in rows:
        lines.append(",".join('"' + cell.replace('"', '""') + '"' for cell in row))
    return "\n".join(lines) + "\n"


def sms_file(count: int, *, appointment: str = "2026-03-20 10:30", start: int = 0, language: str = "pt") -> str:
    """`count` SMS contacts with appointments at `appointment` (Lisbon)."""
    return contacts_csv((person(i), mobile(i), appointment, language, "sms") for i in range(start, start + count))


def phone_file(count: int, *, appointment: str = "2026-03-20 10:30", start: int = 0) -> str:
    """`count` phone contacts, alternately Portuguese and English speakers."""
    return contacts_csv(
        (person(i), mobile(i), appointment, "pt" if i % 2 == 0 else "en", "phone") for i in range(start, start + count)
    )


def upload(
    store: Store,
    plugins: Plugins,
    text: str,
    *,
    client: str = "acme",
    at: str = "2026-03-02 08:00",
    mode: str = "agent",
) -> dict[str, Any]:
    """Upload a campaign as the operator would; its summary."""
    return campaigns_admin.create_campaign(
        store,
        plugins.registry,
        client,
        text,
        TEMPLATES,
        name="Lembretes de março",
        mode=mode,
        created_by="operator",
        now=lisbon(at),
    )


@dataclass
class SmsGateway:
    """An SMS gateway on 127.0.0.1: answers each message 201 with an id and keeps what it was sent."""

    token: str = SMS_TOKEN
    messages: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __enter__(self) -> SmsGateway:
        gateway = self
        ids = itertools.count(1)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("authorization") != f"Bearer {gateway.token}":
                    self._answer(401, {"error": "bad token"})
                    return
                message = json.loads(body)
                gateway.messages.append(message | {"idempotency_key": self.headers.get("idempotency-key")})
                self._answer(201, {"id": f"msg_{next(ids)}"})

            def _answer(self, status: int, document: dict[str, Any]) -> None:
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        """The gateway's send endpoint."""
        if self._server is None:
            raise RuntimeError("the gateway is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/messages"


def later(moment: datetime, **delta: float) -> datetime:
    """`moment` plus a delta."""
    return moment + timedelta(**delta)
