"""A client whose contract is over: its campaigns make no contact, and it uploads none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from campaign_setup import clients_offline, lisbon, phone_file, sms_file, upload
from sqlalchemy import func, select

from hub.core import accounts, campaigns_admin, contracts, ledger, notices, outbox
from hub.core import store as t
from hub.core.campaigns import next_message_task, next_phone_task, phone_tasks, record_outcome
from hub.core.campaigns_sms import send_due_sms
from hub.core.contract_state import ContractOver
from hub.core.lifecycle_jobs import expire_contracts
from hub.core.scheduler import JobContext
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_plan
from hub.plugins import Plugins
from hub.settings import Settings

PLUGINS = Plugins(only={"webhook", "sms", "email"})
#: A Thursday while the 6-month contract runs (it ends on Sunday 2026-08-30 at 08:00, Lisbon).
BEFORE_END = "2026-08-27 08:00"
#: A Tuesday after the end.
AFTER_END = "2026-09-01 10:00"
APPOINTMENT = "2026-09-10 10:30"
SIX_MONTHS = 9600


@pytest.fixture
def acme(sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """`acme` with a 6-month contract bought on 2026-03-01 (96.00 EUR of balance)."""
    clients_offline(sqlite_store, PLUGINS, tmp_path, monkeypatch)
    accounts.purchase(
        sqlite_store, PLUGINS.registry, "acme", document_for_plan("6m"), lisbon("2026-03-01 08:00"), TariffConfig()
    )
    return sqlite_store


def settings(store: Store) -> Settings:
    return Settings(database_url=store.url)


def end_contract(store: Store, at: str = "2026-08-31 09:00") -> None:
    """The expiry job runs after the end: the balance is forfeited, the contract `ended`."""
    assert expire_contracts(JobContext(store, PLUGINS.registry, settings(store), lisbon(at))) == 1


def dispatch(store: Store, at: str = AFTER_END) -> dict[str, int]:
    return send_due_sms(store, PLUGINS.registry, settings(store), now=lisbon(at))


def claim(store: Store, at: str = AFTER_END) -> Any:
    return next_phone_task(store, agent="ana", now=lisbon(at), settings=settings(store), registry=PLUGINS.registry)


def statuses(store: Store, campaign: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(c["status"], c["outcome"]) for c in campaigns_admin.show_campaign(store, campaign["id"])["contact_list"]]


def account(store: Store) -> ledger.Account:
    with store.connect() as conn:
        return ledger.lock_account(conn, "acme", for_update=False)


def alert_kinds(store: Store) -> list[str]:
    with store.connect() as conn:
        return [alert["kind"] for alert in notices.list_alerts(conn)]


def test_no_sms_is_sent_for_a_client_whose_contract_has_ended(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(2, appointment=APPOINTMENT), at=BEFORE_END)
    end_contract(acme)
    assert dispatch(acme) == {"sent": 0, "waiting": 2, "opted_out": 0, "skipped": 0}
    assert statuses(acme, campaign) == [("pending", None), ("pending", None)]
    with acme.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.records)).scalar_one() == 0


def test_no_sms_is_sent_once_the_end_has_passed_even_before_the_balance_is_forfeited(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1, appointment=APPOINTMENT), at=BEFORE_END)
    assert dispatch(acme)["sent"] == 0
    assert statuses(acme, campaign) == [("pending", None)]
    assert account(acme).balance_cents == SIX_MONTHS


def test_no_phone_task_is_given_for_a_client_whose_contract_is_over(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1, appointment=APPOINTMENT), at=BEFORE_END)
    assert claim(acme) is None
    assert statuses(acme, campaign) == [("pending", None)]
    assert account(acme).held_cents == 0


def test_no_message_call_is_claimed_for_a_client_whose_contract_is_over(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, phone_file(1, appointment=APPOINTMENT), at=BEFORE_END, mode="message")
    assert next_message_task(acme, now=lisbon(AFTER_END), settings=settings(acme)) is None
    assert statuses(acme, campaign) == [("pending", None)]


def test_the_task_list_leaves_out_the_pending_tasks_of_a_client_whose_contract_is_over(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(2, appointment=APPOINTMENT), at=BEFORE_END)
    assert len(phone_tasks(acme, now=lisbon("2026-08-28 10:00"))) == 2
    assert phone_tasks(acme, now=lisbon(AFTER_END)) == []


def test_a_task_claimed_before_the_end_still_gets_its_outcome(acme: Store) -> None:
    upload(acme, PLUGINS, phone_file(1, appointment=APPOINTMENT), at=BEFORE_END)
    task = claim(acme, at="2026-08-29 19:50")
    assert task is not None
    listed = phone_tasks(acme, now=lisbon(AFTER_END))
    assert [(item.contact_id, item.status) for item in listed] == [(task.contact_id, "in_progress")]
    record = record_outcome(
        acme, PLUGINS.registry, task.contact_id, "confirmed", at=lisbon("2026-08-30 08:05"), agent="ana"
    )
    assert record.price_cents == 100


def test_the_operator_is_alerted_once_and_the_client_gets_no_balance_notice(acme: Store) -> None:
    rows = sms_file(1, appointment=APPOINTMENT) + phone_file(1, start=5, appointment=APPOINTMENT).split("\n", 1)[1]
    upload(acme, PLUGINS, rows, at=BEFORE_END)
    dispatch(acme)
    dispatch(acme, "2026-09-01 10:05")
    claim(acme, "2026-09-01 10:06")
    assert alert_kinds(acme) == ["campaign_contract_over"]
    with acme.connect() as conn:
        [alert] = notices.list_alerts(conn)
        told = [row["event_type"] for row in outbox.list_rows(conn) if "campaign" in row["event_type"]]
    assert alert["message"] == (
        "acme: campaign contacts wait: the contract ended on 2026-08-30 (a renewal lets them go on)"
    )
    assert told == []


def test_contacts_waiting_for_a_renewal_are_skipped_when_their_appointment_passes(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1, appointment="2026-09-02 10:30"), at=BEFORE_END)
    end_contract(acme)
    assert dispatch(acme)["waiting"] == 1
    assert dispatch(acme, "2026-09-02 11:00")["skipped"] == 1
    assert statuses(acme, campaign) == [("skipped", "appointment_passed")]


def test_contacts_go_on_after_a_renewal(acme: Store) -> None:
    campaign = upload(acme, PLUGINS, sms_file(1, appointment=APPOINTMENT), at=BEFORE_END)
    end_contract(acme)
    dispatch(acme)
    contracts.renew(acme, PLUGINS.registry, "acme", "6m", lisbon("2026-09-01 11:00"), settings(acme))
    assert dispatch(acme, "2026-09-01 11:01")["sent"] == 1
    assert statuses(acme, campaign) == [("sent", "sms_sent")]


def test_an_upload_for_a_client_whose_contract_has_ended_is_refused_and_stores_nothing(acme: Store) -> None:
    end_contract(acme)
    with pytest.raises(ContractOver) as refused:
        upload(acme, PLUGINS, sms_file(1, appointment=APPOINTMENT), at=AFTER_END)
    assert str(refused.value) == (
        "the contract of 'acme' ended on 2026-08-30: no campaign can be uploaded until it is renewed"
    )
    with acme.connect() as conn:
        assert campaigns_admin.list_campaigns(conn, client="acme") == []


def test_an_upload_after_the_end_but_before_the_forfeiture_is_refused_too(acme: Store) -> None:
    with pytest.raises(ContractOver, match="ended on 2026-08-30"):
        upload(acme, PLUGINS, phone_file(1, appointment=APPOINTMENT), at=AFTER_END)
