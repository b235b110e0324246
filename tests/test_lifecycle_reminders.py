"""Contract-end reminders: mailed 30 and 7 days before the end, once each, through the relay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from lifecycle_support import ACME_MAIL, account, apply, done, lifecycle_clients, mail_keys, snapshot, tick
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from outbox_worker import deliver
from sample_clients import buy, lisbon
from sqlalchemy import select

from hub.core import contracts, directory
from hub.core import store as t
from hub.core.lifecycle_jobs import reminder_due
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

REMINDERS = "contracts.reminders"


def _contract(store: Store, plugins: Plugins, tmp_path: Path, **extra: str) -> None:
    """`acme` under a 6-month contract bought on 1 March 2026 at 08:00: it ends on 30 August 2026."""
    apply(store, plugins, tmp_path, **extra)
    buy(store, plugins, "acme", "6m", "2026-03-01 08:00")


def test_the_contract_ends_182_days_after_a_six_month_purchase(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    _contract(sqlite_store, plugins, tmp_path)
    assert account(sqlite_store, "acme").contract_ends_at == lisbon("2026-08-30 08:00")


def test_reminders_are_mailed_once_30_and_7_days_before_the_end(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path, mail_relay: MailRelay  # noqa: F811
) -> None:
    _contract(sqlite_store, plugins, tmp_path)
    end = lisbon("2026-08-30 08:00")
    sent = [
        done(tick(sqlite_store, plugins, end - offset, REMINDERS))
        for offset in (
            timedelta(days=31),
            timedelta(days=30),
            timedelta(days=29),
            timedelta(days=8),
            timedelta(days=7),
            timedelta(days=6),
            timedelta(hours=1),
        )
    ]
    assert sent == [0, 1, 0, 0, 1, 0, 0]
    assert mail_keys(sqlite_store, "acme") == ["reminder:acme:2026-08-30:30", "reminder:acme:2026-08-30:7"]
    deliver(sqlite_store, plugins)
    messages = mail_relay.to(ACME_MAIL)
    subject = "O contrato de Clínica Acme termina a 30 de agosto de 2026"
    assert [message["Subject"] for message in messages] == [subject, subject]


def test_a_reminder_tells_the_end_the_balance_to_be_forfeited_and_how_to_renew(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path, mail_relay: MailRelay  # noqa: F811
) -> None:
    _contract(sqlite_store, plugins, tmp_path)
    tick(sqlite_store, plugins, lisbon("2026-07-31 09:00"), REMINDERS)
    deliver(sqlite_store, plugins)
    [message] = mail_relay.to(ACME_MAIL)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "termina a 30 de agosto de 2026" in text
    assert "não é reembolsado" in text and "96,00 €" in text  # the whole 6-month contract is still there
    assert "6 meses por 96,00 € ou 12 meses por 156,00 € (+ IVA)" in text
    assert "+351217000001" in text  # the number is kept by a renewal


def test_a_client_speaking_english_gets_the_english_reminder(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path, mail_relay: MailRelay  # noqa: F811
) -> None:
    english = lifecycle_clients().replace("languages: [pt, en]", "languages: [en]")
    directory.apply_file(sqlite_store, plugins.registry, tmp_path / "clients.yaml", text=english)
    buy(sqlite_store, plugins, "acme", "6m", "2026-03-01 08:00")
    tick(sqlite_store, plugins, lisbon("2026-08-24 09:00"), REMINDERS)
    deliver(sqlite_store, plugins)
    [message] = mail_relay.to(ACME_MAIL)
    assert message["Subject"] == "The contract of Clínica Acme ends on 30 August 2026"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "is forfeited at the end of the contract" in text


def test_a_reminder_missed_while_the_hub_was_down_is_still_sent_once(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    _contract(sqlite_store, plugins, tmp_path)
    # Down from 40 to 20 days before the end: the 30-day reminder goes at the first run.
    assert done(tick(sqlite_store, plugins, lisbon("2026-08-10 12:00"), REMINDERS)) == 1
    assert done(tick(sqlite_store, plugins, lisbon("2026-08-11 12:00"), REMINDERS)) == 0
    assert mail_keys(sqlite_store, "acme") == ["reminder:acme:2026-08-30:30"]


def test_the_30_day_reminder_is_never_sent_after_the_7_day_one(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    _contract(sqlite_store, plugins, tmp_path)
    # Down from 40 to 5 days before the end: only the 7-day reminder, once.
    assert done(tick(sqlite_store, plugins, lisbon("2026-08-25 12:00"), REMINDERS)) == 1
    assert done(tick(sqlite_store, plugins, lisbon("2026-08-26 12:00"), REMINDERS)) == 0
    assert mail_keys(sqlite_store, "acme") == ["reminder:acme:2026-08-30:7"]


def test_no_reminder_is_sent_once_the_end_has_come(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> None:
    _contract(sqlite_store, plugins, tmp_path)
    assert done(tick(sqlite_store, plugins, lisbon("2026-08-30 08:00"), REMINDERS)) == 0
    assert mail_keys(sqlite_store, "acme") == []


def test_a_renewed_contract_is_reminded_of_its_new_end_only(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    _contract(sqlite_store, plugins, tmp_path)
    tick(sqlite_store, plugins, lisbon("2026-08-01 09:00"), REMINDERS)
    contracts.renew(sqlite_store, plugins.registry, "acme", "6m", lisbon("2026-08-05 09:00"), Settings())
    assert done(tick(sqlite_store, plugins, lisbon("2026-08-24 09:00"), REMINDERS)) == 0
    new_end = account(sqlite_store, "acme").contract_ends_at
    assert new_end == lisbon("2027-02-28 08:00")
    assert done(tick(sqlite_store, plugins, new_end - timedelta(days=7), REMINDERS)) == 1
    assert mail_keys(sqlite_store, "acme") == ["reminder:acme:2026-08-30:30", "reminder:acme:2027-02-28:7"]


def test_a_client_without_contact_address_is_reported_to_the_operator(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    no_contact = lifecycle_clients().replace(f'    contact_email: "{ACME_MAIL}"\n', "")
    directory.apply_file(sqlite_store, plugins.registry, tmp_path / "clients.yaml", text=no_contact)
    buy(sqlite_store, plugins, "acme", "6m", "2026-03-01 08:00")
    assert done(tick(sqlite_store, plugins, lisbon("2026-08-24 09:00"), REMINDERS)) == 0
    with sqlite_store.connect() as conn:
        alerts = conn.execute(select(t.alerts.c.kind, t.alerts.c.message)).all()
    assert [(kind, message) for kind, message in alerts] == [
        ("no_contact_email", "acme has no contact_email: its contract reminder could not be mailed")
    ]


def test_running_the_reminders_twice_at_the_same_time_changes_nothing(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    _contract(sqlite_store, plugins, tmp_path)
    at = lisbon("2026-08-24 09:00")
    tick(sqlite_store, plugins, at)
    before = snapshot(sqlite_store)
    tick(sqlite_store, plugins, at)
    assert snapshot(sqlite_store) == before


def test_the_due_reminder_is_the_nearest_window_opened() -> None:
    end = lisbon("2026-08-30 08:00")
    assert reminder_due(end, end - timedelta(days=30, seconds=1)) is None
    assert reminder_due(end, end - timedelta(days=30)) == 30
    assert reminder_due(end, end - timedelta(days=7, seconds=1)) == 30
    assert reminder_due(end, end - timedelta(days=7)) == 7
    assert reminder_due(end, end) is None
