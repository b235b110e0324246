"""The webhook sink against a real receiver on 127.0.0.1: signatures, outcomes, guard, TLS."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import trustme
from recado_webhook.config import WebhookConfig
from recado_webhook.signing import new_secret
from recado_webhook.sink import WebhookSink
from recado_webhook.testing import Received, Reply, WebhookReceiver
from standardwebhooks import Webhook

from hub.core.models import Delivered, Failed, Retry
from hub.sinks import DestinationError
from hub.testing import make_batch, make_delivery, sample_record


def _verified(secret: str, received: Received) -> Any:
    """The payload, once the standardwebhooks library accepted its signature."""
    return Webhook(secret).verify(received.body, dict(received.headers))


def _sink(url: str, secret: str, **settings: Any) -> WebhookSink:
    return WebhookSink(WebhookConfig.model_validate({"url": url, "secret": secret, **settings}))


# ------------------------------------------------------------- signatures


async def test_delivered_record_is_verified_by_the_standardwebhooks_library(
    sink: WebhookSink, receiver: WebhookReceiver, secret: str
) -> None:
    delivery = make_delivery(sample_record(), mapped={})
    [outcome] = await sink.deliver([delivery])
    assert isinstance(outcome, Delivered)
    payload = _verified(secret, receiver.received[0])
    assert payload["type"] == "call.record.created"
    assert payload["data"]["record_id"] == delivery.idempotency_key


async def test_remote_id_is_the_id_the_receiver_answered(sink: WebhookSink, receiver: WebhookReceiver) -> None:
    [outcome] = await sink.deliver([make_delivery()])
    assert isinstance(outcome, Delivered)
    assert outcome.remote_id == "obj_1"


async def test_webhook_id_is_the_same_on_every_retry(sink: WebhookSink, receiver: WebhookReceiver) -> None:
    delivery = make_delivery()
    receiver.unavailable(1)
    [first] = await sink.deliver([delivery])
    [second] = await sink.deliver([delivery.model_copy(update={"attempt": 2})])
    assert isinstance(first, Retry) and isinstance(second, Delivered)
    assert receiver.received[0].msg_id == receiver.received[1].msg_id


async def test_rotation_signs_with_both_secrets(allow_private: None, receiver: WebhookReceiver, secret: str) -> None:
    old = new_secret()
    rotating = _sink(receiver.url, secret, secrets=[old])
    try:
        await rotating.deliver([make_delivery()])
    finally:
        await rotating.aclose()
    received = receiver.received[0]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    for each in (secret, old):
        _verified(each, received)


async def test_extra_headers_are_sent_with_the_signature(
    allow_private: None, receiver: WebhookReceiver, secret: str
) -> None:
    tenant = _sink(receiver.url, secret, headers={"X-Tenant": "acme"})
    try:
        await tenant.deliver([make_delivery()])
    finally:
        await tenant.aclose()
    assert receiver.received[0].headers["x-tenant"] == "acme"
    _verified(secret, receiver.received[0])


# --------------------------------------------------------------- outcomes


async def test_429_retry_after_in_seconds_becomes_after_s(sink: WebhookSink, receiver: WebhookReceiver) -> None:
    receiver.plan(Reply(429, b"slow down", {"retry-after": "120"}))
    [outcome] = await sink.deliver([make_delivery()])
    assert isinstance(outcome, Retry) and outcome.after_s == 120


async def test_503_retry_after_as_http_date_becomes_after_s(sink: WebhookSink, receiver: WebhookReceiver) -> None:
    when = datetime.now(UTC) + timedelta(minutes=10)
    receiver.plan(Reply(503, b"maintenance", {"retry-after": format_datetime(when, usegmt=True)}))
    [outcome] = await sink.deliver([make_delivery()])
    assert isinstance(outcome, Retry)
    assert outcome.after_s is not None and 540 < outcome.after_s <= 600


async def test_500_without_retry_after_is_retried_at_the_hubs_pace(
    sink: WebhookSink, receiver: WebhookReceiver
) -> None:
    receiver.plan(Reply(500, b"Internal Server Error"))
    [outcome] = await sink.deliver([make_delivery()])
    assert isinstance(outcome, Retry) and outcome.after_s is None
    assert outcome.reason == "HTTP 500: Internal Server Error"


async def test_slow_receiver_is_retried(allow_private: None, receiver: WebhookReceiver, secret: str) -> None:
    impatient = _sink(receiver.url, secret, timeout=0.2)
    receiver.plan(Reply(200, b"{}", delay_s=1.0))
    try:
        [outcome] = await impatient.deliver([make_delivery()])
    finally:
        await impatient.aclose()
    assert isinstance(outcome, Retry)
    assert "no answer from 127.0.0.1 within 0.2 s" in outcome.reason


async def test_unreachable_receiver_is_retried(allow_private: None, secret: str) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    closed = _sink(f"http://127.0.0.1:{port}/hook", secret)
    try:
        [outcome] = await closed.deliver([make_delivery()])
    finally:
        await closed.aclose()
    assert isinstance(outcome, Retry) and "could not reach 127.0.0.1" in outcome.reason


async def test_422_fails_the_record_with_the_receivers_words(sink: WebhookSink, receiver: WebhookReceiver) -> None:
    delivery = make_delivery()
    receiver.refuse(delivery.idempotency_key, "name: required")
    [outcome] = await sink.deliver([delivery])
    assert isinstance(outcome, Failed)
    assert outcome.reason == 'HTTP 422: {"error": "name: required"}'


async def test_reason_is_at_most_200_characters_of_the_answer(sink: WebhookSink, receiver: WebhookReceiver) -> None:
    receiver.plan(Reply(400, b"x" * 5000))
    [outcome] = await sink.deliver([make_delivery()])
    assert isinstance(outcome, Failed)
    assert len(outcome.reason.removeprefix("HTTP 400: ")) == 200


async def test_secret_echoed_by_the_receiver_is_blanked_out(
    sink: WebhookSink, receiver: WebhookReceiver, secret: str
) -> None:
    receiver.plan(Reply(400, f"bad signature, expected key {secret}".encode()))
    [outcome] = await sink.deliver([make_delivery()])
    assert isinstance(outcome, Failed)
    assert secret not in outcome.reason
    assert secret.removeprefix("whsec_") not in outcome.reason
    assert "[redacted]" in outcome.reason


async def test_redirect_is_not_followed(sink: WebhookSink, receiver: WebhookReceiver) -> None:
    receiver.plan(Reply(301, b"", {"location": "https://elsewhere.example/hook"}))
    [outcome] = await sink.deliver([make_delivery()])
    assert isinstance(outcome, Failed) and "redirects are not followed" in outcome.reason
    assert len(receiver.received) == 1


async def test_410_disables_the_destination(sink: WebhookSink, receiver: WebhookReceiver) -> None:
    receiver.gone()
    with pytest.raises(DestinationError, match="the receiver said the endpoint is gone") as caught:
        await sink.deliver([make_delivery()])
    assert caught.value.disable is True


async def test_record_that_cannot_be_written_as_json_fails_alone(sink: WebhookSink, receiver: WebhookReceiver) -> None:
    good, bad = make_batch(2)
    bad = bad.model_copy(update={"mapped": {"score": float("nan")}})
    outcomes = await sink.deliver([bad, good])
    assert isinstance(outcomes[0], Failed) and "cannot build the webhook payload" in outcomes[0].reason
    assert isinstance(outcomes[1], Delivered)
    assert len(receiver.received) == 1


async def test_notice_is_sent_with_its_own_event_type(
    sink: WebhookSink, receiver: WebhookReceiver, secret: str
) -> None:
    [outcome] = await sink.deliver([make_delivery(kind="notice")])
    assert isinstance(outcome, Delivered)
    assert _verified(secret, receiver.received[0])["type"] == "client.service_interrupted"


# ---------------------------------------------------------------- batches


@pytest.fixture
async def batching(allow_private: None, receiver: WebhookReceiver, secret: str) -> Any:
    built = _sink(receiver.url, secret, max_batch=3)
    yield built
    await built.aclose()


async def test_batch_setting_sets_the_sinks_max_batch(batching: WebhookSink) -> None:
    assert batching.max_batch == 3 and isinstance(batching, WebhookSink)


async def test_batch_goes_in_one_signed_request(batching: WebhookSink, receiver: WebhookReceiver, secret: str) -> None:
    batch = make_batch(3)
    outcomes = await batching.deliver(batch)
    assert all(isinstance(o, Delivered) for o in outcomes)
    [received] = receiver.received
    payload = _verified(secret, received)
    assert payload["type"] == "recado.batch"
    assert [item["data"]["record_id"] for item in payload["data"]] == [d.idempotency_key for d in batch]


async def test_refused_batch_is_resent_one_by_one_so_only_the_bad_record_fails(
    batching: WebhookSink, receiver: WebhookReceiver
) -> None:
    batch = make_batch(3)
    receiver.refuse(batch[2].idempotency_key, "caller: blocked")
    outcomes = await batching.deliver(batch)
    assert [type(o).__name__ for o in outcomes] == ["Delivered", "Delivered", "Failed"]
    assert len(receiver.received) == 4


# ------------------------------------------------------------------ check


async def test_check_sends_a_signed_ping(sink: WebhookSink, receiver: WebhookReceiver, secret: str) -> None:
    health = await sink.check()
    assert health.ok, health.detail
    payload = _verified(secret, receiver.received[0])
    assert (payload["type"], payload["test"]) == ("recado.ping", True)


async def test_check_reports_a_receiver_that_rejects_the_signature(
    allow_private: None, receiver: WebhookReceiver
) -> None:
    stranger = _sink(receiver.url, new_secret())
    try:
        health = await stranger.check()
    finally:
        await stranger.aclose()
    assert not health.ok
    assert health.detail == 'the receiver refused a signed ping: HTTP 401: {"error":"invalid signature"}'


# ------------------------------------------------------------ the guard


async def test_private_address_is_refused_at_delivery_when_not_allowed(
    monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver, secret: str
) -> None:
    monkeypatch.setenv("RECADO_WEBHOOK_ALLOW_PRIVATE", "true")
    config = WebhookConfig(url=receiver.url, secret=secret)  # saved while it was allowed
    monkeypatch.delenv("RECADO_WEBHOOK_ALLOW_PRIVATE")
    guarded = WebhookSink(config)
    try:
        with pytest.raises(DestinationError, match=r"127\.0\.0\.1 is a loopback address"):
            await guarded.deliver([make_delivery()])
    finally:
        await guarded.aclose()
    assert receiver.received == []


async def test_host_name_resolving_to_loopback_is_refused_at_delivery(
    guarded: None, receiver: WebhookReceiver, secret: str
) -> None:
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        pytest.skip(f"this machine's name {name!r} does not resolve")
    if not any(a.startswith("127.") or a == "::1" for a in addresses):
        pytest.skip(f"this machine's name {name!r} does not resolve to a loopback address")
    resolving = _sink(f"http://{name}:{receiver.port}/hooks/recado", secret)
    try:
        with pytest.raises(DestinationError, match=f"{name} \\(resolves to .*\\) is a loopback"):
            await resolving.deliver([make_delivery()])
        health = await resolving.check()
    finally:
        await resolving.aclose()
    assert not health.ok and "RECADO_WEBHOOK_ALLOW_PRIVATE=true" in health.detail
    assert receiver.received == []


# -------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_receiver(authority: trustme.CA, secret: str) -> Iterator[WebhookReceiver]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    with WebhookReceiver([secret], ssl_context=context) as running:
        yield running


async def test_https_receiver_with_a_trusted_certificate_gets_the_record(
    allow_private: None, tls_receiver: WebhookReceiver, authority: trustme.CA, secret: str
) -> None:
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    tls = WebhookSink(WebhookConfig(url=tls_receiver.url, secret=secret), ssl_context=trusting)
    try:
        [outcome] = await tls.deliver([make_delivery()])
    finally:
        await tls.aclose()
    assert isinstance(outcome, Delivered)
    _verified(secret, tls_receiver.received[0])


async def test_https_receiver_with_an_untrusted_certificate_gets_nothing(
    allow_private: None, tls_receiver: WebhookReceiver, secret: str
) -> None:
    tls = _sink(tls_receiver.url, secret)
    try:
        [outcome] = await tls.deliver([make_delivery()])
    finally:
        await tls.aclose()
    assert isinstance(outcome, Retry) and "CERTIFICATE_VERIFY_FAILED" in outcome.reason
    assert tls_receiver.received == []


# ------------------------------------------------------------- mappings


def test_any_json_key_is_a_valid_mapping_target(sink: WebhookSink) -> None:
    assert sink.validate({"caller": "{{ call.caller }}", "Nome do cliente": "{{ answers.name }}"}) == []


def test_mapping_to_record_id_is_refused(sink: WebhookSink) -> None:
    [problem] = sink.validate({"record_id": "{{ call.id }}"})
    assert "'record_id' is filled in by the webhook sink" in problem
