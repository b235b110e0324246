"""The digest option of email destinations: its settings, its times, and one email per digest."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError
from recado_email import EmailConfig, EmailSink, SmtpSettings
from recado_email.schedule import next_time

from hub.core.models import Delivered, Failed, Retry
from hub.testing import make_batch, make_delivery, sample_account, sample_notice

LISBON = ZoneInfo("Europe/Lisbon")
TO = ["rececao@acme.example"]
TIMES = [time(9), time(13), time(18)]


def digest_sink(port: int) -> EmailSink:
    smtp = SmtpSettings(host="127.0.0.1", port=port, security="plain", timeout=10)
    return EmailSink(EmailConfig(to=TO, smtp=smtp, delivery="digest", digest_times=["09:00", "13:00", "18:00"]))


def lisbon(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LISBON)


# -- settings -----------------------------------------------------------------------------------


def test_delivery_is_one_email_per_record_unless_told_otherwise() -> None:
    config = EmailConfig(to=TO, maildir="/tmp/mail")
    assert config.delivery == "each" and config.digest_schedule == []
    assert EmailSink(config).release_at("record", datetime.now(UTC)) is None


def test_a_digest_without_times_goes_at_nine_one_and_six() -> None:
    config = EmailConfig(to=TO, maildir="/tmp/mail", delivery="digest")
    assert config.digest_schedule == TIMES


def test_a_bad_digest_time_is_named_with_its_position() -> None:
    with pytest.raises(ValidationError) as error:
        EmailConfig(to=TO, maildir="/tmp/mail", delivery="digest", digest_times=["09:00", "9h30"])
    [problem] = error.value.errors()
    assert problem["loc"] == ("digest_times", 1)
    assert "'9h30' is not a time of day (expected HH:MM" in problem["msg"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"delivery": "digest", "digest_times": []}, "give at least one time of day"),
        ({"digest_times": ["13:00"]}, "only used with `delivery: digest`"),
        ({"delivery": "weekly"}, "'each' or 'digest'"),
        ({"delivery": "digest", "digest_times": ["24:00"]}, "00:00 to 23:59"),
    ],
)
def test_digest_settings_are_checked(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EmailConfig.model_validate({"to": TO, "maildir": "/tmp/mail", **settings})


# -- digest times -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-06-15 12:10", "2026-06-15 13:00"),
        ("2026-06-15 13:00", "2026-06-15 13:00"),
        ("2026-06-15 13:00:01", "2026-06-15 18:00"),
        ("2026-06-15 18:30", "2026-06-16 09:00"),
        ("2026-06-15 00:00", "2026-06-15 09:00"),
    ],
)
def test_the_next_digest_is_the_first_time_at_or_after_the_moment(moment: str, expected: str) -> None:
    assert next_time(TIMES, lisbon(moment)) == lisbon(expected)


def test_digest_times_keep_the_lisbon_clock_across_summer_time() -> None:
    # 29 March 2026: 09:00 is WEST (08:00 UTC); the evening before, 18:00 was WET (18:00 UTC).
    assert next_time(TIMES, lisbon("2026-03-28 18:30")) == datetime(2026, 3, 29, 8, tzinfo=UTC)
    assert next_time(TIMES, lisbon("2026-03-28 17:00")) == datetime(2026, 3, 28, 18, tzinfo=UTC)
    # 25 October 2026: back to WET.
    assert next_time(TIMES, lisbon("2026-10-24 18:30")) == datetime(2026, 10, 25, 9, tzinfo=UTC)


def test_records_wait_for_the_next_digest_and_notices_do_not() -> None:
    sink = EmailSink(EmailConfig(to=TO, maildir="/tmp/mail", delivery="digest", digest_times=["13:00"]))
    assert sink.release_at("record", lisbon("2026-06-15 10:05")) == lisbon("2026-06-15 13:00")
    assert sink.release_at("notice", lisbon("2026-06-15 10:05")) is None
    assert sink.max_batch >= 500


# -- one email per digest -----------------------------------------------------------------------


async def test_a_batch_of_records_is_one_email_with_every_record_and_the_balance(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    batch = make_batch(4, account=sample_account(balance_cents=8_450, answered=37))

    outcomes = await digest_sink(peer.port).deliver(batch)

    [received] = peer.received
    message = received.message
    assert all(isinstance(outcome, Delivered) for outcome in outcomes)
    assert {outcome.remote_id for outcome in outcomes if isinstance(outcome, Delivered)} == {message["Message-ID"]}
    assert message["Subject"] == "4 chamadas desde o último resumo — Clínica Acme"
    text = message.get_body(("plain",)).get_content()
    for delivery in batch:
        assert delivery.record is not None and delivery.record.caller_name in text
    assert "Saldo: 84,50 €" in text and "Chamadas atendidas este mês: 37" in text
    html = message.get_body(("html",)).get_content()
    assert html.count("<strong>") >= 4  # one heading per record, and the balance


async def test_a_digest_is_written_in_the_clients_first_language(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    client = {"id": "gama", "name": "Gama Labs", "languages": ["en", "pt"], "script": {"fields": []}}
    await digest_sink(peer.port).deliver(make_batch(1, client=client))
    assert peer.received[0].message["Subject"] == "1 call since the last digest — Gama Labs"


async def test_the_same_digest_sent_again_is_the_same_email(start_smtp: Any, tmp_path: Path) -> None:
    peer = start_smtp("plain")
    sink = digest_sink(peer.port)
    batch = make_batch(3)
    await sink.deliver(batch)
    await sink.deliver(list(reversed(batch)))  # a worker died after sending; the rows came back
    first, second = (item.message for item in peer.received)
    assert first["Message-ID"] == second["Message-ID"]  # mail clients show it once
    other = await sink.deliver(make_batch(3, seed=1))
    assert isinstance(other[0], Delivered) and other[0].remote_id != first["Message-ID"]

    box = EmailSink(EmailConfig(to=TO, maildir=tmp_path / "mail", delivery="digest"))
    await box.deliver(batch)
    await box.deliver(batch)
    assert len(mailbox.Maildir(tmp_path / "mail", create=False)) == 1


async def test_a_refused_digest_is_retried_whole(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    peer.unavailable(1)
    outcomes = await digest_sink(peer.port).deliver(make_batch(3))
    assert all(isinstance(outcome, Retry) for outcome in outcomes)
    assert peer.received == []


async def test_a_notice_in_a_digest_batch_is_its_own_email(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    notice = make_delivery(kind="notice", notice=sample_notice("service_interrupted"), delivery_id=9)
    outcomes = await digest_sink(peer.port).deliver([*make_batch(2), notice])
    assert [type(outcome) for outcome in outcomes] == [Delivered, Delivered, Delivered]
    subjects = sorted(str(item.message["Subject"]) for item in peer.received)
    assert subjects[0].startswith("2 chamadas desde o último resumo")
    assert subjects[1].startswith("Serviço interrompido")


async def test_a_record_that_cannot_be_listed_fails_alone(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    broken = make_delivery().model_copy(update={"record": None, "delivery_id": 5, "idempotency_key": "rec_broken"})
    outcomes = await digest_sink(peer.port).deliver([*make_batch(2), broken])
    assert [type(outcome) for outcome in outcomes] == [Delivered, Delivered, Failed]
    assert len(peer.received) == 1


async def test_each_mode_still_sends_one_email_per_record(start_smtp: Any) -> None:
    peer = start_smtp("plain")
    smtp = SmtpSettings(host="127.0.0.1", port=peer.port, security="plain", timeout=10)
    sink = EmailSink(EmailConfig(to=TO, smtp=smtp))
    batch = make_batch(3)
    for delivery in batch:
        await sink.deliver([delivery])
    assert sink.max_batch == 1
    assert [item.message["Message-ID"] for item in peer.received] == [
        f"<{delivery.idempotency_key}@acme.recado>" for delivery in batch
    ]


def test_an_unquoted_yaml_time_is_explained() -> None:
    document = yaml.safe_load("to: [a@acme.example]\nmaildir: /tmp/mail\ndelivery: digest\ndigest_times: [13:00]")
    with pytest.raises(ValidationError, match=r'780 is not a time of day: write times in quotes, e\.g\. "13:00"'):
        EmailConfig.model_validate(document)
