"""Phone contacts: claimed by agents within the outbound hours, answered with an outcome, priced when made."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from campaign_setup import clients_offline, lisbon, phone_file, sms_file, topup, upload
from sqlalchemy import select

from hub.core import campaigns_admin, ledger, notices, optouts, outbox, records
from hub.core import store as t
from hub.core.accounts import month_counter
from hub.core.campaigns import (
    OutcomeError,
    next_message_task,
    next_phone_task,
    phone_tasks,
    record_outcome,
    release_task,
)
from hub.core.campaigns_sms import send_due_sms
from hub.core.engine import Engine
from hub.core.models import CallEvent, EventKind, Language, record_id_for
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

PLUGINS = Plugins(only={"webhook", "sms", "email"})
MONDAY = "2026-03-02 10:00"


@pytest.fixture
def acme(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """`acme` (agents ana and rui) with a 12-month contract, on SQLite and PostgreSQL."""
    return clients_offline(store, PLUGINS, tmp_path, monkeypatch, acme_contract=True)


def settings(store: Store) -> Settings:
    return Settings(database_url=store.url)


def claim(store: Store, agent: str = "ana", at: str = MONDAY) -> Any:
    return next_phone_task(store, agent=agent, now=lisbon(at), settings=settings(store), registry=PLUGINS.registry)


def outcome(store: Store, contact_id: int, result: str, at: str = "2026-03-02 10:04", **options: Any) -> Any:
    return record_outcome(
        store, PLUGINS.registry, contact_id, result, at=lisbon(at), agent="ana", settings=settings(store), **options
    )


def account(store: Store) -> ledger.Account:
    with store.connect() as conn:
        return ledger.lock_account(conn, "acme", for_update=False)


def statuses(store: Store, campaign: dict[str, Any]) -> list[str]:
    return [c["status"] for c in campaigns_admin.show_campaign(store, campaign["id"])["contact_list"]]


def test_an_agent_gets_the_most_urgent_contact_with_its_script_and_caller_id(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1, appointment="2026-03-25 10:00"))
    upload(acme, PLUGINS, phone_file(1, start=1, appointment="2026-03-05 16:30"))
    task = claim(acme)
    assert task is not None
    assert (task.name, task.number, task.language) == ("João Silva", "+351910001007", Language.EN)
    assert task.caller_id == "+351217000001"
    assert task.script == ("Hello João Silva, a reminder of your appointment at Clínica Acme on 5 Mar 2026 at 4:30 PM.")
    assert (task.status, task.agent, task.attempts, task.mode) == ("in_progress", "ana", 1, "agent")
    assert task.call_id == f"contact-{task.contact_id}"


def test_claiming_holds_the_price_of_the_contact(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    claim(acme)
    assert account(acme).held_cents == 100


def test_an_agent_with_an_open_task_gets_it_again_and_another_agent_the_next(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(2))
    first = claim(acme, "ana")
    assert claim(acme, "ana").contact_id == first.contact_id
    second = claim(acme, "rui")
    assert second.contact_id != first.contact_id
    assert claim(acme, "rui", "2026-03-02 10:01").contact_id == second.contact_id


def test_an_agent_who_does_not_serve_the_client_gets_nothing(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    assert claim(acme, "marta") is None


def test_no_task_is_given_on_a_sunday_or_after_20h(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    assert claim(acme, at="2026-03-08 11:00") is None
    assert claim(acme, at="2026-03-02 20:15") is None
    assert statuses(acme, campaign) == ["pending"]


def test_a_confirmed_contact_is_recorded_priced_and_queued_for_the_record_destinations(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    record = outcome(acme, task.contact_id, "confirmed", talk_seconds=95, notes="Confirma, chega 10 min antes")
    assert (record.direction, record.channel, record.disposition.value) == ("outbound", "voice", "confirmed")
    assert (record.caller, record.agent, record.talk_seconds, record.price_cents) == ("+351910000000", "ana", 95, 100)
    assert record.notes == "Confirma, chega 10 min antes"
    assert record.record_id == record_id_for("campaigns", f"contact-{task.contact_id}")
    after = account(acme)
    assert (after.balance_cents, after.held_cents) == (15500, 0)
    with acme.connect() as conn:
        queued = [row["destination"] for row in outbox.list_rows(conn)]
    assert queued == ["hook"]


def test_recording_the_same_outcome_again_changes_nothing(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    first = outcome(acme, task.contact_id, "confirmed")
    again = outcome(acme, task.contact_id, "confirmed", at="2026-03-02 10:09")
    assert again == first
    assert account(acme).balance_cents == 15500
    with pytest.raises(OutcomeError, match="already confirmed"):
        outcome(acme, task.contact_id, "no_answer")


def test_no_answer_is_recorded_free(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    record = outcome(acme, task.contact_id, "no_answer")
    assert (record.disposition.value, record.price_cents, record.talk_seconds) == ("no_answer", 0, 0)
    after = account(acme)
    assert (after.balance_cents, after.held_cents) == (15600, 0)
    assert statuses(acme, campaign) == ["no_answer"]
    with acme.connect() as conn:
        assert month_counter(conn, "acme", "2026-03")["outbound"] == 0


def test_a_rescheduled_appointment_carries_the_new_time(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    record = outcome(acme, task.contact_id, "rescheduled", rescheduled_to=lisbon("2026-03-27 15:00"))
    assert record.contact is not None
    assert record.contact["rescheduled_to"] == "2026-03-27T15:00:00+00:00"
    assert record.price_cents == 100


def test_an_unknown_outcome_is_refused(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    with pytest.raises(OutcomeError, match="expected one of confirmed, rescheduled, no_answer, message_played"):
        outcome(acme, task.contact_id, "maybe")


def test_a_released_task_is_pending_again_and_its_hold_released(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    assert release_task(acme, task.contact_id) is True
    assert statuses(acme, campaign) == ["pending"]
    assert account(acme).held_cents == 0
    assert release_task(acme, task.contact_id) is False
    assert claim(acme, "rui").attempts == 2


def test_phone_and_sms_contacts_share_the_months_count(acme: Store) -> None:
    upload(acme, PLUGINS, sms_file(99))
    send_due_sms(acme, PLUGINS.registry, settings(acme), now=lisbon(MONDAY))
    upload(acme, PLUGINS, phone_file(1, start=500))
    task = claim(acme, at="2026-03-02 11:00")
    assert outcome(acme, task.contact_id, "confirmed", at="2026-03-02 11:03").price_cents == 50


def test_no_task_is_given_when_the_balance_cannot_pay_it_and_the_client_is_told(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients_offline(sqlite_store, PLUGINS, tmp_path, monkeypatch)
    topup(sqlite_store, PLUGINS, "acme", 20, "2026-03-01 12:00")
    with sqlite_store.begin() as conn:
        ledger.change_hold(conn, "acme", 1950)  # calls in progress
    campaign = upload(sqlite_store, PLUGINS, phone_file(1))
    assert claim(sqlite_store) is None
    assert statuses(sqlite_store, campaign) == ["pending"]
    with sqlite_store.connect() as conn:
        assert [a["kind"] for a in notices.list_alerts(conn)] == ["outbound_no_balance"]


def test_a_number_that_opted_out_is_never_given_to_an_agent(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(2))
    with acme.begin() as conn:
        optouts.add(conn, "910000000")
    task = claim(acme)
    assert task.number == "+351910001007"
    assert statuses(acme, campaign) == ["opted_out", "in_progress"]


def test_a_contact_whose_appointment_passed_is_skipped_not_given(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1, appointment="2026-03-02 09:30"), at="2026-03-02 08:00")
    assert claim(acme) is None
    assert statuses(acme, campaign) == ["skipped"]


def test_open_tasks_are_listed_in_progress_first(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(3))
    task = claim(acme)
    listed = phone_tasks(acme, now=lisbon(MONDAY))
    assert (listed[0].contact_id, listed[0].status) == (task.contact_id, "in_progress")
    assert [item.status for item in listed[1:]] == ["pending", "pending"]


def engine(store: Store) -> Engine:
    return Engine(store, PLUGINS.registry, settings(store))


def event(contact_id: int, kind: EventKind, at: Any, **fields: Any) -> CallEvent:
    return CallEvent(source="freeswitch", call_id=f"contact-{contact_id}", kind=kind, at=at, **fields)


def test_the_call_events_give_the_talk_time_of_a_contact_the_agent_confirms(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    start = lisbon("2026-03-02 10:00:30")
    hub = engine(acme)
    hub.handle(event(task.contact_id, EventKind.OUTBOUND_STARTED, start, agent="ana"))
    hub.handle(event(task.contact_id, EventKind.OUTBOUND_ANSWERED, start + timedelta(seconds=12)))
    hub.handle(event(task.contact_id, EventKind.ENDED, start + timedelta(seconds=80)))
    record = outcome(acme, task.contact_id, "confirmed", at="2026-03-02 10:02")
    assert record.talk_seconds == 68
    assert record.answered_at == start + timedelta(seconds=12)


def test_a_call_started_from_the_task_list_without_a_claim_holds_its_price(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    contact_id = campaigns_admin.show_campaign(acme, campaign["id"])["contact_list"][0]["id"]
    engine(acme).handle(event(contact_id, EventKind.OUTBOUND_STARTED, lisbon("2026-03-02 10:00"), agent="rui"))
    assert statuses(acme, campaign) == ["in_progress"]
    assert account(acme).held_cents == 100


def test_a_failed_call_is_a_free_no_answer_record(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    hub = engine(acme)
    hub.handle(event(task.contact_id, EventKind.OUTBOUND_STARTED, lisbon("2026-03-02 10:00:10"), agent="ana"))
    hub.handle(
        event(task.contact_id, EventKind.OUTBOUND_FAILED, lisbon("2026-03-02 10:00:40"), raw={"cause": "NO_ANSWER"})
    )
    assert statuses(acme, campaign) == ["no_answer"]
    after = account(acme)
    assert (after.balance_cents, after.held_cents) == (15600, 0)
    hub.handle(event(task.contact_id, EventKind.ENDED, lisbon("2026-03-02 10:00:41")))
    assert statuses(acme, campaign) == ["no_answer"]


def test_a_message_campaign_plays_the_message_and_is_priced_when_the_call_ends(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1), mode="message")
    assert claim(acme) is None
    task = next_message_task(acme, now=lisbon(MONDAY), settings=settings(acme))
    assert task is not None and task.agent is None
    start = lisbon("2026-03-02 10:00:05")
    hub = engine(acme)
    hub.handle(event(task.contact_id, EventKind.OUTBOUND_STARTED, start))
    hub.handle(event(task.contact_id, EventKind.OUTBOUND_ANSWERED, start + timedelta(seconds=9)))
    hub.handle(event(task.contact_id, EventKind.MESSAGE_PLAYED, start + timedelta(seconds=31)))
    hub.handle(event(task.contact_id, EventKind.ENDED, start + timedelta(seconds=33)))
    assert statuses(acme, campaign) == ["message_played"]
    with acme.connect() as conn:
        record = records.get(conn, record_id_for("campaigns", task.call_id))
        held = conn.execute(select(t.accounts.c.held_cents)).scalars().all()
    assert record is not None
    assert (record.disposition.value, record.price_cents, record.talk_seconds) == ("message_played", 100, 24)
    assert record.message == task.script
    assert held == [0, 0]


def test_a_message_call_that_ends_before_the_message_is_a_free_no_answer(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1), mode="message")
    task = next_message_task(acme, now=lisbon(MONDAY), settings=settings(acme))
    hub = engine(acme)
    hub.handle(event(task.contact_id, EventKind.OUTBOUND_STARTED, lisbon("2026-03-02 10:00:05")))
    hub.handle(event(task.contact_id, EventKind.ENDED, lisbon("2026-03-02 10:00:35")))
    assert statuses(acme, campaign) == ["no_answer"]
    assert account(acme).balance_cents == 15600
