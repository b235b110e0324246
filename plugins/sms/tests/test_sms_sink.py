"""The sms sink against the fake gateway on 127.0.0.1: sent, retried, refused, paused."""

from __future__ import annotations

import logging
import socket

import pytest
from fake_gateway import FakeGateway
from recado_sms.sink import SmsSink
from sms_setup import MOBILE, TEXT, TOKEN, sms_config, sms_delivery

from hub.core.models import Delivered, Failed, Retry
from hub.sinks import DestinationError
from hub.testing import make_delivery


async def test_a_message_reaches_the_gateway_with_sender_reference_and_segments(
    sink: SmsSink, gateway: FakeGateway
) -> None:
    delivery = sms_delivery()
    [outcome] = await sink.deliver([delivery])
    assert isinstance(outcome, Delivered)
    assert outcome.remote_id == "msg_1"
    [seen] = gateway.seen
    assert seen.body == {
        "to": MOBILE,
        "from": "ClinicaAcme",
        "text": TEXT,
        "reference": delivery.record.record_id if delivery.record else None,
        "encoding": "GSM-7",
        "segments": 1,
    }
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["idempotency-key"] == delivery.idempotency_key


async def test_mapped_to_and_text_take_precedence_over_the_record(sink: SmsSink, gateway: FakeGateway) -> None:
    delivery = sms_delivery(mapped={"to": "+351 936 000 111", "text": "Olá João, até amanhã!"})
    [outcome] = await sink.deliver([delivery])
    assert isinstance(outcome, Delivered)
    body = gateway.seen[0].body
    assert (body["to"], body["text"]) == ("+351936000111", "Olá João, até amanhã!")
    assert (body["encoding"], body["segments"]) == ("UCS-2", 1)


async def test_a_long_portuguese_text_goes_as_ucs2_in_several_segments(sink: SmsSink, gateway: FakeGateway) -> None:
    text = "Lembrete: a sua marcação é amanhã às 15h na Clínica Acme. " * 2
    [outcome] = await sink.deliver([sms_delivery(message=text)])
    assert isinstance(outcome, Delivered)
    assert outcome.detail.endswith("UCS-2, 2 segment(s)")
    assert (gateway.seen[0].body["encoding"], gateway.seen[0].body["segments"]) == ("UCS-2", 2)


async def test_the_callback_url_is_sent_when_configured(gateway: FakeGateway) -> None:
    sink = SmsSink(sms_config(gateway, status_callback_url="https://hub.example.pt/sms/reports"))
    try:
        await sink.deliver([sms_delivery()])
    finally:
        await sink.aclose()
    assert gateway.seen[0].body["callback_url"] == "https://hub.example.pt/sms/reports"


async def test_an_e164_sender_id_is_sent_as_from(gateway: FakeGateway) -> None:
    sink = SmsSink(sms_config(gateway, sender_id="+351912000999"))
    try:
        await sink.deliver([sms_delivery()])
    finally:
        await sink.aclose()
    assert gateway.seen[0].body["from"] == "+351912000999"


async def test_a_repeated_delivery_sends_nothing_new(sink: SmsSink, gateway: FakeGateway) -> None:
    first = await sink.deliver([sms_delivery()])
    again = await sink.deliver([sms_delivery()])
    assert [o.remote_id for o in first + again if isinstance(o, Delivered)] == ["msg_1", "msg_1"]
    assert len(gateway.messages) == 1


async def test_a_rate_limit_gives_retry_after_the_delay_the_gateway_asks(sink: SmsSink, gateway: FakeGateway) -> None:
    gateway.plan(429, {"error": "too many requests"}, headers={"Retry-After": "30"})
    [outcome] = await sink.deliver([sms_delivery()])
    assert isinstance(outcome, Retry)
    assert outcome.after_s == pytest.approx(30.0)
    assert "too many requests" in outcome.reason


async def test_a_server_error_gives_retry(sink: SmsSink, gateway: FakeGateway) -> None:
    gateway.plan(503, {"error": "maintenance"})
    [outcome] = await sink.deliver([sms_delivery()])
    assert isinstance(outcome, Retry)
    assert outcome.reason == "HTTP 503: maintenance"


