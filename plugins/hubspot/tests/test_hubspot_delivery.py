"""What a record becomes in HubSpot: a call engagement on the caller's contact, once."""

from __future__ import annotations

from datetime import UTC, datetime

from recado_hubspot import HubSpotConfig, HubSpotSink
from recado_hubspot.fake_server import FakeHubSpot
from recado_hubspot.properties import CONNECTED, NO_ANSWER

from hub.core.models import Delivered, Disposition, Failed, Language
from hub.testing import make_batch, make_delivery, sample_record

CALLER = "+351912345678"


def only_call(fake: FakeHubSpot, key: str) -> dict[str, str]:
    calls = fake.crm.calls_with_key(key)
    assert len(calls) == 1, f"expected one call for {key}, found {len(calls)}"
    return calls[0].properties


async def test_call_is_associated_to_the_contact_with_the_callers_phone(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    contact = fake.crm.add_contact(phone=CALLER, firstname="João")
    delivery = make_delivery(sample_record(caller=CALLER))

    [outcome] = await sink.deliver([delivery])

    assert isinstance(outcome, Delivered)
    assert fake.crm.contacts_of(str(outcome.remote_id)) == [contact]
    assert len(fake.crm.contacts) == 1


async def test_contact_is_also_matched_by_mobile_phone(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    contact = fake.crm.add_contact(phone="+351217999999", mobilephone=CALLER)

    [outcome] = await sink.deliver([make_delivery(sample_record(caller=CALLER))])

    assert isinstance(outcome, Delivered)
    assert fake.crm.contacts_of(str(outcome.remote_id)) == [contact]


async def test_unmatched_caller_becomes_a_new_contact_with_their_name(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    record = sample_record(caller=CALLER, caller_name="Inês Araújo Simões")

    [outcome] = await sink.deliver([make_delivery(record)])

    [contact] = fake.crm.contacts_with_phone(CALLER)
    assert contact.properties == {
        "phone": CALLER,
        "firstname": "Inês",
        "lastname": "Araújo Simões",
    }
    assert isinstance(outcome, Delivered)
    assert fake.crm.contacts_of(str(outcome.remote_id)) == [contact.id]
    assert "created" in outcome.detail


async def test_unmatched_caller_is_left_alone_when_contact_creation_is_off(fake: FakeHubSpot, token: str) -> None:
    sink = HubSpotSink(HubSpotConfig(access_token=token, host=fake.url, create_contact_when_unmatched=False))

    [outcome] = await sink.deliver([make_delivery(sample_record(caller=CALLER))])

    assert isinstance(outcome, Delivered)
    assert fake.crm.contacts == {}
    assert fake.crm.contacts_of(str(outcome.remote_id)) == []
    assert "no contact matched" in outcome.detail


async def test_callers_repeated_in_a_batch_share_one_new_contact(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    batch = [make_delivery(sample_record(call_id=f"c{i}", caller=CALLER), delivery_id=i) for i in range(3)]

    outcomes = await sink.deliver(batch)

    [contact] = fake.crm.contacts_with_phone(CALLER)
    for outcome in outcomes:
        assert isinstance(outcome, Delivered)
        assert fake.crm.contacts_of(str(outcome.remote_id)) == [contact.id]


async def test_answered_call_properties_describe_the_call(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    record = sample_record(
        caller=CALLER,
        did="+351217000001",
        answered_at=datetime(2026, 6, 15, 9, 12, 4, tzinfo=UTC),
        talk_seconds=190,
        answers={"name": "João <Gonçalves>", "reason": "booking"},
        notes="Prefere SMS.",
    )

    await sink.deliver([make_delivery(record, mapped={})])

    props = only_call(fake, record.record_id)
    assert props["hs_call_direction"] == "INBOUND"
    assert props["hs_timestamp"] == "2026-06-15T09:12:04.000Z"
    assert props["hs_call_duration"] == "190000"
    assert props["hs_call_disposition"] == CONNECTED
    assert props["hs_call_status"] == "COMPLETED"
    assert props["hs_call_from_number"] == CALLER
    assert props["hs_call_to_number"] == "+351217000001"
    assert "<strong>Nome</strong>: João &lt;Gonçalves&gt;" in props["hs_call_body"]
    assert "<strong>Motivo</strong>: booking" in props["hs_call_body"]
    assert "Prefere SMS." in props["hs_call_body"]
    assert props["recado_record_id"] == record.record_id


async def test_missed_call_is_logged_with_the_no_answer_outcome(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    record = sample_record(disposition=Disposition.MISSED, answered_at=None, talk_seconds=0)

    await sink.deliver([make_delivery(record, mapped={})])

    props = only_call(fake, record.record_id)
    assert props["hs_call_disposition"] == NO_ANSWER
    assert props["hs_call_status"] == "NO_ANSWER"
    assert props["hs_timestamp"] == "2026-06-15T09:12:00.000Z"


async def test_mapping_adds_call_properties_and_overrides_defaults(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    record = sample_record()
    mapped = {"hs_call_title": "Marcação: João", "hs_call_recording_url": "https://rec.example/1"}

    await sink.deliver([make_delivery(record, mapped=mapped)])

    props = only_call(fake, record.record_id)
    assert props["hs_call_title"] == "Marcação: João"
    assert props["hs_call_recording_url"] == "https://rec.example/1"
    assert props["hs_call_direction"] == "INBOUND"


async def test_mapped_names_hubspot_does_not_know_are_left_out_and_reported(
    sink: HubSpotSink, fake: FakeHubSpot
) -> None:
    record = sample_record()

    [outcome] = await sink.deliver([make_delivery(record, mapped={"favourite_colour": "blue"})])

    assert isinstance(outcome, Delivered)
    assert "favourite_colour" in outcome.detail
    assert "favourite_colour" not in only_call(fake, record.record_id)


async def test_test_record_is_clearly_marked(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    delivery = make_delivery(sample_record(), mapped={"hs_call_title": "Marcação"})

    await sink.deliver([delivery.model_copy(update={"test": True})])

    assert only_call(fake, delivery.idempotency_key)["hs_call_title"] == "[TEST] Marcação"


async def test_replay_after_a_retry_updates_the_same_call(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    delivery = make_delivery(sample_record(caller=CALLER))
    [first] = await sink.deliver([delivery])

    [again] = await sink.deliver([delivery.model_copy(update={"attempt": 2})])

    assert isinstance(first, Delivered) and isinstance(again, Delivered)
    assert again.remote_id == first.remote_id
    assert fake.effects() == {delivery.idempotency_key: 1}
    assert len(fake.crm.contacts) == 1


async def test_first_attempt_sent_twice_finds_the_existing_call(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    batch = make_batch(4, seed=7)
    first = await sink.deliver(batch)

    second = await sink.deliver(make_batch(4, seed=7))

    assert [o.remote_id for o in second if isinstance(o, Delivered)] == [
        o.remote_id for o in first if isinstance(o, Delivered)
    ]
    assert set(fake.effects().values()) == {1}
    for outcome in second:
        assert isinstance(outcome, Delivered)
        assert len(fake.crm.contacts_of(str(outcome.remote_id))) == 1


async def test_correction_updates_the_delivered_call(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    original = sample_record(answers={"reason": "booking"})
    await sink.deliver([make_delivery(original, mapped={})])
    corrected = make_delivery(sample_record(answers={"reason": "complaint"}), mapped={}).model_copy(
        update={"event_type": "call.record.updated"}
    )

    [outcome] = await sink.deliver([corrected])

    assert isinstance(outcome, Delivered)
    props = only_call(fake, original.record_id)
    assert "complaint" in props["hs_call_body"] and "booking" not in props["hs_call_body"]


async def test_record_and_its_correction_in_one_batch_give_one_call_with_the_correction(
    sink: HubSpotSink, fake: FakeHubSpot
) -> None:
    created = make_delivery(sample_record(answers={"reason": "booking"}), mapped={})
    corrected = make_delivery(sample_record(answers={"reason": "complaint"}), mapped={}, delivery_id=2).model_copy(
        update={"event_type": "call.record.updated"}
    )

    outcomes = await sink.deliver([created, corrected])

    assert all(isinstance(o, Delivered) for o in outcomes)
    assert "complaint" in only_call(fake, created.idempotency_key)["hs_call_body"]


async def test_refused_record_fails_with_hubspots_reason_without_the_number(
    sink: HubSpotSink, fake: FakeHubSpot
) -> None:
    batch = make_batch(3, seed=8)
    fake.refuse(batch[2].idempotency_key, f"Phone {CALLER} is not a valid number")

    outcomes = await sink.deliver(batch)

    failed = outcomes[2]
    assert isinstance(failed, Failed)
    assert "is not a valid number" in failed.reason
    assert CALLER not in failed.reason and "912345678" not in failed.reason
    assert [type(o) for o in outcomes[:2]] == [Delivered, Delivered]


async def test_refused_record_fails_alone_when_hubspot_refuses_whole_batches(
    token: str,
) -> None:
    with FakeHubSpot(token=token, atomic=True) as fake:
        sink = HubSpotSink(HubSpotConfig(access_token=token, host=fake.url))
        batch = make_batch(6, seed=9)
        fake.refuse(batch[4].idempotency_key, "invalid value")

        outcomes = await sink.deliver(batch)

        assert [type(o) for o in outcomes] == [Delivered] * 4 + [Failed, Delivered]
        assert set(fake.effects().values()) == {1}
        assert len(fake.effects()) == 5


async def test_record_without_any_time_fails_alone(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    timeless = sample_record(call_id="x", offered_at=None, answered_at=None, ended_at=None)
    batch = [make_delivery(timeless), make_delivery(sample_record(), delivery_id=2)]

    outcomes = await sink.deliver(batch)

    assert isinstance(outcomes[0], Failed) and "time" in outcomes[0].reason
    assert isinstance(outcomes[1], Delivered)


async def test_notice_is_refused_for_good(sink: HubSpotSink) -> None:
    [outcome] = await sink.deliver([make_delivery(kind="notice")])

    assert isinstance(outcome, Failed)


async def test_answers_are_labelled_in_the_call_language_in_script_order(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    record = sample_record(language=Language.EN, answers={"callback": False, "reason": "info", "extra": "x"})

    await sink.deliver([make_delivery(record, mapped={})])

    body = only_call(fake, record.record_id)["hs_call_body"]
    assert body.index("<strong>Reason</strong>: info") < body.index("<strong>Call back</strong>: No")
    assert "<strong>extra</strong>: x" in body


async def test_contact_typed_with_spaces_is_matched(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    contact = fake.crm.add_contact(phone="+351 912 345 678")

    [outcome] = await sink.deliver([make_delivery(sample_record(caller=CALLER))])

    assert isinstance(outcome, Delivered)
    assert fake.crm.contacts_of(str(outcome.remote_id)) == [contact]


async def test_contact_typed_without_country_code_is_matched(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    contact = fake.crm.add_contact(mobilephone="912 345 678")

    [outcome] = await sink.deliver([make_delivery(sample_record(caller=CALLER))])

    assert isinstance(outcome, Delivered)
    assert fake.crm.contacts_of(str(outcome.remote_id)) == [contact]


async def test_oldest_of_several_matching_contacts_gets_the_call(sink: HubSpotSink, fake: FakeHubSpot) -> None:
    oldest = fake.crm.add_contact(phone=CALLER, firstname="João")
    fake.crm.add_contact(mobilephone=CALLER, firstname="Duplicate")

    [outcome] = await sink.deliver([make_delivery(sample_record(caller=CALLER))])

    assert isinstance(outcome, Delivered)
    assert fake.crm.contacts_of(str(outcome.remote_id)) == [oldest]
