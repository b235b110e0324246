"""Digest destinations through the outbox: records held until the digest time, one email, no duplicates.

The hub's real engine, outbox and worker deliver to an aiosmtpd server on 127.0.0.1. Rows
are queued at the wall clock; the worker is given the time (its `clock`) to play the
digest time without waiting for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import Envelope, Session
from mail_relay import AnyPortController
from outbox_worker import run_worker_once
from sample_clients import buy

from hub.core import directory, outbox
from hub.core.dispatch import Dispatcher, Item
from hub.core.engine import Engine
from hub.core.hours import HoursConfig, Weekday
from hub.core.models import CallEvent, Delivered, EventKind, WrapUp
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

LISBON = ZoneInfo("Europe/Lisbon")
ALWAYS_OPEN = HoursConfig(
    windows={day: ["00:00-24:00"] for day in Weekday}, lisbon_holiday=False, national_holidays=False
)
NAMES = ("Inês Araújo", "Rui Gonçalves", "Maria Simões")


class Relay:
    """A mail relay that can answer 451 to the next few messages."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.refuse_next = 0
        self.port = 0

    async def handle_MAIL(self, server: Any, session: Session, envelope: Envelope, address: str, options: Any) -> str:
        with self.lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return "451 4.3.2 try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def relay() -> Iterator[Relay]:
    found = Relay()
    controller = AnyPortController(found, hostname="127.0.0.1", port=0)
    controller.start()
    found.port = controller.port
    yield found
    controller.stop()


def clients_yaml(port: int) -> str:
    smtp = f'{{host: "127.0.0.1", port: {port}, security: plain}}'
    return f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    script: {{version: 1, fields: [{{name: name, label: {{pt: Nome, en: Name}}, type: text}}]}}
    destinations:
      - id: digest
        kind: email
        settings: {{to: ["resumo@acme.example"], smtp: {smtp}, delivery: digest, digest_times: ["13:00"]}}
      - id: each
        kind: email
        settings: {{to: ["rececao@acme.example"], smtp: {smtp}}}
