"""Destinations that fail for a while: every record still arrives, once in effect, when they come back.

The peers are real: a webhook receiver on 127.0.0.1 that verifies signatures and
deduplicates by webhook-id, and an SMTP server (aiosmtpd).
"""

from __future__ import annotations

import email
import json
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from recado_webhook.testing import Reply, WebhookReceiver
from sqlalchemy import select, update

from hub.core import store as t
from hub.core.store import from_db
from hub.core.worker import Worker
from hub.settings import DeliverySettings, Settings


def worker_of(hub: Any, **policy: Any) -> Worker:
    """A worker of `hub` with the given delivery policy."""
    settings = Settings(database_url=hub.store.url, delivery=DeliverySettings(**policy))
    return Worker(hub.store, hub.plugins.registry, settings, worker_id="w-test")


async def drain(worker: Worker, hub: Any, rounds: int = 20) -> None:
    """Run the worker until nothing is pending (every retry here is due at once)."""
    for _ in range(rounds):
        if "pending" not in hub.statuses():
            return
        await worker.run_once()
    raise AssertionError(f"still pending after {rounds} rounds: {Counter(hub.statuses())}")


def record_ids(hub: Any) -> set[str]:
    """The record ids in the outbox."""
    return {str(row["record_id"]) for row in hub.rows()}


