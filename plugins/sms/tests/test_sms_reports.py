"""Delivery reports and replies: from the gateway, over POST /sms/reports of the hub's web server, to events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from fake_gateway import FakeGateway
from recado_sms.reports import sign
from recado_sms.source import MAX_BODY_BYTES, SmsReportsConfig, SmsReportsSource
from sms_setup import MOBILE, REPORTS_SECRET, TEXT, TOKEN, sms_record

from hub.core import accounts, campaigns_admin, directory, optouts, records
from hub.core.campaigns_sms import send_due_sms
from hub.core.hub import Hub
from hub.core.models import CallEvent, EventKind, RouteDecision, WrapUp, record_id_for
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_plan
from hub.core.worker import Worker
from hub.plugins import Plugins
from hub.settings import Settings
from hub.sources import HubPort
from hub.web.app import build_context, create_app
from hub.web.context import WebContext

WAIT = 10.0  # guards against a hang; never a timing expectation
AT = datetime(2026, 6, 15, 9, 40, tzinfo=UTC)
LISBON = ZoneInfo("Europe/Lisbon")


def lisbon(text: str) -> datetime:
    """A Lisbon wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=LISBON)


class RecordingHub:
    """A `HubPort` that keeps the events it is given."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    async def ingest(self, event: CallEvent) -> None:
        """Keep the event."""
        self.events.append(event)

    async def decide(self, offer: CallEvent) -> RouteDecision:
        """Reports never offer calls."""
        raise AssertionError(f"unexpected offer {offer.call_id}")

    async def wrapup(self, wrapup: WrapUp) -> None:
        """Reports never wrap calls up."""
        raise AssertionError(f"unexpected wrap-up {wrapup.call_id}")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECADO_SECRET_KEY", "J8U7Qx3wqNwQ2n0W9m3a2Yw6sQ1y3x5k7o9q1s3u5w4=")
    monkeypatch.setenv("ACME_SMS_TOKEN", TOKEN)


@pytest.fixture
def hub_socket() -> Iterator[socket.socket]:
    """The hub's web server's socket, bound before the clients are applied so the callback URL is known."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


def callback_url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}/sms/reports"


@pytest.fixture
def plugins() -> Plugins:
    return Plugins(only={"sms"})


@pytest.fixture
def store(tmp_path: Path, plugins: Plugins, gateway: FakeGateway, hub_socket: socket.socket) -> Iterator[Store]:
    """SQLite with client `acme`, whose sms destination sends through the fake gateway."""
    clients = f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt]
    script: {{version: 1, fields: [{{name: name, label: {{pt: Nome}}, type: text}}]}}
    destinations:
      - id: sms
        kind: sms
        settings:
          url: "{gateway.url}"
          token: {{"$env": "ACME_SMS_TOKEN"}}
          sender_id: ClinicaAcme
          status_callback_url: "{callback_url(hub_socket)}"
"""
    opened = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    directory.apply_file(opened, plugins.registry, tmp_path / "clients.yaml", text=clients)
    yield opened
    opened.dispose()


@pytest.fixture
def context(store: Store, plugins: Plugins) -> WebContext:
    return build_context(store, plugins, Settings(database_url=store.url), secure_cookies=False)


@dataclass
class Endpoint:
    """The hub's web server with an sms_reports source, and a client of it."""

    url: str
    source: SmsReportsSource
    http: httpx.AsyncClient
    task: asyncio.Task[Any]

    async def post(self, payload: Any, *, secret: str = REPORTS_SECRET, signature: str | None = None) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"content-type": "application/json", "X-Signature": signature or sign(secret, body)}
        return await self.http.post("/sms/reports", content=body, headers=headers)


@contextlib.asynccontextmanager
async def endpoint(
    context: WebContext, sock: socket.socket, hub: HubPort, *, run_source: bool = True
) -> AsyncIterator[Endpoint]:
    """`recado run` in miniature: the sms_reports source and the web server in one event loop."""
    source = SmsReportsSource(SmsReportsConfig(secret=REPORTS_SECRET))
    context.extras.update(sources={"reports": source}, hub=hub)
    app = create_app(context)
    task = asyncio.create_task(source.run(hub) if run_source else asyncio.Event().wait())
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with asyncio.timeout(WAIT):
            while not server.started or (run_source and not source.connected):
                await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=base, timeout=WAIT, trust_env=False) as http:
            yield Endpoint(base, source, http, task)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def stored_sms(store: Store, plugins: Plugins, call_id: str = "sms-1") -> str:
    """An outbound SMS record of acme stored and queued for its destinations, as a campaign would; its id."""
    record = sms_record(call_id).model_copy(update={"client": "acme"})
    with store.begin() as conn:
        records.store_and_queue(conn, record, sends_messages=plugins.registry.sends_messages)
    return record.record_id


