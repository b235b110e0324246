"""Sending a campaign's SMS: quiet hours, opt-outs, the outbound tariff, the balance, delivery reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from campaign_setup import clients_offline, lisbon, sms_file, topup, upload
from sqlalchemy import select

from hub.core import accounts, campaigns_admin, ledger, notices, optouts, outbox, records
from hub.core import store as t
from hub.core.accounts import month_counter
from hub.core.campaigns_sms import SEND_SMS, send_due_sms
from hub.core.engine import Engine
from hub.core.jobs import JOBS
from hub.core.models import CallEvent, EventKind
from hub.core.quiet_hours import OutboundSettings
from hub.core.scheduler import JobContext, run_jobs
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

PLUGINS = Plugins(only={"webhook", "sms", "email"})


@pytest.fixture
def acme(sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """`acme` with a 12-month contract (156.00 EUR) and SMS and webhook destinations."""
    return clients_offline(sqlite_store, PLUGINS, tmp_path, monkeypatch, acme_contract=True)


def settings_of(store: Store, **outbound: Any) -> Settings:
    return Settings(database_url=store.url, outbound=OutboundSettings(**outbound))


def dispatch(store: Store, at: str, **outbound: Any) -> dict[str, int]:
    return send_due_sms(store, PLUGINS.registry, settings_of(store, **outbound), now=lisbon(at))


def contacts(store: Store, campaign: dict[str, Any]) -> list[dict[str, Any]]:
    return campaigns_admin.show_campaign(store, campaign["id"])["contact_list"]


def statuses(store: Store, campaign: dict[str, Any]) -> list[str]:
    return [c["status"] for c in contacts(store, campaign)]


def balance(store: Store, client: str = "acme") -> int:
    with store.connect() as conn:
        return ledger.lock_account(conn, client, for_update=False).balance_cents


def outbox_rows(store: Store) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return outbox.list_rows(conn)


def test_an_sms_contact_becomes_a_priced_record_queued_for_the_sms_and_webhook_destinations(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1))
    assert dispatch(acme, "2026-03-02 10:00")["sent"] == 1
    contact = contacts(acme, campaign)[0]
    assert contact["status"] == "sent"
    assert contact["price_cents"] == 100
    with acme.connect() as conn:
        record = records.get(conn, contact["record_id"])
    assert record is not None
    assert (record.direction, record.channel, record.disposition.value) == ("outbound", "sms", "sms_sent")
    assert (record.caller, record.caller_name, record.did) == ("+351910000000", "Maria Silva", "+351217000001")
    assert record.message == "Olá Maria Silva, lembramos a sua consulta na Clínica Acme a 20/03/2026 às 10:30."
    assert record.contact == {
        "campaign": campaign["id"],
        "campaign_name": "Lembretes de março",
        "contact_id": contact["id"],
        "name": "Maria Silva",
        "appointment_at": "2026-03-20T10:30:00+00:00",
        "mode": "sms",
    }
    assert record.price_cents == 100
    assert record.balance_after_cents == 15600 - 100 == balance(acme)
    assert sorted(row["destination"] for row in outbox_rows(acme)) == ["hook", "sms"]


def test_the_debit_uses_the_record_id_as_the_ledger_key(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1))
    dispatch(acme, "2026-03-02 10:00")
    record_id = contacts(acme, campaign)[0]["record_id"]
    with acme.connect() as conn:
        keys = conn.execute(select(t.ledger.c.idempotency_key, t.ledger.c.kind, t.ledger.c.amount_cents)).all()
    assert (f"call:{record_id}", "outbound", -100) in keys


def test_english_speakers_get_the_english_template(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1, appointment="2026-03-20 14:05", language="en"))
    dispatch(acme, "2026-03-02 10:00")
    with acme.connect() as conn:
        record = records.get(conn, contacts(acme, campaign)[0]["record_id"])
    assert record is not None
    assert (
        record.message == "Hello Maria Silva, a reminder of your appointment at Clínica Acme on 20 Mar 2026 at 2:05 PM."
    )


def test_nothing_is_sent_on_a_sunday(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(2))
    assert dispatch(acme, "2026-03-08 11:00")["sent"] == 0
    assert statuses(acme, campaign) == ["pending", "pending"]
    assert outbox_rows(acme) == []


def test_saturday_is_a_working_day_for_contacts(acme: Store) -> None:
    upload(acme, PLUGINS, sms_file(1))
    assert dispatch(acme, "2026-03-07 11:00")["sent"] == 1


def test_nothing_is_sent_on_a_national_holiday_and_everything_the_next_morning(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(2, appointment="2026-04-10 09:30"), at="2026-04-01 08:00")
    assert dispatch(acme, "2026-04-03 10:00")["sent"] == 0  # Good Friday
    assert statuses(acme, campaign) == ["pending", "pending"]
    assert dispatch(acme, "2026-04-04 09:00")["sent"] == 2
    assert statuses(acme, campaign) == ["sent", "sent"]


def test_nothing_is_sent_in_the_evening_and_everything_the_next_morning(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(2))
    assert dispatch(acme, "2026-03-02 20:00")["sent"] == 0
    assert dispatch(acme, "2026-03-03 08:59")["sent"] == 0
    assert statuses(acme, campaign) == ["pending", "pending"]
    assert dispatch(acme, "2026-03-03 09:00")["sent"] == 2


def test_quiet_hours_and_sundays_are_settings(acme: Store) -> None:
    upload(acme, PLUGINS, sms_file(1))
    assert dispatch(acme, "2026-03-02 18:30", quiet_start="18:00")["sent"] == 0
    assert dispatch(acme, "2026-03-08 11:00", sunday=True)["sent"] == 1


def test_a_contact_whose_appointment_passed_is_skipped(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1, appointment="2026-03-02 19:00"))
    dispatch(acme, "2026-03-02 19:30")
    assert [(c["status"], c["outcome"]) for c in contacts(acme, campaign)] == [("skipped", "appointment_passed")]
    assert outbox_rows(acme) == []


def test_a_number_that_opted_out_after_the_upload_is_never_contacted(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(2))
    with acme.begin() as conn:
        optouts.add(conn, "+351910000000", reason="pediu para não ser contactada")
    assert dispatch(acme, "2026-03-02 10:00") == {"sent": 1, "waiting": 0, "opted_out": 0, "skipped": 0}
    assert statuses(acme, campaign) == ["opted_out", "sent"]
    with acme.connect() as conn:
        sent_to = [r["caller"] for r in records.query(conn, client="acme")]
    assert sent_to == ["+351910001007"]


def test_prices_follow_the_outbound_tariff_across_the_100th_contact_of_the_month(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(101))
    assert dispatch(acme, "2026-03-02 10:00")["sent"] == 101
    prices = [c["price_cents"] for c in contacts(acme, campaign)]
    assert prices == [100] * 99 + [50, 50]
    assert balance(acme) == 15600 - 99 * 100 - 2 * 50
    with acme.connect() as conn:
        assert month_counter(conn, "acme", "2026-03")["outbound"] == 101


def test_the_count_starts_again_in_a_new_month(acme: Store) -> None:
    upload(acme, PLUGINS, sms_file(100))
    dispatch(acme, "2026-03-02 10:00")
    april = upload(acme, PLUGINS, sms_file(2, start=100, appointment="2026-04-15 10:00"), at="2026-03-31 19:00")
    assert dispatch(acme, "2026-04-01 09:00")["sent"] == 2
    assert [c["price_cents"] for c in contacts(acme, april)] == [100, 100]


def test_contacts_the_balance_cannot_pay_stay_pending_and_the_client_is_told_once(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients_offline(sqlite_store, PLUGINS, tmp_path, monkeypatch)
    topup(sqlite_store, PLUGINS, "acme", 20, "2026-03-01 12:00")
    campaign = upload(sqlite_store, PLUGINS, sms_file(23))
    assert dispatch(sqlite_store, "2026-03-02 10:00") == {"sent": 20, "waiting": 3, "opted_out": 0, "skipped": 0}
    assert statuses(sqlite_store, campaign).count("pending") == 3
    assert balance(sqlite_store) == 0
    dispatch(sqlite_store, "2026-03-02 10:05")
    with sqlite_store.connect() as conn:
        alerts = [a for a in notices.list_alerts(conn) if a["kind"] == "outbound_no_balance"]
        mails = [r for r in outbox.list_rows(conn) if r["event_type"] == "mail.campaign_no_balance"]
        told = [r for r in outbox.list_rows(conn) if r["event_type"] == "service.campaign_no_balance"]
    assert len(alerts) == 1
    assert [m["destination"] for m in mails] == [notices.CONTACT]
    assert [r["destination"] for r in told] == ["hook"]
    topup(sqlite_store, PLUGINS, "acme", 20, "2026-03-02 12:00")
    assert dispatch(sqlite_store, "2026-03-02 12:01")["sent"] == 3
    assert statuses(sqlite_store, campaign).count("sent") == 23


def test_money_held_for_calls_in_progress_is_not_spent_on_sms(acme: Store) -> None:
    with acme.begin() as conn:
        ledger.change_hold(conn, "acme", 15600 - 150)
    campaign = upload(acme, PLUGINS, sms_file(2))
    dispatch(acme, "2026-03-02 10:00")
    assert statuses(acme, campaign) == ["sent", "pending"]


def test_dispatching_twice_at_the_same_time_sends_nothing_more(acme: Store) -> None:
    upload(acme, PLUGINS, sms_file(3))
    dispatch(acme, "2026-03-02 10:00")
    assert dispatch(acme, "2026-03-02 10:00")["sent"] == 0
    assert len(outbox_rows(acme)) == 6


def test_the_send_sms_job_is_one_of_the_hubs_jobs_and_sends(acme: Store) -> None:
    assert SEND_SMS in JOBS
    upload(acme, PLUGINS, sms_file(2))
    context = JobContext(acme, PLUGINS.registry, settings_of(acme), lisbon("2026-03-02 10:00"))
    assert [run.as_dict() for run in run_jobs(context, [SEND_SMS])] == [
        {"job": "campaigns.send_sms", "done": 2, "error": None}
    ]


def test_sms_wait_while_the_client_has_no_enabled_sms_destination(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1))
    with acme.begin() as conn:
        conn.execute(t.destinations.update().where(t.destinations.c.id == "sms").values(enabled=False))
    dispatch(acme, "2026-03-02 10:00")
    assert statuses(acme, campaign) == ["pending"]
    with acme.connect() as conn:
        assert [a["kind"] for a in notices.list_alerts(conn)] == ["campaign_no_sms_destination"]


def engine(store: Store) -> Engine:
    return Engine(store, PLUGINS.registry, Settings(database_url=store.url))


def report(store: Store, contact_id: int, kind: EventKind, at: str, **raw: Any) -> None:
    event = CallEvent(source="campaigns", call_id=f"contact-{contact_id}", kind=kind, at=lisbon(at), raw=raw)
    engine(store).handle(event)


def test_a_delivery_report_marks_the_contact_delivered(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1))
    dispatch(acme, "2026-03-02 10:00")
    report(acme, contacts(acme, campaign)[0]["id"], EventKind.SMS_DELIVERED, "2026-03-02 10:00:07")
    assert statuses(acme, campaign) == ["delivered"]
    assert balance(acme) == 15500


def test_a_failed_sms_is_credited_back_and_reported_to_the_destinations_but_the_sms_one(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1))
    dispatch(acme, "2026-03-02 10:00")
    contact = contacts(acme, campaign)[0]
    report(acme, contact["id"], EventKind.SMS_FAILED, "2026-03-02 10:00:09", reason="absent subscriber")
    assert statuses(acme, campaign) == ["failed"]
    assert balance(acme) == 15600
    with acme.connect() as conn:
        entries = [(e["kind"], e["amount_cents"]) for e in ledger.statement(conn, "acme")]
        record = records.get(conn, contact["record_id"])
        counter = month_counter(conn, "acme", "2026-03")["outbound"]
        keys = conn.execute(select(t.ledger.c.idempotency_key).where(t.ledger.c.kind == "refund")).scalars().all()
    assert entries[-2:] == [("outbound", -100), ("refund", 100)]
    assert keys == [f"refund:{contact['record_id']}"]
    assert record is not None
    assert (record.disposition.value, record.price_cents, record.notes) == ("sms_failed", 0, "absent subscriber")
    assert counter == 0
    updates = [(r["destination"], r["event_type"]) for r in outbox_rows(acme) if r["event_type"].endswith("updated")]
    assert updates == [("hook", "call.record.updated")]


def test_a_repeated_failure_report_refunds_once(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1))
    dispatch(acme, "2026-03-02 10:00")
    contact_id = contacts(acme, campaign)[0]["id"]
    report(acme, contact_id, EventKind.SMS_FAILED, "2026-03-02 10:00:09")
    report(acme, contact_id, EventKind.SMS_FAILED, "2026-03-02 10:00:11")
    assert balance(acme) == 15600


def test_a_stop_reply_opts_the_number_out_of_the_clients_later_contacts(acme: Store) -> None:
    first = upload(acme, PLUGINS, sms_file(1))
    dispatch(acme, "2026-03-02 10:00")
    second = upload(acme, PLUGINS, sms_file(1, appointment="2026-03-27 10:30"), at="2026-03-02 11:00")
    report(acme, contacts(acme, first)[0]["id"], EventKind.SMS_DELIVERED, "2026-03-02 10:20", reply="Parar, obrigada")
    assert statuses(acme, second) == ["opted_out"]
    with acme.connect() as conn:
        entry = optouts.get(conn, "+351910000000")
    assert entry is not None
    assert (entry["client"], entry["reason"]) == ("acme", "SMS reply Parar, obrigada")
    assert dispatch(acme, "2026-03-03 10:00")["sent"] == 0


def test_a_reply_that_is_not_stop_changes_nothing(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1))
    dispatch(acme, "2026-03-02 10:00")
    report(
        acme,
        contacts(acme, campaign)[0]["id"],
        EventKind.SMS_DELIVERED,
        "2026-03-02 10:20",
        reply="Obrigada, lá estarei",
    )
    with acme.connect() as conn:
        assert optouts.listing(conn) == []


def test_a_report_for_an_unknown_contact_is_refused(acme: Store) -> None:
    from hub.core.engine import IngestError

    with pytest.raises(IngestError, match="no contact 999"):
        report(acme, 999, EventKind.SMS_DELIVERED, "2026-03-02 10:20")


def test_the_account_view_counts_contacts_made_this_month(acme: Store) -> None:
    upload(acme, PLUGINS, sms_file(3))
    dispatch(acme, "2026-03-02 10:00")
    with acme.connect() as conn:
        view = accounts.show(conn, "acme", lisbon("2026-03-02 12:00"), Settings().tariff)
    assert view["month"]["outbound"] == 3