"""


@pytest.fixture
def hub(sqlite_store: Store, plugins: Plugins, relay: Relay, tmp_path: Path) -> Store:
    """`acme` with a digest destination (13:00) and an each destination, and three answered calls."""
    directory.apply_file(sqlite_store, plugins.registry, tmp_path / "clients.yaml", text=clients_yaml(relay.port))
    buy(sqlite_store, plugins, "acme")
    engine = Engine(sqlite_store, plugins.registry, Settings(database_url=sqlite_store.url, hours=ALWAYS_OPEN))
    start = datetime.now(UTC) - timedelta(hours=1)
    for number, name in enumerate(NAMES):
        call = f"call-{number}"
        at = start + timedelta(minutes=10 * number)
        engine.handle(
            CallEvent(call_id=call, kind=EventKind.OFFERED, at=at, did="+351217000001", caller="+351912345678")
        )
        engine.handle(CallEvent(call_id=call, kind=EventKind.ANSWERED, at=at + timedelta(seconds=5), agent="ana"))
        engine.handle(CallEvent(call_id=call, kind=EventKind.ENDED, at=at + timedelta(seconds=95)))
        engine.wrapup(WrapUp(call_id=call, agent="ana", answers={"name": name}))
    return sqlite_store


def next_one_pm(after: datetime) -> datetime:
    """The first 13:00 in Lisbon at or after `after` (written out for the test)."""
    local = after.astimezone(LISBON)
    candidate = datetime.combine(local.date(), time(13), tzinfo=LISBON)
    return candidate if candidate >= after else datetime.combine(local.date() + timedelta(days=1), time(13), LISBON)


def run_worker(store: Store, plugins: Plugins, at: datetime | None = None) -> None:
    settings = Settings(database_url=store.url)
    settings.delivery.schedule_s = [0, 300, 300, 300]
    run_worker_once(store, plugins.registry, settings, worker_id="w", clock=(lambda: at) if at else None)


def digest_rows(store: Store) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return [row for row in outbox.list_rows(conn, client="acme") if row["destination"] == "digest"]


def created(store: Store) -> datetime:
    return datetime.fromisoformat(str(digest_rows(store)[-1]["created_at"]))


def test_records_of_a_digest_destination_wait_for_the_digest_time(hub: Store, plugins: Plugins, relay: Relay) -> None:
    run_worker(hub, plugins)
    rows = digest_rows(hub)
    one_pm = next_one_pm(created(hub))
    assert [row["status"] for row in rows] == ["pending"] * 3
    assert {datetime.fromisoformat(str(row["next_attempt_at"])) for row in rows} == {one_pm}
    assert [row["attempts"] for row in rows] == [0, 0, 0]  # holding is not an attempt
    assert relay.to("resumo@acme.example") == []


def test_at_the_digest_time_one_email_lists_every_record_with_the_balance(
    hub: Store, plugins: Plugins, relay: Relay
) -> None:
    run_worker(hub, plugins)
    one_pm = next_one_pm(created(hub))
    run_worker(hub, plugins, one_pm - timedelta(seconds=30))
    assert relay.to("resumo@acme.example") == []
    run_worker(hub, plugins, one_pm)
    [digest] = relay.to("resumo@acme.example")
    text = digest.get_body(("plain",)).get_content()
    assert digest["Subject"] == "3 chamadas desde o último resumo — Clínica Acme"
    assert all(name in text for name in NAMES)
    assert "Saldo: 151,50 €" in text  # 156.00 of contract, three calls at 1.50
    assert "Chamadas atendidas este mês: 3" in text
    assert {row["status"] for row in digest_rows(hub)} == {"delivered"}
    assert {row["remote_id"] for row in digest_rows(hub)} == {digest["Message-ID"]}


def test_the_each_destination_is_unchanged_one_email_per_record_at_once(
    hub: Store, plugins: Plugins, relay: Relay
) -> None:
    run_worker(hub, plugins)
    each = relay.to("rececao@acme.example")
    assert len(each) == 3
    assert sorted(str(m["Subject"]) for m in each) == ["Chamada de +351 912 345 678 — Clínica Acme"] * 3


def test_a_failed_digest_is_retried_whole_and_sent_once(hub: Store, plugins: Plugins, relay: Relay) -> None:
    run_worker(hub, plugins)
    relay.refuse_next = 1
    one_pm = next_one_pm(created(hub))
    run_worker(hub, plugins, one_pm)
    rows = digest_rows(hub)
    assert [row["attempts"] for row in rows] == [1, 1, 1]
    assert len({row["next_attempt_at"] for row in rows}) == 1  # retried together, in one batch
    run_worker(hub, plugins, one_pm + timedelta(minutes=10))
    [digest] = relay.to("resumo@acme.example")
    assert all(name in digest.get_body(("plain",)).get_content() for name in NAMES)


def test_a_digest_sent_by_a_worker_that_died_is_the_same_email_when_sent_again(
    hub: Store, plugins: Plugins, relay: Relay
) -> None:
    run_worker(hub, plugins)
    one_pm = next_one_pm(created(hub))
    claimed = [
        row for row in outbox.claim(hub, "dying", now=one_pm, lease_s=60, limit=100) if row.destination == "digest"
    ]
    dispatcher = Dispatcher(hub, plugins.registry, hub.secret_box())
    destination = dispatcher.destination("acme", "digest")
    items = [Item(row.id, row.idempotency_key, record_id=row.record_id) for row in claimed]
    outcomes = asyncio.run(destination.sink.deliver([dispatcher.delivery(destination, item) for item in items]))
    assert all(isinstance(outcome, Delivered) for outcome in outcomes)
    # ... and the worker dies before writing down the outcome: its lease runs out.
    run_worker(hub, plugins, one_pm + timedelta(minutes=5))
    first, second = relay.to("resumo@acme.example")
    assert first["Message-ID"] == second["Message-ID"]  # the same email: mail clients show it once
    assert {row["status"] for row in digest_rows(hub)} == {"delivered"}


def test_records_after_a_digest_wait_for_the_next_one(hub: Store, plugins: Plugins, relay: Relay) -> None:
    run_worker(hub, plugins)
    one_pm = next_one_pm(created(hub))
    run_worker(hub, plugins, one_pm)
    run_worker(hub, plugins, one_pm + timedelta(hours=3))
    assert len(relay.to("resumo@acme.example")) == 1