def report(reference: str, status: str = "delivered", **extra: Any) -> dict[str, Any]:
    return {"id": "msg_77", "reference": reference, "status": status, "at": AT.isoformat(), **extra}


# ------------------------------------------------------------- reports to events


async def test_a_delivered_report_becomes_an_sms_delivered_event_of_the_records_call(
    context: WebContext, plugins: Plugins, hub_socket: socket.socket
) -> None:
    hub = RecordingHub()
    record_id = stored_sms(context.store, plugins)
    async with endpoint(context, hub_socket, hub) as api:
        answer = await api.post(report(record_id))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": True, "event": "sms_delivered", "call_id": "sms-1"}
    assert hub.events == [
        CallEvent(
            source="campaigns",
            call_id="sms-1",
            kind=EventKind.SMS_DELIVERED,
            at=AT,
            raw={"gateway_id": "msg_77", "status": "delivered", "error": None},
        )
    ]


@pytest.mark.parametrize("status", ["failed", "expired", "undelivered"])
async def test_reports_of_messages_that_never_arrived_become_sms_failed_events(
    context: WebContext, plugins: Plugins, hub_socket: socket.socket, status: str
) -> None:
    hub = RecordingHub()
    record_id = stored_sms(context.store, plugins)
    async with endpoint(context, hub_socket, hub) as api:
        answer = await api.post(report(record_id, status, error="absent subscriber"))
    assert answer.status_code == 202, answer.text
    [event] = hub.events
    assert event.kind is EventKind.SMS_FAILED
    assert event.raw == {"gateway_id": "msg_77", "status": status, "error": "absent subscriber"}


async def test_a_reply_becomes_an_event_of_the_campaigns_from_the_senders_number(
    context: WebContext, hub_socket: socket.socket
) -> None:
    hub = RecordingHub()
    async with endpoint(context, hub_socket, hub) as api:
        answer = await api.post(
            {"type": "reply", "id": "in_5", "from": "912345678", "text": "PARAR", "at": AT.isoformat()}
        )
    assert answer.status_code == 202, answer.text
    assert hub.events == [
        CallEvent(
            source="campaigns",
            call_id="reply-in_5",
            kind=EventKind.SMS_DELIVERED,
            at=AT,
            caller=MOBILE,
            raw={"reply": "PARAR"},
        )
    ]


async def test_a_message_sent_by_a_worker_comes_back_as_an_event_when_the_gateway_reports_it(
    context: WebContext, plugins: Plugins, gateway: FakeGateway, hub_socket: socket.socket
) -> None:
    hub = RecordingHub()
    record_id = stored_sms(context.store, plugins)
    worker = Worker(context.store, plugins.registry, context.settings, worker_id="test")
    try:
        await worker.run_once()
    finally:
        await worker.aclose()
    sent = gateway.message(record_id)
    assert (sent.body["text"], sent.body["to"], sent.body["from"]) == (TEXT, MOBILE, "ClinicaAcme")
    assert sent.body["callback_url"] == callback_url(hub_socket)
    async with endpoint(context, hub_socket, hub) as api:
        answer = await gateway.report(sent.id, "delivered", at=AT)
        assert api.source.connected
    assert answer.status_code == 202, answer.text
    assert [(e.source, e.call_id, e.kind, e.raw["gateway_id"]) for e in hub.events] == [
        ("campaigns", "sms-1", EventKind.SMS_DELIVERED, sent.id)
    ]


async def test_a_reply_that_names_the_message_answered_becomes_an_event_of_its_call(
    context: WebContext, plugins: Plugins, hub_socket: socket.socket
) -> None:
    hub = RecordingHub()
    record_id = stored_sms(context.store, plugins)
    async with endpoint(context, hub_socket, hub) as api:
        answer = await api.post(
            {"type": "reply", "id": "in_6", "from": MOBILE, "text": "Parar", "reference": record_id}
        )
    assert answer.status_code == 202, answer.text
    [event] = hub.events
    assert (event.source, event.call_id, event.kind, event.caller) == (
        "campaigns",
        "sms-1",
        EventKind.SMS_DELIVERED,
        MOBILE,
    )
    assert event.raw == {"reply": "Parar"}


