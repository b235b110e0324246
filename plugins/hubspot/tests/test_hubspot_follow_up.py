"""Missed and out-of-hours calls can become a 'Call back' task, so no caller is forgotten."""

from __future__ import annotations

import pytest
from recado_hubspot import HubSpotConfig, HubSpotSink
from recado_hubspot.fake_server import FakeHubSpot

from hub.core.models import Delivered, Disposition
from hub.testing import make_delivery, sample_record

CALLER = "+351912345678"


@pytest.fixture
def follow_up(fake: FakeHubSpot, token: str) -> HubSpotSink:
    """A HubSpot sink with follow-up tasks turned on."""
    return HubSpotSink(HubSpotConfig(access_token=token, host=fake.url, follow_up_missed=True))


def missed(**overrides: object) -> dict[str, object]:
    return {"disposition": Disposition.MISSED, "answered_at": None, "talk_seconds": 0} | overrides


async def test_missed_call_becomes_an_open_call_back_task_on_the_callers_contact(
    follow_up: HubSpotSink, fake: FakeHubSpot
) -> None:
    contact = fake.crm.add_contact(phone=CALLER)
    record = sample_record(**missed(caller=CALLER, caller_name="João Gonçalves"))

    [outcome] = await follow_up.deliver([make_delivery(record, mapped={})])

    [task] = fake.crm.tasks_with_key(record.record_id)
    assert task.properties["hs_task_subject"] == f"Call back {CALLER} (João Gonçalves)"
    assert task.properties["hs_task_status"] == "NOT_STARTED"
    assert task.properties["hs_task_priority"] == "HIGH"
    assert fake.crm.contacts_of(task.id) == [contact]
    assert isinstance(outcome, Delivered) and f"follow-up task {task.id}" in outcome.detail


async def test_out_of_hours_call_becomes_a_task_too(follow_up: HubSpotSink, fake: FakeHubSpot) -> None:
    record = sample_record(**missed(disposition=Disposition.AFTER_HOURS))

    await follow_up.deliver([make_delivery(record, mapped={})])

    assert len(fake.crm.tasks_with_key(record.record_id)) == 1


async def test_answered_call_gets_no_task(follow_up: HubSpotSink, fake: FakeHubSpot) -> None:
    await follow_up.deliver([make_delivery(sample_record(), mapped={})])

    assert fake.crm.tasks == {}


async def test_missed_call_gets_no_task_unless_the_destination_asks(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    await sink.deliver([make_delivery(sample_record(**missed()), mapped={})])

    assert fake.crm.tasks == {}
    assert len(fake.crm.calls) == 1


async def test_correction_updates_the_task_but_leaves_its_status_to_whoever_calls_back(
    follow_up: HubSpotSink, fake: FakeHubSpot
) -> None:
    record = sample_record(**missed(caller_name="João"))
    await follow_up.deliver([make_delivery(record, mapped={})])
    [task] = fake.crm.tasks_with_key(record.record_id)
    task.properties["hs_task_status"] = "COMPLETED"  # someone called back
    corrected = make_delivery(sample_record(**missed(caller_name="João Gonçalves")), mapped={})

    await follow_up.deliver([corrected.model_copy(update={"event_type": "call.record.updated"})])

    [task] = fake.crm.tasks_with_key(record.record_id)
    assert task.properties["hs_task_subject"].endswith("(João Gonçalves)")
    assert task.properties["hs_task_status"] == "COMPLETED"


async def test_replayed_missed_call_keeps_one_task(follow_up: HubSpotSink, fake: FakeHubSpot) -> None:
    delivery = make_delivery(sample_record(**missed()), mapped={})
    await follow_up.deliver([delivery])

    await follow_up.deliver([delivery])
    await follow_up.deliver([delivery.model_copy(update={"attempt": 3})])

    assert len(fake.crm.tasks_with_key(delivery.idempotency_key)) == 1
    assert len(fake.crm.calls_with_key(delivery.idempotency_key)) == 1


async def test_check_covers_the_tasks_property_when_follow_up_is_on(follow_up: HubSpotSink) -> None:
    health = await follow_up.check()

    assert health.ok
    assert "calls and tasks" in health.detail
