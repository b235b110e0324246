"""Events follow the published schema docs/schemas/record.v1.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from recado_webhook.payload import (
    PayloadError,
    batch_event,
    encode,
    event_for,
    now_timestamp,
    ping_event,
)

from hub.testing import make_batch, make_delivery, sample_record

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "record.v1.json"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_unmapped_record_sends_the_whole_record(validator: Draft202012Validator) -> None:
    delivery = make_delivery(sample_record(), mapped={})
    event = json.loads(encode(event_for(delivery, now_timestamp())))
    validator.validate(event)
    assert event["type"] == "call.record.created"
    assert event["schema"] == "record.v1"
    assert event["data"]["record_id"] == delivery.idempotency_key
    assert event["data"]["caller_name"] == "João Gonçalves"
    assert "test" not in event


def test_mapped_record_sends_the_mapped_fields_and_the_record_id(
    validator: Draft202012Validator,
) -> None:
    record = sample_record()
    delivery = make_delivery(record, mapped={"caller": record.caller, "name": "João"})
    event = json.loads(encode(event_for(delivery, now_timestamp())))
    validator.validate(event)
    assert event["data"] == {"caller": record.caller, "name": "João", "record_id": record.record_id}


def test_mapping_cannot_replace_the_record_id() -> None:
    record = sample_record()
    delivery = make_delivery(record, mapped={"record_id": "something else"})
    assert event_for(delivery, now_timestamp()).body["data"]["record_id"] == record.record_id


def test_correction_is_sent_as_call_record_updated(validator: Draft202012Validator) -> None:
    delivery = make_delivery(sample_record()).model_copy(update={"event_type": "call.record.updated"})
    event = event_for(delivery, now_timestamp())
    validator.validate(json.loads(encode(event)))
    assert event.type == "call.record.updated"


def test_test_record_is_marked(validator: Draft202012Validator) -> None:
    delivery = make_delivery(sample_record()).model_copy(update={"test": True})
    body = json.loads(encode(event_for(delivery, now_timestamp())))
    validator.validate(body)
    assert body["test"] is True


def test_notice_takes_its_type_from_the_delivery_and_carries_its_id(
    validator: Draft202012Validator,
) -> None:
    delivery = make_delivery(kind="notice").model_copy(update={"event_type": "service.interrupted"})
    body = json.loads(encode(event_for(delivery, now_timestamp())))
    validator.validate(body)
    assert body["type"] == "service.interrupted"
    assert body["data"]["notice_id"] == delivery.idempotency_key
    assert "type" not in body["data"]


def test_notice_left_with_the_record_event_type_takes_the_notices_own_type() -> None:
    delivery = make_delivery(kind="notice").model_copy(update={"event_type": "call.record.created"})
    assert event_for(delivery, now_timestamp()).type == "service_interrupted"


def test_notice_without_a_type_cannot_be_sent() -> None:
    delivery = make_delivery(kind="notice", notice={"message": "hello"}).model_copy(
        update={"event_type": "call.record.created"}
    )
    with pytest.raises(PayloadError, match="a notice needs a type"):
        event_for(delivery, now_timestamp())


def test_mapped_value_that_is_not_json_cannot_be_sent() -> None:
    delivery = make_delivery(sample_record(), mapped={"score": math.nan})
    with pytest.raises(ValueError, match="Out of range float"):
        encode(event_for(delivery, now_timestamp()))


def test_batch_event_lists_each_event_with_its_own_id(validator: Draft202012Validator) -> None:
    timestamp = now_timestamp()
    events = [event_for(d, timestamp) for d in make_batch(3)]
    batch = batch_event(events, timestamp)
    body = json.loads(encode(batch))
    validator.validate(body)
    assert body["type"] == "recado.batch"
    assert [item["id"] for item in body["data"]] == [e.msg_id for e in events]
    assert batch.msg_id == batch_event(events, now_timestamp()).msg_id


def test_ping_is_a_test_event(validator: Draft202012Validator) -> None:
    body = json.loads(encode(ping_event("msg_ping_1", now_timestamp())))
    validator.validate(body)
    assert (body["type"], body["test"]) == ("recado.ping", True)


def test_schema_rejects_a_record_event_without_record_id(validator: Draft202012Validator) -> None:
    event = {
        "type": "call.record.created",
        "schema": "record.v1",
        "timestamp": now_timestamp(),
        "data": {"caller": "+351912345678"},
    }
    assert not validator.is_valid(event)
