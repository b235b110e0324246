"""The salesforce sink against the fake org, through the real simple-salesforce."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from recado_salesforce import SalesforceSink
from recado_salesforce.config import ClientCredentialsAuth
from recado_salesforce.lookup import composite_bodies
from recado_salesforce.testing import RECADO_FIELD, FakeOrg

from hub.core.models import Delivered, Disposition, Failed, Retry
from hub.sinks import DestinationError, RetriableError
from hub.testing import make_batch, make_delivery, sample_record

MakeSink = Callable[..., SalesforceSink]


def only(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The single row of a list (fails when there are more or none)."""
    assert len(rows) == 1, rows
    return rows[0]


async def test_batch_of_200_costs_one_lookup_and_one_upsert(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    sink = make_sink()
    outcomes = await sink.deliver(make_batch(200, mapped={}))
    assert all(isinstance(o, Delivered) for o in outcomes)
    assert org.requests == {"token": 1, "describe": 1, "composite": 1, "collections_upsert": 1}
    assert len(org.rows("Task")) == 200


async def test_next_batch_reuses_session_and_describe(make_sink: MakeSink, org: FakeOrg) -> None:
    sink = make_sink()
    await sink.deliver(make_batch(10, mapped={}, seed=1))
    await sink.deliver(make_batch(10, mapped={}, seed=2))
    assert org.requests["token"] == 1 and org.requests["describe"] == 1
    assert org.api_requests == 1 + 2 * 2


async def test_record_becomes_a_completed_inbound_task(make_sink: MakeSink, org: FakeOrg) -> None:
    record = sample_record()
    [outcome] = await make_sink().deliver([make_delivery(record, mapped={})])
    task = only(org.rows("Task"))
    assert isinstance(outcome, Delivered) and outcome.remote_id == task["Id"]
    assert task["Subject"] == "Call from João Gonçalves"
    assert task["CallType"] == "Inbound" and task["Status"] == "Completed"
    assert task["CallDurationInSeconds"] == 190
    assert task["ActivityDate"] == "2026-06-15"
    assert task[RECADO_FIELD] == record.record_id


async def test_description_lists_answers_with_the_script_labels(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    await make_sink().deliver([make_delivery(sample_record(), mapped={})])
    description = only(org.rows("Task"))["Description"]
    assert description.startswith("Nome: João Gonçalves\nMotivo: booking\nLigar de volta: yes")
    assert "Notes: Quer marcação para quinta às 15h" in description


async def test_caller_stored_in_another_spelling_is_linked_to_the_contact(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    contact = org.insert("Contact", LastName="Gonçalves", MobilePhone="+351 912 345 678")
    await make_sink().deliver([make_delivery(sample_record(), mapped={})])
    assert only(org.rows("Task"))["WhoId"] == contact


async def test_contact_wins_over_a_lead_with_the_same_phone(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    org.insert("Lead", LastName="Gonçalves", Company="x", Phone="912345678")
    contact = org.insert("Contact", LastName="Gonçalves", Phone="+351912345678")
    await make_sink().deliver([make_delivery(sample_record(), mapped={})])
    assert only(org.rows("Task"))["WhoId"] == contact


async def test_unmatched_caller_stays_unlinked_by_default(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    await make_sink().deliver([make_delivery(sample_record(), mapped={})])
    assert "WhoId" not in only(org.rows("Task"))
    assert org.rows("Lead") == []


async def test_unmatched_caller_becomes_a_lead_when_configured(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    sink = make_sink(create_lead_when_unmatched=True)
    await sink.deliver([make_delivery(sample_record(), mapped={})])
    lead = only(org.rows("Lead"))
    assert (lead["FirstName"], lead["LastName"], lead["Phone"]) == (
        "João", "Gonçalves", "+351912345678")
    assert only(org.rows("Task"))["WhoId"] == lead["Id"]


async def test_second_call_from_a_new_caller_reuses_the_lead(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    sink = make_sink(create_lead_when_unmatched=True)
    await sink.deliver([make_delivery(sample_record(call_id="a"), mapped={})])
    await sink.deliver([make_delivery(sample_record(call_id="b"), mapped={})])
    lead = only(org.rows("Lead"))
    assert [t["WhoId"] for t in org.rows("Task")] == [lead["Id"], lead["Id"]]


async def test_two_calls_of_a_new_caller_in_one_batch_make_one_lead(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    sink = make_sink(create_lead_when_unmatched=True)
    batch = [make_delivery(sample_record(call_id=c), delivery_id=i, mapped={})
             for i, c in enumerate("ab")]
    await sink.deliver(batch)
    assert len(org.rows("Lead")) == 1 and len(org.rows("Task")) == 2


async def test_replay_updates_the_same_task(make_sink: MakeSink, org: FakeOrg) -> None:
    sink = make_sink()
    [first] = await sink.deliver([make_delivery(mapped={})])
    [again] = await sink.deliver([make_delivery(mapped={})])
    assert isinstance(first, Delivered) and isinstance(again, Delivered)
    assert first.remote_id == again.remote_id
    assert again.detail.startswith("updated Task")
    assert len(org.rows("Task")) == 1


async def test_correction_updates_the_task_instead_of_adding_one(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    sink = make_sink()
    await sink.deliver([make_delivery(sample_record(), mapped={})])
    corrected = sample_record(answers={"name": "João Gonçalves", "reason": "complaint"})
    await sink.deliver([make_delivery(corrected, mapped={})])
    assert "Motivo: complaint" in only(org.rows("Task"))["Description"]


async def test_record_twice_in_one_batch_is_sent_once_with_the_latest_data(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    older = make_delivery(sample_record(), delivery_id=1, mapped={})
    newer = make_delivery(sample_record(notes="corrected"), delivery_id=2, mapped={})
    outcomes = await make_sink().deliver([older, newer])
    assert all(isinstance(o, Delivered) for o in outcomes)
    assert "Notes: corrected" in only(org.rows("Task"))["Description"]


async def test_mapping_overrides_the_default_fields(make_sink: MakeSink, org: FakeOrg) -> None:
    await make_sink().deliver([make_delivery(mapped={"Subject": "Booking: João"})])
    task = only(org.rows("Task"))
    assert task["Subject"] == "Booking: João" and task["CallType"] == "Inbound"


async def test_mapping_can_name_another_sobject(make_sink: MakeSink, org: FakeOrg) -> None:
    mapped = {"_sobject": "Case", "Subject": "Complaint", "Origin": "Phone"}
    [outcome] = await make_sink().deliver([make_delivery(mapped=mapped)])
    case = only(org.rows("Case"))
    assert isinstance(outcome, Delivered) and outcome.remote_id == case["Id"]
    assert (case["Subject"], case["Origin"]) == ("Complaint", "Phone")
    assert org.rows("Task") == []


async def test_unknown_mapped_field_is_skipped_and_reported(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    [outcome] = await make_sink().deliver([make_delivery(mapped={"Colour__c": "blue"})])
    assert isinstance(outcome, Delivered)
    assert "skipped Colour__c" in outcome.detail
    assert "Colour__c" not in only(org.rows("Task"))


async def test_record_with_an_unreadable_value_fails_alone(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    batch = make_batch(5, mapped={}, seed=7)
    batch[3] = make_delivery(batch[3].record, delivery_id=4,
                             mapped={"CallDurationInSeconds": "four minutes"})
    outcomes = await make_sink().deliver(batch)
    assert [type(o).__name__ for o in outcomes] == ["Delivered"] * 3 + ["Failed", "Delivered"]
    assert "JSON_PARSER_ERROR" in outcomes[3].reason  # type: ignore[union-attr]
    assert len(org.rows("Task")) == 4


async def test_locked_row_is_retried_alone(make_sink: MakeSink, org: FakeOrg) -> None:
    batch = make_batch(3, mapped={}, seed=8)
    org.lock_row(batch[0].idempotency_key)
    outcomes = await make_sink().deliver(batch)
    assert isinstance(outcomes[0], Retry) and "UNABLE_TO_LOCK_ROW" in outcomes[0].reason
    assert all(isinstance(o, Delivered) for o in outcomes[1:])


async def test_refused_lead_still_logs_the_call(make_sink: MakeSink, org: FakeOrg) -> None:
    record = sample_record(caller_name=None, answers={})
    org.remove_field("Lead", "LastName")  # every new Lead is now refused
    sink = make_sink(create_lead_when_unmatched=True)
    [outcome] = await sink.deliver([make_delivery(record, mapped={})])
    assert isinstance(outcome, Delivered) and "no Lead created" in outcome.detail
    assert "WhoId" not in only(org.rows("Task"))


async def test_expired_session_is_renewed_once(make_sink: MakeSink, org: FakeOrg) -> None:
    sink = make_sink()
    await sink.deliver(make_batch(2, mapped={}, seed=1))
    org.expire_sessions()
    outcomes = await sink.deliver(make_batch(2, mapped={}, seed=2))
    assert all(isinstance(o, Delivered) for o in outcomes)
    assert org.requests["token"] == 2


async def test_session_refused_after_renewal_is_a_destination_error(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    org.kill_new_sessions()
    with pytest.raises(DestinationError, match="INVALID_SESSION_ID"):
        await make_sink().deliver(make_batch(2, mapped={}))
    assert org.requests["token"] == 2


async def test_request_limit_pauses_the_destination(make_sink: MakeSink, org: FakeOrg) -> None:
    sink = make_sink(limit_pause_s=900)
    org.exhaust_requests()
    with pytest.raises(RetriableError, match="REQUEST_LIMIT_EXCEEDED") as first:
        await sink.deliver(make_batch(2, mapped={}))
    assert first.value.after_s == 900
    sent = org.api_requests
    with pytest.raises(RetriableError, match="paused") as second:
        await sink.deliver(make_batch(2, mapped={}))
    assert second.value.after_s is not None and 0 < second.value.after_s <= 900
    assert org.api_requests == sent


async def test_concurrent_request_limit_pauses_briefly(make_sink: MakeSink, org: FakeOrg) -> None:
    org.exhaust_requests(concurrent=True)
    with pytest.raises(RetriableError) as caught:
        await make_sink(limit_pause_s=900).deliver(make_batch(1, mapped={}))
    assert caught.value.after_s == 30


async def test_wrong_client_secret_is_a_destination_error(make_sink: MakeSink) -> None:
    auth = ClientCredentialsAuth(consumer_key="3MVG9FAKECONSUMERKEY", consumer_secret="nope")
    with pytest.raises(DestinationError, match="invalid_client"):
        await make_sink(auth=auth).deliver(make_batch(1, mapped={}))


async def test_unapproved_jwt_user_is_a_destination_error(
    make_sink: MakeSink, private_key_pem: str
) -> None:
    auth = {"type": "jwt", "consumer_key": "3MVG9FAKECONSUMERKEY",
            "username": "someone@else.example", "private_key": private_key_pem}
    with pytest.raises(DestinationError, match="hasn't approved"):
        await make_sink(auth=auth).deliver(make_batch(1, mapped={}))


async def test_client_credentials_flow_delivers(
    make_sink: MakeSink, org: FakeOrg, client_credentials: ClientCredentialsAuth
) -> None:
    outcomes = await make_sink(auth=client_credentials).deliver(make_batch(3, mapped={}))
    assert all(isinstance(o, Delivered) for o in outcomes)
    assert len(org.rows("Task")) == 3


async def test_missing_external_id_field_is_a_destination_error(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    org.remove_field("Task", RECADO_FIELD)
    with pytest.raises(DestinationError, match="External ID"):
        await make_sink().deliver(make_batch(1, mapped={}))


async def test_missed_call_becomes_a_call_back_task_when_opted_in(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    missed = sample_record(disposition=Disposition.MISSED, answered_at=None, talk_seconds=0,
                           answers={})
    await make_sink(follow_up_missed=True).deliver([make_delivery(missed, mapped={})])
    task = only(org.rows("Task"))
    assert task["Subject"] == "Call back +351912345678 (João Gonçalves)"
    assert task["Status"] == "Not Started" and task["ActivityDate"] == "2026-06-15"


async def test_correction_leaves_the_call_back_status_to_the_user(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    missed = sample_record(disposition=Disposition.MISSED, answered_at=None, answers={})
    sink = make_sink(follow_up_missed=True)
    await sink.deliver([make_delivery(missed, mapped={})])
    org.state.rows["Task"][only(org.rows("Task"))["Id"]]["Status"] = "Completed"
    corrected = make_delivery(missed.model_copy(update={"notes": "wrong number"}), mapped={})
    await sink.deliver([corrected.model_copy(update={"event_type": "call.record.updated"})])
    task = only(org.rows("Task"))
    assert task["Status"] == "Completed" and "Notes: wrong number" in task["Description"]


async def test_test_delivery_is_marked_in_the_subject(make_sink: MakeSink, org: FakeOrg) -> None:
    delivery = make_delivery(mapped={}).model_copy(update={"test": True})
    await make_sink().deliver([delivery])
    assert only(org.rows("Task"))["Subject"].startswith("[TEST] ")


async def test_notice_fails_with_a_reason(make_sink: MakeSink, org: FakeOrg) -> None:
    [outcome] = await make_sink().deliver([make_delivery(kind="notice")])
    assert isinstance(outcome, Failed) and "notices" in outcome.reason
    assert org.api_requests == 0


def test_validate_names_unknown_and_read_only_fields(make_sink: MakeSink) -> None:
    problems = make_sink().validate({"Subject": "{{ answers.reason }}", "Colour__c": "x",
                                     "IsClosed": "{{ true }}"})
    assert problems == ["Task has no field 'Colour__c'",
                        "Task.IsClosed is read-only (neither createable nor updateable)"]


def test_validate_checks_another_named_sobject(make_sink: MakeSink) -> None:
    assert make_sink().validate({"_sobject": "Case", "Origin": "Phone", "CallType": "x"}) == [
        "Case has no field 'CallType'"]


def test_validate_reports_a_missing_external_id_field(make_sink: MakeSink, org: FakeOrg) -> None:
    org.remove_field("Task", RECADO_FIELD)
    [problem] = make_sink().validate({})
    assert "has no field 'Recado_Record_Id__c'" in problem and "External ID" in problem


def test_validate_describes_once(make_sink: MakeSink, org: FakeOrg) -> None:
    sink = make_sink()
    sink.validate({"Subject": "x"})
    sink.validate({"Description": "y"})
    assert org.requests["describe"] == 1


async def test_check_signs_in_and_reports_the_api_allowance(make_sink: MakeSink) -> None:
    health = await make_sink().check()
    assert health.ok, health.detail
    assert health.info["api_requests_max"] == 15_000


async def test_check_with_bad_credentials_is_not_ok(
    make_sink: MakeSink, client_credentials: ClientCredentialsAuth
) -> None:
    auth = client_credentials.model_copy(update={"consumer_key": "unknown"})
    health = await make_sink(auth=auth).check()
    assert not health.ok and "invalid_client" in health.detail


async def test_field_deleted_after_the_describe_is_left_out_at_once(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    sink = make_sink()
    await sink.deliver(make_batch(2, mapped={}, seed=1))
    org.remove_field("Task", "CallObject")
    outcomes = await sink.deliver(make_batch(2, mapped={}, seed=2))
    assert all(isinstance(o, Delivered) for o in outcomes)
    assert org.requests["describe"] == 2


async def test_field_refused_after_a_fresh_describe_is_a_destination_error(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    org.break_field("Task", "CallObject")
    with pytest.raises(DestinationError, match="INVALID_FIELD"):
        await make_sink().deliver(make_batch(2, mapped={}))
    assert org.requests["describe"] == 2 and org.requests["collections_upsert"] == 2


def test_lookup_of_200_callers_fits_one_composite_with_short_urls() -> None:
    numbers = sorted({d.record.caller for d in make_batch(200) if d.record and d.record.caller})
    [body] = composite_bodies("/services/data/v62.0", numbers)
    urls = [sub["url"] for sub in body["compositeRequest"]]
    assert len(numbers) == 200 and len(urls) <= 5
    assert all(len(url) <= 15_000 for url in urls)


async def test_caller_lookup_matches_callers_in_every_split_query(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    batch = make_batch(200, mapped={}, seed=9)
    last = batch[-1].record
    assert last is not None
    contact = org.insert("Contact", LastName="Last", Phone=last.caller)
    await make_sink().deliver(batch)
    tasks = {t[RECADO_FIELD]: t for t in org.rows("Task")}
    assert tasks[last.record_id]["WhoId"] == contact
    assert org.state.subrequests["query"] > 2 and org.requests["composite"] == 1


def test_batch_size_setting_sets_max_batch(make_sink: MakeSink) -> None:
    assert make_sink(batch_size=50).max_batch == 50
    assert make_sink().max_batch == 200


async def test_preview_shows_the_upsert_and_sends_nothing(
    make_sink: MakeSink, org: FakeOrg
) -> None:
    preview = make_sink().preview(make_delivery(mapped={}))
    [record] = preview["body"]["records"]
    assert preview["path"] == "/services/data/v62.0/composite/sobjects/Task/Recado_Record_Id__c"
    assert record["attributes"] == {"type": "Task"} and record["CallType"] == "Inbound"
    assert org.requests == {}
