"""Workers deliver the outbox over real SMTP (aiosmtpd on 127.0.0.1): leases, retries, dead letters, replay."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sample_clients import buy, lisbon
from sqlalchemy import select, update

from hub.core import directory, outbox
from hub.core import store as t
from hub.core.engine import Engine
from hub.core.models import CallEvent, EventKind, WrapUp
from hub.core.store import Store
from hub.core.worker import Worker
from hub.plugins import Plugins
from hub.settings import DeliverySettings, Settings


class Mailbox:
    """An SMTP peer that keeps what it receives and can answer 451 (try later) for a while."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.busy = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()


def smtp_clients(port: int) -> str:
    return f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    script:
      version: 1
      fields: [{{name: name, label: {{pt: Nome, en: Name}}, type: text}}]
    destinations:
      - id: mail
        kind: email
        settings:
          to: ["rececao@acme.example"]
          smtp: {{host: 127.0.0.1, port: {port}, security: plain, timeout: 5}}
"""


@pytest.fixture
def with_calls(store: Store, plugins: Plugins, tmp_path: Path, smtp: tuple[Mailbox, int]) -> Store:
    """Three answered calls of `acme`, their records waiting in the outbox."""
    directory.apply_file(store, plugins.registry, tmp_path / "c.yaml", text=smtp_clients(smtp[1]))
    buy(store, plugins, "acme")
    engine = Engine(store, plugins.registry, Settings(database_url=store.url))
    for number in range(3):
        at = lisbon("2026-03-02 10:00") + timedelta(minutes=10 * number)
        engine.handle(
            CallEvent(call_id=f"c{number}", kind=EventKind.OFFERED, at=at, did="+351217000001", caller="+351912345678")
        )
        engine.handle(
            CallEvent(call_id=f"c{number}", kind=EventKind.ANSWERED, at=at + timedelta(seconds=5), agent="ana")
        )
        engine.handle(CallEvent(call_id=f"c{number}", kind=EventKind.ENDED, at=at + timedelta(minutes=2)))
        engine.wrapup(WrapUp(call_id=f"c{number}", agent="ana", answers={"name": f"Caller {number}"}))
    return store


def worker(store: Store, plugins: Plugins, name: str = "w1", **policy: Any) -> Worker:
    settings = Settings(database_url=store.url, delivery=DeliverySettings(**policy))
    return Worker(store, plugins.registry, settings, worker_id=name)


def statuses(store: Store) -> list[str]:
    with store.connect() as conn:
        return [row["status"] for row in outbox.list_rows(conn)]


async def test_worker_delivers_every_pending_record_by_smtp(
    with_calls: Store, plugins: Plugins, smtp: tuple[Mailbox, int]
) -> None:
    stats = await worker(with_calls, plugins).run_once()
    assert stats.delivered == 3
    assert statuses(with_calls) == ["delivered"] * 3
    assert len(smtp[0].messages) == 3


async def test_each_email_carries_the_record_id_as_message_id(
    with_calls: Store, plugins: Plugins, smtp: tuple[Mailbox, int]
) -> None:
    await worker(with_calls, plugins).run_once()
    with with_calls.connect() as conn:
        record_ids = {row["record_id"] for row in outbox.list_rows(conn)}
    message_ids = {message["Message-ID"].strip("<>").split("@")[0] for message in smtp[0].messages}
    assert message_ids == record_ids


async def test_refused_smtp_is_retried_later_and_nothing_is_lost(
    with_calls: Store, plugins: Plugins, smtp: tuple[Mailbox, int]
) -> None:
    mailbox = smtp[0]
    mailbox.busy = 3
    first = await worker(with_calls, plugins, schedule_s=[0, 0, 0, 0, 0, 0, 0, 0]).run_once()
    assert first.retried == 3
    with with_calls.connect() as conn:
        rows = outbox.list_rows(conn)
    assert all(row["status"] == "pending" and row["attempts"] == 1 and row["last_error"] for row in rows)
    await asyncio.sleep(0.05)
    second = await worker(with_calls, plugins, schedule_s=[0, 0, 0, 0, 0, 0, 0, 0]).run_once()
    assert second.delivered == 3
    assert len(mailbox.messages) == 3


async def test_smtp_server_down_keeps_the_rows_pending(with_calls: Store, plugins: Plugins, tmp_path: Path) -> None:
    closed_port = free_port()
    directory.apply_file(with_calls, plugins.registry, tmp_path / "down.yaml", text=smtp_clients(closed_port))
    stats = await worker(with_calls, plugins).run_once()
    assert stats.retried == 3
    with with_calls.connect() as conn:
        rows = outbox.list_rows(conn)
    assert [row["status"] for row in rows] == ["pending"] * 3
    assert all("127.0.0.1" in (row["last_error"] or "") for row in rows)


async def test_rows_become_dead_after_the_last_attempt_and_replay_sends_them(
    with_calls: Store, plugins: Plugins, smtp: tuple[Mailbox, int]
) -> None:
    smtp[0].busy = 6
    for _ in range(2):
        await worker(with_calls, plugins, schedule_s=[0, 0]).run_once()
        await asyncio.sleep(0.02)
    assert statuses(with_calls) == ["dead"] * 3
    smtp[0].busy = 0
    assert outbox.replay(with_calls, destination="mail") == 3
    stats = await worker(with_calls, plugins).run_once()
    assert stats.delivered == 3
    assert statuses(with_calls) == ["delivered"] * 3


async def test_every_attempt_is_logged_with_its_outcome(
    with_calls: Store, plugins: Plugins, smtp: tuple[Mailbox, int]
) -> None:
    smtp[0].busy = 1
    await worker(with_calls, plugins, schedule_s=[0, 0, 0, 0, 0, 0, 0, 0]).run_once()
    await asyncio.sleep(0.02)
    await worker(with_calls, plugins).run_once()
    with with_calls.connect() as conn:
        outcomes = sorted(row.outcome for row in conn.execute(select(t.delivery_attempts)))
    assert outcomes == ["delivered", "delivered", "delivered", "retry"]


def test_a_leased_row_is_not_claimed_by_another_worker(with_calls: Store) -> None:
    now = datetime.now(UTC)
    first = outbox.claim(with_calls, "w1", now=now, lease_s=60, limit=2)
    second = outbox.claim(with_calls, "w2", now=now, lease_s=60, limit=10)
    assert len(first) == 2
    assert len(second) == 1
    assert not {row.id for row in first} & {row.id for row in second}


def test_an_expired_lease_lets_another_worker_claim_the_row(with_calls: Store) -> None:
    now = datetime.now(UTC)
    claimed = outbox.claim(with_calls, "w1", now=now, lease_s=1, limit=10)
    later = now + timedelta(seconds=5)
    again = outbox.claim(with_calls, "w2", now=later, lease_s=60, limit=10)
    assert {row.id for row in again} == {row.id for row in claimed}


def test_a_worker_that_lost_its_lease_cannot_complete_the_row(with_calls: Store) -> None:
    now = datetime.now(UTC)
    [row, *_] = outbox.claim(with_calls, "w1", now=now, lease_s=1, limit=10)
    outbox.claim(with_calls, "w2", now=now + timedelta(seconds=5), lease_s=60, limit=10)
    with with_calls.begin() as conn:
        assert not outbox.mark_delivered(conn, "w1", row.id, None, "late")
        assert outbox.mark_delivered(conn, "w2", row.id, None, "")


def test_heartbeat_extends_only_the_leases_the_worker_holds(with_calls: Store) -> None:
    now = datetime.now(UTC)
    claimed = outbox.claim(with_calls, "w1", now=now, lease_s=1, limit=10)
    ids = [row.id for row in claimed]
    assert outbox.heartbeat(with_calls, "w1", ids, now=now, lease_s=120) == 3
    assert outbox.heartbeat(with_calls, "w2", ids, now=now, lease_s=120) == 0
    assert outbox.claim(with_calls, "w2", now=now + timedelta(seconds=30), lease_s=60, limit=10) == []


def test_a_paused_destination_is_not_claimed(with_calls: Store) -> None:
    with with_calls.begin() as conn:
        conn.execute(update(t.destinations).values(paused_until=datetime.now(UTC) + timedelta(hours=1)))
    assert outbox.claim(with_calls, "w1", now=datetime.now(UTC), lease_s=60, limit=10) == []


async def test_two_workers_together_deliver_each_row_once(
    with_calls: Store, plugins: Plugins, smtp: tuple[Mailbox, int]
) -> None:
    first, second = worker(with_calls, plugins, "w1", claim_limit=1), worker(with_calls, plugins, "w2", claim_limit=1)
    results = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(stats.delivered for stats in results) == 3
    assert len(smtp[0].messages) == 3


async def test_failed_attempts_wait_as_the_retry_schedule_says(
    with_calls: Store, plugins: Plugins, smtp: tuple[Mailbox, int]
) -> None:
    smtp[0].busy = 3
    before = datetime.now(UTC)
    await worker(with_calls, plugins, schedule_s=[0, 300, 3600], jitter=0).run_once()
    with with_calls.connect() as conn:
        due = [datetime.fromisoformat(row["next_attempt_at"]) for row in outbox.list_rows(conn)]
    assert all(timedelta(seconds=299) <= moment - before <= timedelta(seconds=310) for moment in due)


async def test_a_destination_failing_for_days_is_paused_and_the_operator_alerted(
    with_calls: Store, plugins: Plugins, smtp: tuple[Mailbox, int]
) -> None:
    smtp[0].busy = 10
    four_days_ago = datetime.now(UTC) - timedelta(days=4)
    with with_calls.begin() as conn:
        conn.execute(update(t.outbox).values(created_at=four_days_ago))
    await worker(with_calls, plugins, schedule_s=[0, 0, 0], max_age_s=10 * 86400).run_once()
    with with_calls.connect() as conn:
        destination = conn.execute(select(t.destinations)).one()
        alerts = [row.kind for row in conn.execute(select(t.alerts))]
    assert destination.paused_reason and destination.paused_reason.startswith("failing since")
    assert alerts == ["destination_paused"]
    assert outbox.claim(with_calls, "w9", now=datetime.now(UTC) + timedelta(hours=1), lease_s=60, limit=10) == []


async def test_a_throttled_destination_still_gets_every_record(
    with_calls: Store, plugins: Plugins, smtp: tuple[Mailbox, int]
) -> None:
    stats = await worker(with_calls, plugins, max_per_second=50).run_once()
    assert stats.delivered == 3


class GatedMailbox(Mailbox):
    """A mailbox that holds every message until its gate opens: a platform that is very slow."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 30)
        return await super().handle_DATA(server, session, envelope)