def recado(*args: str) -> Any:
    """Run `recado … --json` and parse what it prints."""
    command = [str(Path(sys.executable).parent / "recado"), *args, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


async def test_a_destination_down_for_long_dead_letters_its_records_and_replay_delivers_them(
    hub: Any, receiver: WebhookReceiver
) -> None:
    hub.configure(receiver.url)
    hub.calls(4)
    receiver.unavailable(times=1000)
    worker = worker_of(hub, schedule_s=[0, 0, 0])
    await drain(worker, hub)
    assert hub.statuses() == ["dead"] * 4
    assert [row["attempts"] for row in hub.rows()] == [3] * 4
    assert receiver.effects() == {}
    receiver.reset()
    assert recado("--db", hub.store.url, "deliveries", "replay") == {"replayed": 4}
    await worker.run_once()
    assert hub.statuses() == ["delivered"] * 4
    assert receiver.effects() == {record_id: 1 for record_id in record_ids(hub)}


async def test_a_429_storm_is_retried_no_sooner_than_its_retry_after(hub: Any, receiver: WebhookReceiver) -> None:
    hub.configure(receiver.url)
    hub.calls(3)
    receiver.unavailable(times=3, retry_after=120)
    worker = worker_of(hub)
    await worker.run_once()
    rows = hub.rows()
    assert [row["status"] for row in rows] == ["pending"] * 3
    for row in rows:
        waited = datetime.fromisoformat(str(row["next_attempt_at"])) - datetime.fromisoformat(str(row["created_at"]))
        assert waited >= timedelta(seconds=120)
    again = await worker.run_once()
    assert again.delivered == 0
    assert len(receiver.received) == 3


async def test_records_held_back_by_retry_after_are_delivered_once_it_has_passed(
    hub: Any, receiver: WebhookReceiver
) -> None:
    hub.configure(receiver.url)
    hub.calls(3)
    receiver.unavailable(times=3, retry_after=120)
    worker = worker_of(hub)
    await worker.run_once()
    # Two minutes go by.
    with hub.store.begin() as conn:
        conn.execute(update(t.outbox).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    stats = await worker.run_once()
    assert stats.delivered == 3
    assert receiver.effects() == {record_id: 1 for record_id in record_ids(hub)}


async def test_bursts_of_server_errors_are_retried_until_every_record_arrives_once(
    hub: Any, receiver: WebhookReceiver
) -> None:
    hub.configure(receiver.url)
    hub.calls(6)
    receiver.plan(Reply(500, b"boom"), times=4)
    receiver.plan(Reply(502, b"bad gateway"), times=3)
    receiver.plan(Reply(504, b"gateway timeout"), times=2)
    worker = worker_of(hub, schedule_s=[0] * 8)
    await drain(worker, hub)
    assert hub.statuses() == ["delivered"] * 6
    assert receiver.effects() == {record_id: 1 for record_id in record_ids(hub)}
    with hub.store.connect() as conn:
        outcomes = Counter(row.outcome for row in conn.execute(select(t.delivery_attempts.c.outcome)))
    assert outcomes == {"retry": 9, "delivered": 6}


class SlowReceiver(WebhookReceiver):
    """Keeps each delivery at once, but answers the first few only after `delay_s`."""

    def __init__(self, secrets: list[str], slow: int, delay_s: float) -> None:
        super().__init__(secrets)
        self.slow = slow
        self.delay_s = delay_s

    def handle(self, headers: Any, body: bytes) -> Reply:
        reply = super().handle(headers, body)
        if self.slow > 0:
            self.slow -= 1
            return Reply(reply.status, reply.body, reply.headers, delay_s=self.delay_s)
        return reply


async def test_answers_slower_than_the_timeout_are_retried_and_counted_once_by_webhook_id(
    hub: Any, hook_secret: str
) -> None:
    with SlowReceiver([hook_secret], slow=3, delay_s=1.5) as slow:
        hub.configure(slow.url, timeout=0.3)
        hub.calls(3)
        worker = worker_of(hub, schedule_s=[0] * 4)
        first = await worker.run_once()
        assert first.retried == 3
        assert all("within 0.3 s" in str(row["last_error"]) for row in hub.rows())
        await drain(worker, hub)
        assert hub.statuses() == ["delivered"] * 3
        assert len(slow.received) == 6
        assert slow.effects() == {record_id: 1 for record_id in record_ids(hub)}


class Mailbox:
    """An SMTP peer that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class RefusingMailbox(Mailbox):
    """Answers 451 (try later) to the first `refuse` messages."""

    def __init__(self, refuse: int) -> None:
        super().__init__()
        self.refuse = refuse

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 mailbox busy, try again later"
        return await super().handle_DATA(server, session, envelope)


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smtp_client(port: int) -> str:
    """`acme` with one email destination through the SMTP server at `port`."""
    return f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt]
    script: {{version: 1, fields: [{{name: name, label: {{pt: Nome}}, type: text}}]}}
    destinations:
      - id: mail
        kind: email
        settings:
          to: ["rececao@acme.example"]
          smtp: {{host: 127.0.0.1, port: {port}, security: plain, timeout: 5}}
"""


def message_ids(mailbox: Mailbox) -> Counter[str]:
    """How many messages arrived per Message-ID."""
    return Counter(str(message["Message-ID"]) for message in mailbox.messages)


async def test_an_smtp_server_that_is_down_then_refuses_then_accepts_gets_every_record_once(hub: Any) -> None:
    port = free_port()
    hub.configure("", text=smtp_client(port))
    hub.calls(4)
    worker = worker_of(hub, schedule_s=[0] * 8)
    down = await worker.run_once()
    assert down.retried == 4
    mailbox = RefusingMailbox(refuse=5)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await drain(worker, hub)
    finally:
        controller.stop()
    assert hub.statuses() == ["delivered"] * 4
    assert len(mailbox.messages) == 4
    assert set(message_ids(mailbox).values()) == {1}


@pytest.mark.parametrize("status", [503, 429])
async def test_attempts_and_the_last_error_are_kept_while_a_destination_is_failing(
    hub: Any, receiver: WebhookReceiver, status: int
) -> None:
    hub.configure(receiver.url)
    hub.calls(1)
    receiver.unavailable(times=1, retry_after=None if status == 503 else 1)
    await worker_of(hub).run_once()
    [row] = hub.rows()
    assert row["attempts"] == 1
    assert str(status) in str(row["last_error"])
    with hub.store.connect() as conn:
        next_at = from_db(conn.execute(select(t.outbox.c.next_attempt_at)).scalar_one())
    assert next_at is not None and next_at > datetime.fromisoformat(str(row["created_at"]))
