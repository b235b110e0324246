"""Phone tasks whose agent went away: the `campaigns.release_stale` job gives them back, with their hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from campaign_setup import clients_offline, lisbon, phone_file, upload
from pydantic import ValidationError

from hub.core import campaigns_admin, ledger
from hub.core.campaigns import next_message_task, next_phone_task, record_outcome
from hub.core.campaigns_stale import RELEASE_STALE
from hub.core.engine import Engine
from hub.core.jobs import JOBS
from hub.core.lifecycle_jobs import expire_contracts
from hub.core.models import CallEvent, EventKind
from hub.core.quiet_hours import OutboundSettings
from hub.core.scheduler import JobContext, run_jobs
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

PLUGINS = Plugins(only={"webhook", "sms", "email"})
MONDAY = "2026-03-02 10:00"


@pytest.fixture
def acme(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """`acme` (agents ana and rui) with a 12-month contract and one phone contact to make, on SQLite and PostgreSQL."""
    return clients_offline(store, PLUGINS, tmp_path, monkeypatch, acme_contract=True)


def settings(store: Store, **outbound: Any) -> Settings:
    return Settings(database_url=store.url, outbound=OutboundSettings(**outbound))


def release(store: Store, at: str, **outbound: Any) -> int:
    """Run the `campaigns.release_stale` job at `at`; how many tasks it gave back."""
    [run] = run_jobs(JobContext(store, PLUGINS.registry, settings(store, **outbound), lisbon(at)), [RELEASE_STALE])
    assert run.error is None
    return run.done


def claim(store: Store, agent: str = "ana", at: str = MONDAY) -> Any:
    task = next_phone_task(store, agent=agent, now=lisbon(at), settings=settings(store), registry=PLUGINS.registry)
    assert task is not None
    return task


def call(store: Store, contact_id: int, kind: EventKind, at: str) -> None:
    """An event of the contact's call, as the telephony source reports it."""
    event = CallEvent(source="freeswitch", call_id=f"contact-{contact_id}", kind=kind, at=lisbon(at), agent="ana")
    Engine(store, PLUGINS.registry, settings(store)).handle(event)


def contact(store: Store, campaign: dict[str, Any]) -> dict[str, Any]:
    [found] = campaigns_admin.show_campaign(store, campaign["id"])["contact_list"]
    return found


def held(store: Store) -> int:
    with store.connect() as conn:
        return ledger.lock_account(conn, "acme", for_update=False).held_cents


def test_a_task_idle_for_longer_than_the_timeout_is_given_back_with_its_hold(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    claim(acme)
    assert held(acme) == 100
    assert release(acme, "2026-03-02 10:31") == 1
    given_back = contact(acme, campaign)
    assert (given_back["status"], given_back["agent"]) == ("pending", None)
    assert held(acme) == 0


def test_a_task_idle_for_less_than_the_timeout_is_kept(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    claim(acme)
    assert release(acme, "2026-03-02 10:29") == 0
    assert contact(acme, campaign)["status"] == "in_progress"
    assert held(acme) == 100


def test_a_task_whose_call_is_answered_and_not_ended_is_kept_however_long_it_lasts(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    call(acme, task.contact_id, EventKind.OUTBOUND_STARTED, "2026-03-02 10:01")
    call(acme, task.contact_id, EventKind.OUTBOUND_ANSWERED, "2026-03-02 10:01:10")
    assert release(acme, "2026-03-02 12:00") == 0
    assert contact(acme, campaign)["status"] == "in_progress"


def test_the_timeout_counts_from_the_last_event_of_the_tasks_call(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    call(acme, task.contact_id, EventKind.OUTBOUND_STARTED, "2026-03-02 10:25")
    assert release(acme, "2026-03-02 10:40") == 0
    assert contact(acme, campaign)["status"] == "in_progress"
    assert release(acme, "2026-03-02 10:56") == 1


def test_a_task_whose_call_ended_without_an_outcome_is_given_back_and_called_afresh(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    first = claim(acme)
    call(acme, first.contact_id, EventKind.OUTBOUND_STARTED, "2026-03-02 10:01")
    call(acme, first.contact_id, EventKind.OUTBOUND_ANSWERED, "2026-03-02 10:01:10")
    call(acme, first.contact_id, EventKind.ENDED, "2026-03-02 10:03")
    assert release(acme, "2026-03-02 10:34") == 1
    again = claim(acme, "rui", "2026-03-02 10:40")
    assert (again.contact_id, again.attempts) == (first.contact_id, 2)
    call(acme, again.contact_id, EventKind.OUTBOUND_STARTED, "2026-03-02 10:40:30")
    call(acme, again.contact_id, EventKind.OUTBOUND_ANSWERED, "2026-03-02 10:41")
    call(acme, again.contact_id, EventKind.ENDED, "2026-03-02 10:42")
    record = record_outcome(
        acme, PLUGINS.registry, again.contact_id, "confirmed", at=lisbon("2026-03-02 10:43"), agent="rui"
    )
    assert (record.answered_at, record.talk_seconds) == (lisbon("2026-03-02 10:41"), 60)


def test_giving_back_again_at_the_same_time_changes_nothing(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    claim(acme)
    assert release(acme, "2026-03-02 10:31") == 1
    assert release(acme, "2026-03-02 10:31") == 0
    assert held(acme) == 0


def test_a_contact_with_its_outcome_is_never_given_back(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    record_outcome(acme, PLUGINS.registry, task.contact_id, "no_answer", at=lisbon("2026-03-02 10:02"), agent="ana")
    assert release(acme, "2026-03-02 11:00") == 0
    assert contact(acme, campaign)["status"] == "no_answer"


def test_an_agent_back_after_the_release_may_still_record_the_outcome(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1))
    task = claim(acme)
    release(acme, "2026-03-02 10:31")
    record = record_outcome(
        acme, PLUGINS.registry, task.contact_id, "confirmed", at=lisbon("2026-03-02 10:35"), agent="ana"
    )
    assert (record.price_cents, contact(acme, campaign)["status"]) == (100, "confirmed")
    assert held(acme) == 0


def test_a_message_call_the_telephony_source_left_is_given_back(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1), mode="message")
    assert next_message_task(acme, now=lisbon(MONDAY), settings=settings(acme)) is not None
    assert release(acme, "2026-03-02 10:31") == 1
    assert contact(acme, campaign)["status"] == "pending"


def test_the_timeout_is_a_setting(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1))
    claim(acme)
    assert release(acme, "2026-03-02 10:06", task_claim_timeout_min=5) == 1


def test_a_timeout_under_one_minute_is_refused() -> None:
    with pytest.raises(ValidationError, match="task_claim_timeout_min"):
        OutboundSettings(task_claim_timeout_min=0)


def test_a_hold_given_back_lets_an_ended_contract_be_forfeited(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1, appointment="2027-03-10 10:30"), at="2027-02-26 08:00")
    claim(acme, at="2027-02-27 19:00")
    after_end = JobContext(acme, PLUGINS.registry, settings(acme), lisbon("2027-03-01 09:00"))
    expire_contracts(after_end)
    with acme.connect() as conn:
        assert ledger.lock_account(conn, "acme", for_update=False).contract_state == "pending"
    assert release(acme, "2027-03-01 09:00") == 1
    expire_contracts(after_end)
    with acme.connect() as conn:
        ended = ledger.lock_account(conn, "acme", for_update=False)
    assert (ended.contract_state, ended.balance_cents, ended.held_cents) == ("ended", 0, 0)


def test_the_release_stale_job_is_one_of_the_hubs_jobs() -> None:
    assert RELEASE_STALE in JOBS