async def test_a_slow_destination_does_not_hold_up_the_others(
    store: Store, plugins: Plugins, tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    slow = GatedMailbox()
    controller = Controller(slow, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        text = (
            smtp_clients(smtp[1])
            + f"""
      - id: slow
        kind: email
        settings:
          to: ["slow@acme.example"]
          smtp: {{host: 127.0.0.1, port: {controller.port}, security: plain, timeout: 30}}
"""
        )
        directory.apply_file(store, plugins.registry, tmp_path / "c.yaml", text=text)
        buy(store, plugins, "acme")
        engine = Engine(store, plugins.registry, Settings(database_url=store.url))

        def missed_call(call_id: str, at: datetime) -> None:
            engine.handle(
                CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=at, did="+351217000001", caller="+351912345678")
            )
            engine.handle(CallEvent(call_id=call_id, kind=EventKind.ENDED, at=at + timedelta(seconds=30)))

        missed_call("c1", lisbon("2026-03-02 10:00"))
        stop = asyncio.Event()
        running = asyncio.create_task(worker(store, plugins, poll_s=0.05).run(stop))
        async with asyncio.timeout(20):
            while not smtp[0].messages:
                await asyncio.sleep(0.05)
        # a record that comes while the slow platform still holds the first one
        missed_call("c2", lisbon("2026-03-02 10:05"))
        async with asyncio.timeout(20):
            while len(smtp[0].messages) < 2:
                await asyncio.sleep(0.05)
        assert not slow.messages
        slow.gate.set()
        async with asyncio.timeout(20):
            while len(slow.messages) < 2:
                await asyncio.sleep(0.05)
        stop.set()
        await running
        assert statuses(store) == ["delivered"] * 4
    finally:
        slow.gate.set()
        controller.stop()