async def test_a_gateway_that_does_not_answer_in_time_gives_retry(gateway: FakeGateway) -> None:
    sink = SmsSink(sms_config(gateway, timeout=0.2))
    gateway.plan(201, {"id": "late"}, delay_s=2.0)
    try:
        [outcome] = await sink.deliver([sms_delivery()])
    finally:
        await sink.aclose()
    assert isinstance(outcome, Retry)
    assert "no answer from 127.0.0.1 within 0.2 s" in outcome.reason


async def test_an_unreachable_gateway_gives_retry(gateway: FakeGateway) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sink = SmsSink(sms_config(gateway, url=f"http://127.0.0.1:{closed_port}/v1/messages"))
    try:
        [outcome] = await sink.deliver([sms_delivery()])
    finally:
        await sink.aclose()
    assert isinstance(outcome, Retry)
    assert outcome.reason.startswith("could not reach 127.0.0.1")


async def test_a_deferred_message_defers_the_rest_of_the_batch_unsent(sink: SmsSink, gateway: FakeGateway) -> None:
    gateway.plan(500, {"error": "queue full"})
    batch = [sms_delivery(f"sms-{n}") for n in range(3)]
    outcomes = await sink.deliver(batch)
    assert [type(o).__name__ for o in outcomes] == ["Retry", "Retry", "Retry"]
    assert len(gateway.seen) == 1


async def test_a_refused_message_fails_with_the_gateways_reason(sink: SmsSink, gateway: FakeGateway) -> None:
    gateway.plan(400, {"error": {"message": "destination number not reachable"}})
    batch = [sms_delivery("sms-1"), sms_delivery("sms-2")]
    first, second = await sink.deliver(batch)
    assert first == Failed(reason="HTTP 400: destination number not reachable")
    assert isinstance(second, Delivered)


async def test_an_unprocessable_message_fails(sink: SmsSink, gateway: FakeGateway) -> None:
    gateway.plan(422, "text too long for this route")
    [outcome] = await sink.deliver([sms_delivery()])
    assert outcome == Failed(reason="HTTP 422: text too long for this route")


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_pause_the_destination(sink: SmsSink, gateway: FakeGateway, status: int) -> None:
    gateway.plan(status, {"error": "invalid API key"})
    with pytest.raises(DestinationError) as caught:
        await sink.deliver([sms_delivery()])
    assert "bad credentials" in caught.value.reason
    assert "invalid API key" in caught.value.reason


async def test_a_wrong_token_is_refused_by_the_gateway_and_pauses_the_destination(gateway: FakeGateway) -> None:
    sink = SmsSink(sms_config(gateway, token="not-the-token"))
    try:
        with pytest.raises(DestinationError):
            await sink.deliver([sms_delivery()])
    finally:
        await sink.aclose()
    assert not gateway.messages


async def test_a_missing_endpoint_pauses_the_destination(gateway: FakeGateway) -> None:
    sink = SmsSink(sms_config(gateway, url=gateway.base_url + "/v2/nowhere"))
    try:
        with pytest.raises(DestinationError) as caught:
            await sink.deliver([sms_delivery()])
    finally:
        await sink.aclose()
    assert "no send endpoint" in caught.value.reason