async def test_campaign_sms_reports_and_a_stop_reply_go_through_the_real_engine(
    context: WebContext, plugins: Plugins, gateway: FakeGateway, hub_socket: socket.socket
) -> None:
    store = context.store
    accounts.purchase(
        store, plugins.registry, "acme", document_for_plan("12m"), lisbon("2026-03-01 08:00"), TariffConfig()
    )
    csv = "name,number,appointment,language,channel\nMaria Simões,912345678,2026-03-20 10:30,pt,sms\n"
    templates = {"pt": "Olá {{ name }}, lembramos a sua consulta a {{ appointment_date }} às {{ appointment_time }}."}
    campaign = campaigns_admin.create_campaign(
        store, plugins.registry, "acme", csv, templates, created_by="operator", now=lisbon("2026-03-02 08:00")
    )
    assert send_due_sms(store, plugins.registry, context.settings, now=lisbon("2026-03-02 10:00"))["sent"] == 1
    worker = Worker(store, plugins.registry, context.settings, worker_id="test")
    try:
        await worker.run_once()
    finally:
        await worker.aclose()
    [sent] = gateway.messages.values()
    assert sent.body["to"] == MOBILE
    assert sent.body["text"].startswith("Olá Maria Simões, lembramos a sua consulta")
    assert (sent.body["encoding"], sent.body["segments"]) == ("UCS-2", 1)

    async with endpoint(context, hub_socket, Hub(context.engine)) as api:
        delivered = await gateway.report(sent.id, "delivered", at=lisbon("2026-03-02 10:00:07"))
        stop = await gateway.reply(api.url + "/sms/reports", MOBILE, "PARAR", answering=sent.id)
    assert (delivered.status_code, stop.status_code) == (202, 202), (delivered.text, stop.text)
    [contact] = campaigns_admin.show_campaign(store, campaign["id"])["contact_list"]
    assert contact["status"] == "delivered"
    with store.connect() as conn:
        opted_out = optouts.get(conn, MOBILE)
    assert opted_out is not None and opted_out["client"] == "acme"


async def test_a_stop_reply_that_names_no_message_is_accepted_by_the_real_engine_and_opts_the_sender_out(
    context: WebContext, plugins: Plugins, hub_socket: socket.socket
) -> None:
    store = context.store
    accounts.purchase(
        store, plugins.registry, "acme", document_for_plan("12m"), lisbon("2026-03-01 08:00"), TariffConfig()
    )
    csv = "name,number,appointment,language,channel\nMaria Simões,912345678,2026-03-20 10:30,pt,sms\n"
    templates = {"pt": "Olá {{ name }}, lembramos a sua consulta a {{ appointment_date }}."}
    campaigns_admin.create_campaign(
        store, plugins.registry, "acme", csv, templates, created_by="operator", now=lisbon("2026-03-02 08:00")
    )
    assert send_due_sms(store, plugins.registry, context.settings, now=lisbon("2026-03-02 10:00"))["sent"] == 1
    async with endpoint(context, hub_socket, Hub(context.engine)) as api:
        answer = await api.post({"type": "reply", "id": "in_8", "from": "912 345 678", "text": "PARAR"})
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": True, "event": "sms_delivered", "call_id": "reply-in_8"}
    with store.connect() as conn:
        opted_out = optouts.get(conn, MOBILE)
    assert opted_out is not None and opted_out["client"] == "acme"


async def test_a_report_the_engine_refuses_gets_422_with_the_engines_reason(
    context: WebContext, hub_socket: socket.socket
) -> None:
    engine = context.engine
    offered = datetime(2026, 6, 15, 21, 0, tzinfo=UTC)  # after hours: a free record, no contract needed
    engine.handle(CallEvent(call_id="c1", kind=EventKind.OFFERED, at=offered, did="+351217000001", caller=MOBILE))
    engine.handle(CallEvent(call_id="c1", kind=EventKind.ENDED, at=offered + timedelta(seconds=20)))
    async with endpoint(context, hub_socket, Hub(engine)) as api:
        answer = await api.post(report(record_id_for("ingest", "c1")))
        assert not api.task.done()
    assert answer.status_code == 422
    assert "the hub refused it" in answer.json()["error"]["message"]


# ----------------------------------------------------------------- bad reports


async def test_a_report_without_a_signature_is_refused(context: WebContext, hub_socket: socket.socket) -> None:
    hub = RecordingHub()
    async with endpoint(context, hub_socket, hub) as api:
        answer = await api.http.post("/sms/reports", json=report("rec_x"))
    assert answer.status_code == 401
    assert answer.json()["error"]["message"].startswith("the X-Signature header is missing")
    assert not hub.events


async def test_a_report_signed_with_another_secret_is_refused(context: WebContext, hub_socket: socket.socket) -> None:
    hub = RecordingHub()
    async with endpoint(context, hub_socket, hub) as api:
        answer = await api.post(report("rec_x"), secret="another-secret-of-enough-length")
    assert answer.status_code == 401
    assert "does not match the body" in answer.json()["error"]["message"]
    assert not hub.events


