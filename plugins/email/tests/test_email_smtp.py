"""The email sink against a real SMTP server on 127.0.0.1: security modes, login, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from recado_email import EmailConfig, EmailSink, SmtpSettings

from hub.core.models import Delivered, Failed, Retry
from hub.sinks import DestinationError
from hub.testing import make_delivery, sample_record

TO = ["rececao@acme.example"]


def smtp_sink(port: int, to: list[str] = TO, **smtp: Any) -> EmailSink:
    settings = SmtpSettings(host="127.0.0.1", port=port, timeout=10, **smtp)
    return EmailSink(EmailConfig(to=to, from_address="recado@atende.example", smtp=settings))


async def test_record_is_sent_over_plain_smtp_with_its_headers(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    delivery = make_delivery()

    [outcome] = await smtp_sink(peer.port, security="plain").deliver([delivery])

    assert isinstance(outcome, Delivered)
    [received] = peer.received
    message = received.message
    assert received.mail_from == "recado@atende.example"
    assert received.rcpt_tos == TO
    assert message["Message-ID"] == f"<{delivery.idempotency_key}@acme.recado>"
    assert outcome.remote_id == message["Message-ID"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


async def test_starttls_with_login_delivers(start_smtp: Any, ca_file: Path) -> None:
    peer = start_smtp("starttls", users={"relay": "pw-starttls"})
    sink = smtp_sink(peer.port, security="starttls", ca_file=ca_file,
                     username="relay", password=SecretStr("pw-starttls"))

    [outcome] = await sink.deliver([make_delivery()])

    assert isinstance(outcome, Delivered)
    assert peer.received[0].tls and peer.received[0].authenticated


async def test_implicit_tls_with_login_delivers(start_smtp: Any, ca_file: Path) -> None:
    peer = start_smtp("tls", users={"relay": "pw-tls"})
    sink = smtp_sink(peer.port, security="tls", ca_file=ca_file,
                     username="relay", password=SecretStr("pw-tls"))

    [outcome] = await sink.deliver([make_delivery()])

    assert isinstance(outcome, Delivered)
    assert peer.received[0].tls and peer.received[0].authenticated


async def test_wrong_password_is_a_destination_error(start_smtp: Any, ca_file: Path) -> None:
    peer = start_smtp("starttls", users={"relay": "right"})
    sink = smtp_sink(peer.port, security="starttls", ca_file=ca_file,
                     username="relay", password=SecretStr("wrong"))

    with pytest.raises(DestinationError, match=r"login as relay refused.*535"):
        await sink.deliver([make_delivery()])
    assert peer.received == []


async def test_untrusted_certificate_is_a_destination_error(start_smtp: Any) -> None:
    peer = start_smtp("tls")

    with pytest.raises(DestinationError, match="certificate"):
        await smtp_sink(peer.port, security="tls").deliver([make_delivery()])


async def test_starttls_against_a_server_without_it_is_a_destination_error(
    start_smtp: Any, ca_file: Path
) -> None:
    peer = start_smtp("plain")
    sink = smtp_sink(peer.port, security="starttls", ca_file=ca_file)

    with pytest.raises(DestinationError, match="STARTTLS"):
        await sink.deliver([make_delivery()])


async def test_smtp_server_down_gives_retry_with_a_clear_reason(closed_port: int) -> None:
    [outcome] = await smtp_sink(closed_port, security="plain").deliver([make_delivery()])

    assert isinstance(outcome, Retry)
    assert f"SMTP server 127.0.0.1:{closed_port} is unreachable" in outcome.reason


async def test_server_that_never_greets_gives_retry(silent_port: int) -> None:
    sink = EmailSink(EmailConfig(to=TO, smtp=SmtpSettings(
        host="127.0.0.1", port=silent_port, security="plain", timeout=0.3)))

    [outcome] = await sink.deliver([make_delivery()])

    assert isinstance(outcome, Retry)
    assert "timed out" in outcome.reason


async def test_temporary_refusal_gives_retry(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    peer.unavailable(1)

    [outcome] = await smtp_sink(peer.port, security="plain").deliver([make_delivery()])

    assert isinstance(outcome, Retry)
    assert "451" in outcome.reason


async def test_refused_recipient_fails_the_record(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    peer.refuse_recipient(TO[0])

    [outcome] = await smtp_sink(peer.port, security="plain").deliver([make_delivery()])

    assert isinstance(outcome, Failed)
    assert "rececao@acme.example: 550" in outcome.reason


async def test_one_refused_recipient_of_two_does_not_stop_the_other(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    peer.refuse_recipient("antigo@acme.example")
    sink = smtp_sink(peer.port, to=["antigo@acme.example", *TO], security="plain")

    [outcome] = await sink.deliver([make_delivery()])

    assert isinstance(outcome, Delivered)
    assert "antigo@acme.example" in outcome.detail
    assert peer.received[0].rcpt_tos == TO


async def test_temporarily_refused_recipients_give_retry(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    peer.refuse_recipient(TO[0], "450 4.2.1 Mailbox busy")

    [outcome] = await smtp_sink(peer.port, security="plain").deliver([make_delivery()])

    assert isinstance(outcome, Retry)


async def test_check_logs_in_without_sending(start_smtp: Any, ca_file: Path) -> None:
    peer = start_smtp("starttls", users={"relay": "pw"})
    sink = smtp_sink(peer.port, security="starttls", ca_file=ca_file,
                     username="relay", password=SecretStr("pw"))

    health = await sink.check()

    assert health.ok, health.detail
    assert "logged in as relay" in health.detail
    assert peer.received == []


async def test_check_reports_a_refused_login(start_smtp: Any, ca_file: Path) -> None:
    peer = start_smtp("starttls", users={"relay": "pw"})
    sink = smtp_sink(peer.port, security="starttls", ca_file=ca_file,
                     username="relay", password=SecretStr("not-it"))

    health = await sink.check()

    assert not health.ok
    assert "535" in health.detail


async def test_check_reports_a_server_that_is_down(closed_port: int) -> None:
    health = await smtp_sink(closed_port, security="plain").check()

    assert not health.ok
    assert "unreachable" in health.detail


async def test_every_delivery_of_a_batch_gets_its_own_email(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    first = make_delivery(sample_record(call_id="a"), delivery_id=1)
    second = make_delivery(sample_record(call_id="b"), delivery_id=2)

    outcomes = await smtp_sink(peer.port, security="plain").deliver([first, second])

    assert [type(o) for o in outcomes] == [Delivered, Delivered]
    assert peer.effects() == {first.idempotency_key: 1, second.idempotency_key: 1}


async def test_a_record_delivery_without_its_record_fails_alone(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    broken = make_delivery().model_copy(update={"record": None, "delivery_id": 1})
    fine = make_delivery(sample_record(call_id="fine"), delivery_id=2)

    outcomes = await smtp_sink(peer.port, security="plain").deliver([broken, fine])

    assert [type(o) for o in outcomes] == [Failed, Delivered]
    assert "cannot be rendered" in outcomes[0].reason