async def test_a_token_echoed_by_the_gateway_never_reaches_reasons_or_logs(
    sink: SmsSink, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    gateway.plan(400, {"error": f"bad header Authorization: Bearer {TOKEN}"})
    gateway.plan(503, f"upstream refused {TOKEN}")
    texts += [o.reason for o in await sink.deliver([sms_delivery("sms-1")]) if isinstance(o, Failed | Retry)]
    texts += [o.reason for o in await sink.deliver([sms_delivery("sms-2")]) if isinstance(o, Failed | Retry)]
    gateway.plan(401, {"error": f"token {TOKEN} revoked"})
    with pytest.raises(DestinationError) as caught:
        await sink.deliver([sms_delivery("sms-3")])
    texts.append(str(caught.value))
    assert len(texts) == 3
    assert all("[redacted]" in text for text in texts), texts
    logged = [record.getMessage() for record in caplog.records]
    assert not [text for text in texts + logged if TOKEN in text]


async def test_a_text_longer_than_max_segments_fails_without_being_sent(gateway: FakeGateway) -> None:
    sink = SmsSink(sms_config(gateway, max_segments=2))
    text = "Confirmamos a sua consulta de amanhã. " * 4  # 152 characters with ã: 3 UCS-2 segments
    try:
        [outcome] = await sink.deliver([sms_delivery(message=text)])
    finally:
        await sink.aclose()
    assert isinstance(outcome, Failed)
    assert "needs 3 SMS segments (UCS-2, 152 characters)" in outcome.reason
    assert "at most 2 (max_segments)" in outcome.reason
    assert "because of: ã" in outcome.reason
    assert not gateway.seen


async def test_a_record_without_text_fails_without_being_sent(sink: SmsSink, gateway: FakeGateway) -> None:
    [outcome] = await sink.deliver([sms_delivery(message=None)])
    assert outcome == Failed(reason="no text to send: map `text`, or the record needs a `message`")
    assert not gateway.seen


async def test_a_landline_fails_without_being_sent(sink: SmsSink, gateway: FakeGateway) -> None:
    [outcome] = await sink.deliver([sms_delivery(caller="+351217000001")])
    assert isinstance(outcome, Failed)
    assert "fixed-line number" in outcome.reason
    assert "217000001" not in outcome.reason
    assert not gateway.seen


async def test_an_invalid_number_fails_with_the_number_masked(sink: SmsSink, gateway: FakeGateway) -> None:
    [outcome] = await sink.deliver([sms_delivery(mapped={"to": "+35191234"})])
    assert isinstance(outcome, Failed)
    assert outcome.reason.startswith("+3519**34 is not a valid phone number (expected E.164")


async def test_recipients_numbers_are_masked_in_logs(
    sink: SmsSink, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway.plan(400, {"error": "number +351912345678 barred"})
    await sink.deliver([sms_delivery("sms-1"), sms_delivery("sms-2")])
    logged = " ".join(record.getMessage() for record in caplog.records if record.name.startswith("recado_sms"))
    assert "+3519******78" in logged
    assert "912345678" not in logged


async def test_notices_are_not_sent_by_sms(sink: SmsSink, gateway: FakeGateway) -> None:
    assert SmsSink.accepts_notices is False
    assert SmsSink.sends_messages is True
    [outcome] = await sink.deliver([make_delivery(kind="notice")])
    assert isinstance(outcome, Failed)
    assert not gateway.seen


def test_a_mapping_may_fill_only_to_and_text(sink: SmsSink) -> None:
    assert sink.validate({"to": "{{ call.caller }}", "text": "{{ call.message }}"}) == []
    [problem] = sink.validate({"to": "{{ call.caller }}", "subject": "Consulta"})
    assert problem == "mapping: 'subject' is not a field of an SMS; the sms sink takes `to`, `text`"


async def test_check_is_ok_when_the_gateway_accepts_the_token(sink: SmsSink) -> None:
    health = await sink.check()
    assert health.ok, health.detail
    assert health.info["url"].endswith("/health")


async def test_check_says_when_the_token_is_refused(gateway: FakeGateway) -> None:
    sink = SmsSink(sms_config(gateway, token="expired-token"))
    try:
        health = await sink.check()
    finally:
        await sink.aclose()
    assert not health.ok
    assert health.detail == "the gateway refused the token: HTTP 401: invalid token"


async def test_check_says_when_the_gateway_cannot_be_reached(gateway: FakeGateway) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sink = SmsSink(sms_config(gateway, check_url=f"http://127.0.0.1:{closed_port}/health"))
    try:
        health = await sink.check()
    finally:
        await sink.aclose()
    assert not health.ok
    assert health.detail.startswith("could not reach 127.0.0.1")


def test_preview_shows_the_body_but_never_the_token(sink: SmsSink) -> None:
    preview = sink.preview(sms_delivery())
    assert preview["body"]["text"] == TEXT
    assert preview["body"]["segments"] == 1
    assert TOKEN not in repr(preview)
