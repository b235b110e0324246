"""Campaign records reach the client's destinations over real sockets: a webhook receiver and an SMS gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import outbox_worker
import pytest
from campaign_setup import SMS_TOKEN, SmsGateway, apply_clients, buy_contract, lisbon, phone_file, sms_file, upload
from jsonschema import Draft202012Validator
from recado_webhook.signing import new_secret
from recado_webhook.testing import WebhookReceiver

from hub.core import campaigns_admin
from hub.core.campaigns import next_phone_task, record_outcome
from hub.core.campaigns_sms import send_due_sms
from hub.core.engine import Engine
from hub.core.models import CallEvent, EventKind
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

PLUGINS = Plugins(only={"webhook", "sms", "email"})
SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "schemas" / "record.v1.json"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    secret = new_secret()
    monkeypatch.setenv("CAMPAIGN_HOOK_SECRET", secret)
    monkeypatch.setenv("RECADO_WEBHOOK_ALLOW_PRIVATE", "true")
    with WebhookReceiver([secret]) as started:
        yield started


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmsGateway]:
    monkeypatch.setenv("CAMPAIGN_SMS_TOKEN", SMS_TOKEN)
    with SmsGateway() as started:
        yield started


@pytest.fixture
def acme(sqlite_store: Store, tmp_path: Path, receiver: WebhookReceiver, gateway: SmsGateway) -> Store:
    apply_clients(sqlite_store, PLUGINS, tmp_path, gateway.url, receiver.url)
    buy_contract(sqlite_store, PLUGINS, "acme")
    return sqlite_store


def deliver(store: Store) -> None:
    outbox_worker.deliver(store, PLUGINS)


def received_records(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    events = [request.payload() for request in receiver.received if request.status == 200]
    return [event for event in events if str(event["type"]).startswith("call.record.")]


def test_sms_and_phone_records_reach_the_webhook_and_only_the_sms_reach_the_gateway(
    acme: Store, receiver: WebhookReceiver, gateway: SmsGateway
) -> None:
    settings = Settings(database_url=acme.url)
    upload(acme, PLUGINS, sms_file(2))
    upload(acme, PLUGINS, phone_file(1, start=10))
    send_due_sms(acme, PLUGINS.registry, settings, now=lisbon("2026-03-02 10:00"))
    task = next_phone_task(acme, agent="rui", now=lisbon("2026-03-02 10:01"), settings=settings)
    assert task is not None
    record_outcome(acme, PLUGINS.registry, task.contact_id, "confirmed", at=lisbon("2026-03-02 10:03"), agent="rui")
    deliver(acme)
    hooked = sorted(
        (e["data"]["channel"], e["data"]["disposition"], e["data"]["caller"]) for e in received_records(receiver)
    )
    assert hooked == [
        ("sms", "sms_sent", "+351910000000"),
        ("sms", "sms_sent", "+351910001007"),
        ("voice", "confirmed", task.number),
    ]
    assert sorted((m["to"], m["from"]) for m in gateway.messages) == [
        ("+351910000000", "ClinicaAcme"),
        ("+351910001007", "ClinicaAcme"),
    ]
    texts = {m["to"]: m["text"] for m in gateway.messages}
    assert texts["+351910000000"] == "Olá Maria Silva, lembramos a sua consulta na Clínica Acme a 20/03/2026 às 10:30."


def test_the_gateway_gets_the_record_id_as_reference_and_idempotency_key(acme: Store, gateway: SmsGateway) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1))
    send_due_sms(acme, PLUGINS.registry, Settings(database_url=acme.url), now=lisbon("2026-03-02 10:00"))
    deliver(acme)
    record_id = campaigns_admin.show_campaign(acme, campaign["id"])["contact_list"][0]["record_id"]
    assert [(m["reference"], m["idempotency_key"]) for m in gateway.messages] == [(record_id, record_id)]


def test_a_failed_sms_reaches_the_webhook_as_an_update_and_is_not_sent_again(
    acme: Store, receiver: WebhookReceiver, gateway: SmsGateway
) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1))
    send_due_sms(acme, PLUGINS.registry, Settings(database_url=acme.url), now=lisbon("2026-03-02 10:00"))
    deliver(acme)
    contact_id = campaigns_admin.show_campaign(acme, campaign["id"])["contact_list"][0]["id"]
    Engine(acme, PLUGINS.registry, Settings(database_url=acme.url)).handle(
        CallEvent(
            source="campaigns",
            call_id=f"contact-{contact_id}",
            kind=EventKind.SMS_FAILED,
            at=lisbon("2026-03-02 10:00:20"),
            raw={"reason": "number not in service"},
        )
    )
    deliver(acme)
    types = [(e["type"], e["data"]["disposition"], e["data"]["price_cents"]) for e in received_records(receiver)]
    assert types == [("call.record.created", "sms_sent", 100), ("call.record.updated", "sms_failed", 0)]
    assert len(gateway.messages) == 1


def test_outbound_records_follow_the_published_webhook_schema(acme: Store, receiver: WebhookReceiver) -> None:
    settings = Settings(database_url=acme.url)
    upload(acme, PLUGINS, sms_file(1))
    upload(acme, PLUGINS, phone_file(2, start=10))
    send_due_sms(acme, PLUGINS.registry, settings, now=lisbon("2026-03-02 10:00"))
    for outcome, agent in (("rescheduled", "ana"), ("no_answer", "rui")):
        task = next_phone_task(acme, agent=agent, now=lisbon("2026-03-02 10:01"), settings=settings)
        assert task is not None
        moved = lisbon("2026-03-27 15:00") if outcome == "rescheduled" else None
        record_outcome(
            acme, PLUGINS.registry, task.contact_id, outcome, at=lisbon("2026-03-02 10:05"), agent=agent,
            rescheduled_to=moved,
        )  # fmt: skip
    deliver(acme)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    events = received_records(receiver)
    assert sorted(e["data"]["disposition"] for e in events) == ["no_answer", "rescheduled", "sms_sent"]
    for event in events:
        Draft202012Validator(schema).validate(event)
        # The data is a whole record (no mapping): checked against the record's own definition too.
        Draft202012Validator(schema | {"anyOf": [{"$ref": "#/$defs/callRecord"}]}).validate(event["data"])