async def test_a_signature_written_with_its_algorithm_prefix_is_accepted(
    context: WebContext, plugins: Plugins, hub_socket: socket.socket
) -> None:
    hub = RecordingHub()
    record_id = stored_sms(context.store, plugins)
    body = json.dumps(report(record_id)).encode()
    async with endpoint(context, hub_socket, hub) as api:
        answer = await api.post(body, signature="sha256=" + sign(REPORTS_SECRET, body).upper())
    assert answer.status_code == 202, answer.text


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"delivered", "the body is not JSON"),
        (b"[1, 2]", "the body must be a JSON object"),
        ({"id": "m1", "status": "delivered", "at": AT.isoformat()}, "reference: Field required"),
        ({"id": "m1", "reference": "r", "status": "read", "at": AT.isoformat()}, "status: Input should be"),
        ({"id": "m1", "reference": "r", "status": "delivered", "at": "2026-06-15T10:00:00"}, "at: Input should have"),
        ({"type": "reply", "id": "in_1", "text": "STOP"}, "from: Field required"),
        ({"type": "receipt", "id": "m1"}, "unknown type 'receipt'"),
    ],
)
async def test_a_post_that_is_not_a_report_gets_400_saying_why(
    context: WebContext, hub_socket: socket.socket, payload: Any, says: str
) -> None:
    hub = RecordingHub()
    async with endpoint(context, hub_socket, hub) as api:
        answer = await api.post(payload)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
    assert says in answer.json()["error"]["message"]
    assert not hub.events


async def test_a_report_of_an_unknown_record_gets_404(context: WebContext, hub_socket: socket.socket) -> None:
    async with endpoint(context, hub_socket, RecordingHub()) as api:
        answer = await api.post(report("rec_nosuchrecord"))
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "report msg_77: no record 'rec_nosuchrecord'"


async def test_a_reply_to_an_unknown_record_gets_404(context: WebContext, hub_socket: socket.socket) -> None:
    hub = RecordingHub()
    async with endpoint(context, hub_socket, hub) as api:
        answer = await api.post({"type": "reply", "id": "in_2", "from": MOBILE, "text": "STOP", "reference": "rec_x"})
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "reply in_2: no record 'rec_x'"
    assert not hub.events


async def test_a_body_too_large_to_be_a_report_gets_413(context: WebContext, hub_socket: socket.socket) -> None:
    async with endpoint(context, hub_socket, RecordingHub()) as api:
        answer = await api.post(b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert answer.status_code == 413


async def test_bad_reports_never_stop_the_source(
    context: WebContext, plugins: Plugins, hub_socket: socket.socket
) -> None:
    hub = RecordingHub()
    record_id = stored_sms(context.store, plugins)
    async with endpoint(context, hub_socket, hub) as api:
        statuses = [(await api.post(payload)).status_code for payload in (b"{", {"id": 1}, report("rec_unknown"))]
        good = await api.post(report(record_id))
        assert not api.task.done()
    assert statuses == [400, 400, 404]
    assert good.status_code == 202
    assert len(hub.events) == 1


async def test_numbers_are_masked_in_the_logs_of_replies_and_refused_reports(
    context: WebContext, hub_socket: socket.socket, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with endpoint(context, hub_socket, RecordingHub()) as api:
        await api.post({"type": "reply", "id": "in_9", "from": MOBILE, "text": "STOP"})
        await api.post(report("+351912345678"))
    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("recado_sms"))
    assert "reply in_9 from +3519******78" in logged
    assert "refused (HTTP 404)" in logged
    assert "912345678" not in logged


async def test_reports_wait_while_the_source_is_not_running(context: WebContext, hub_socket: socket.socket) -> None:
    async with endpoint(context, hub_socket, RecordingHub(), run_source=False) as api:
        answer = await api.post(report("rec_x"))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "30"


async def test_without_an_sms_reports_source_the_hub_has_no_reports_endpoint(
    context: WebContext, hub_socket: socket.socket
) -> None:
    app = create_app(context)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        answer = await http.post("/sms/reports", content=b"{}")
    assert answer.status_code in (404, 405)


# ---------------------------------------------------------------- the settings


def test_the_secret_may_be_named_by_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_REPORTS_SECRET", REPORTS_SECRET)
    config = SmsReportsConfig.model_validate({"secret": {"$env": "SMS_REPORTS_SECRET"}})
    assert config.secret.get_secret_value() == REPORTS_SECRET
    assert REPORTS_SECRET not in repr(config)


def test_a_missing_environment_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMS_REPORTS_SECRET", raising=False)
    with pytest.raises(ValueError, match="environment variable SMS_REPORTS_SECRET is not set"):
        SmsReportsConfig.model_validate({"secret": {"$env": "SMS_REPORTS_SECRET"}})


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        SmsReportsConfig.model_validate({"secret": "short"})


def test_the_plugin_registers_the_sink_and_the_source(plugins: Plugins) -> None:
    [info] = [i for i in plugins.list() if i.name == "sms"]
    assert (info.sinks, info.sources, info.errors) == (["sms"], ["sms_reports"], [])
    assert plugins.registry.sends_messages("sms")
