"""Retention: records older than a client's period go with their finished deliveries; the ledger stays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from outbox_worker import deliver
from privacy_setup import (
    BETA,
    answered,
    apply,
    balances,
    campaign,
    count,
    engine_for,
    gamma_smtp_password,  # noqa: F401  (autouse fixture)
    kill_pending,
    ledger_rows,
    offered,
    record_ids,
    statuses,
)
from sample_clients import buy, clients_yaml, lisbon
from sqlalchemy import select

from hub.core import campaigns_admin, directory, privacy_log
from hub.core import store as t
from hub.core.clients import Client
from hub.core.config_files import ConfigError
from hub.core.jobs import JOBS
from hub.core.ledger import UnknownAccount
from hub.core.models import record_id_for
from hub.core.retention import JOB_NAME, cutoff, purge
from hub.core.scheduler import JobContext, run_jobs, select_jobs
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import PrivacySettings, Settings

JULY = lisbon("2026-07-15 12:00")


@pytest.fixture
def world(store: Store, plugins: Plugins, tmp_path: Path) -> Store:
    """acme keeps 3 months and has calls in March, April and June 2026, all delivered; beta keeps forever."""
    apply(store, plugins, tmp_path)
    buy(store, plugins, "acme")
    engine = engine_for(store, plugins)
    answered(engine, "march-1", lisbon("2026-03-02 10:00"))
    answered(engine, "march-2", lisbon("2026-03-31 23:30"))
    answered(engine, "april-1", lisbon("2026-04-01 00:30"))
    answered(engine, "june-1", lisbon("2026-06-10 10:00"))
    answered(engine, "beta-march", lisbon("2026-03-03 10:00"), did=BETA)
    deliver(store, plugins)
    return store


def test_the_cutoff_is_midnight_in_lisbon_on_the_first_day_n_months_back() -> None:
    assert cutoff(JULY, 3) == lisbon("2026-04-01 00:00")
    assert cutoff(JULY, 3).astimezone(UTC) == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)


def test_the_cutoff_crosses_years() -> None:
    assert cutoff(lisbon("2026-02-10 08:00"), 3) == lisbon("2025-11-01 00:00")
    assert cutoff(lisbon("2026-01-01 00:00"), 12) == lisbon("2025-01-01 00:00")


def test_the_month_of_now_is_read_in_lisbon() -> None:
    # 23:30 UTC on 31 March is already April in Lisbon (summer time).
    assert cutoff(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), 1) == lisbon("2026-03-01 00:00")


def test_records_older_than_the_period_go_and_the_rest_stay(world: Store) -> None:
    before = record_ids(world)
    report = purge(world, now=JULY)
    gone = before - record_ids(world)
    assert gone == {answered_id("march-1"), answered_id("march-2")}
    assert report.as_dict()["records"] == 2


def test_a_call_offered_after_midnight_lisbon_on_the_first_kept_day_stays(world: Store) -> None:
    purge(world, now=JULY)
    # 00:30 Lisbon on 1 April is still 31 March in UTC.
    assert answered_id("april-1") in record_ids(world)
    assert answered_id("march-2") not in record_ids(world)


def test_the_deliveries_and_attempts_of_purged_records_go_with_them(world: Store) -> None:
    old = [answered_id("march-1"), answered_id("march-2")]
    assert count(world, t.outbox, t.outbox.c.record_id.in_(old)) == 4
    report = purge(world, now=JULY)
    assert count(world, t.outbox, t.outbox.c.record_id.in_(old)) == 0
    assert count(world, t.delivery_attempts) == count(world, t.outbox)
    assert (report.clients[0].deliveries, report.clients[0].attempts) == (4, 4)


def test_the_call_states_of_purged_records_go_with_them(world: Store) -> None:
    purge(world, now=JULY)
    remaining = count(world, t.calls, t.calls.c.record_id.in_([answered_id("march-1"), answered_id("march-2")]))
    assert remaining == 0
    assert count(world, t.calls) == 3


def test_the_ledger_and_the_balance_are_kept(world: Store) -> None:
    entries, money = ledger_rows(world), balances(world)
    purge(world, now=JULY)
    assert ledger_rows(world) == entries
    assert balances(world) == money
    assert money["acme"][0] == money["acme"][1] == 15600 - 4 * 150


def test_the_ledger_names_records_by_id_and_holds_no_phone_number(world: Store) -> None:
    for row in ledger_rows(world):
        assert "+351" not in " ".join(str(value) for value in row)


def test_an_old_record_with_a_pending_delivery_waits_until_it_is_finished(
    store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    apply(store, plugins, tmp_path)
    buy(store, plugins, "acme")
    late = answered(engine_for(store, plugins), "late", lisbon("2026-03-05 10:00"))
    assert statuses(store, late) == ["pending", "pending"]
    report = purge(store, now=JULY)
    assert late in record_ids(store)
    assert report.clients[0].kept_pending == 1
    kill_pending(store, "acme", "the relay refused it")
    purge(store, now=JULY)
    assert late not in record_ids(store)


def test_dead_deliveries_are_finished_and_go_with_their_record(store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(store, plugins, tmp_path)
    buy(store, plugins, "acme")
    dead = answered(engine_for(store, plugins), "dead", lisbon("2026-03-05 10:00"))
    kill_pending(store, "acme", "mailbox full")
    assert statuses(store, dead) == ["dead", "dead"]
    purge(store, now=JULY)
    assert dead not in record_ids(store)
    assert count(store, t.outbox) == 0
    assert count(store, t.delivery_attempts) == 0


def test_each_client_keeps_its_own_number_of_months(store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(store, plugins, tmp_path, acme_months=1, beta_months=5)
    buy(store, plugins, "acme")
    engine = engine_for(store, plugins)
    acme_may = answered(engine, "acme-may", lisbon("2026-05-20 10:00"))
    beta_may = answered(engine, "beta-may", lisbon("2026-05-20 10:00"), did=BETA)
    beta_jan = answered(engine, "beta-jan", lisbon("2026-01-20 10:00"), did=BETA)
    deliver(store, plugins)
    purge(store, now=JULY)
    assert acme_may not in record_ids(store)
    assert beta_may in record_ids(store)
    assert beta_jan not in record_ids(store)


def test_a_client_without_a_period_keeps_its_records_forever(world: Store) -> None:
    report = purge(world, now=lisbon("2036-01-01 00:00"))
    assert answered_id("beta-march") in record_ids(world)
    assert [item.months for item in report.clients if item.client == "beta"] == [None]


def test_the_hub_default_applies_to_clients_without_their_own_period(world: Store) -> None:
    purge(world, now=JULY, default_months=2)
    assert answered_id("beta-march") not in record_ids(world)
    assert answered_id("april-1") in record_ids(world)  # acme's own 3 months win over the default 2


def test_a_dry_run_counts_and_changes_nothing(world: Store) -> None:
    before = {name: count(world, table) for name, table in t.metadata.tables.items()}
    report = purge(world, now=JULY, dry_run=True)
    assert {name: count(world, table) for name, table in t.metadata.tables.items()} == before
    acme = report.clients[0]
    assert (acme.client, acme.records, acme.deliveries, acme.attempts, acme.calls) == ("acme", 2, 4, 4, 2)


def test_a_dry_run_counts_what_the_purge_then_removes(world: Store) -> None:
    planned = purge(world, now=JULY, dry_run=True).as_dict()
    done = purge(world, now=JULY).as_dict()
    assert {key: planned[key] for key in ("records", "deliveries", "attempts", "calls")} == {
        key: done[key] for key in ("records", "deliveries", "attempts", "calls")
    }


def test_a_purge_in_batches_of_one_removes_the_same_and_reports_each_batch(world: Store) -> None:
    seen: list[tuple[str, int, int]] = []
    report = purge(
        world, now=JULY, batch_size=1, progress=lambda subject, done, total: seen.append((subject, done, total))
    )
    assert report.records == 2
    assert seen == [("acme", 1, 2), ("acme", 2, 2)]
    assert record_ids(world, "acme") == {answered_id("april-1"), answered_id("june-1")}


def test_purging_twice_at_the_same_time_purges_nothing_the_second_time(world: Store) -> None:
    purge(world, now=JULY)
    again = purge(world, now=JULY)
    assert again.records == 0


def test_every_purge_is_logged_once_per_client_with_its_counts(world: Store) -> None:
    purge(world, now=JULY, batch_size=1, actor="test")
    with world.connect() as conn:
        entries = privacy_log.entries(conn, action="purge")
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["subject"], entry["actor"]) == ("acme", "test")
    assert entry["details"]["records"] == 2
    assert entry["details"]["deliveries"] == 4
    assert entry["details"]["retention_months"] == 3


def test_a_purge_that_finds_nothing_old_writes_no_log_entry(world: Store) -> None:
    purge(world, now=lisbon("2026-04-15 12:00"))
    with world.connect() as conn:
        assert privacy_log.entries(conn) == []


def test_an_unknown_client_is_refused(world: Store) -> None:
    with pytest.raises(UnknownAccount, match="nobody"):
        purge(world, now=JULY, client="nobody")


def test_one_client_can_be_purged_alone(store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(store, plugins, tmp_path, beta_months=1)
    buy(store, plugins, "acme")
    engine = engine_for(store, plugins)
    acme_old = answered(engine, "a-old", lisbon("2026-02-02 10:00"))
    beta_old = answered(engine, "b-old", lisbon("2026-02-02 10:00"), did=BETA)
    deliver(store, plugins)
    purge(store, now=JULY, client="beta")
    assert acme_old in record_ids(store)
    assert beta_old not in record_ids(store)


def test_calls_to_numbers_of_no_client_are_purged_under_the_hub_default(
    store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    apply(store, plugins, tmp_path)
    engine = engine_for(store, plugins)
    offered(engine, "nobody-old", lisbon("2026-01-10 10:00"), did="+351217999999")
    offered(engine, "nobody-new", lisbon("2026-07-10 10:00"), did="+351217999999")
    assert purge(store, now=JULY).unrouted_calls == 0  # no hub default: kept
    report = purge(store, now=JULY, default_months=3)
    assert report.unrouted_calls == 1
    with store.connect() as conn:
        left = list(conn.execute(select(t.calls.c.call_id).where(t.calls.c.client.is_(None))).scalars())
    assert left == ["nobody-new"]


def test_finished_campaign_contacts_older_than_the_period_go_and_waiting_ones_stay(
    store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    apply(store, plugins, tmp_path)
    buy(store, plugins, "acme")
    done = campaign(store, plugins, [("Ana Costa", "912000001", "2026-03-10 10:00")], at="2026-03-02 08:00")
    campaigns_admin.cancel_campaign(store, done, now=lisbon("2026-03-03 08:00"))
    campaign(store, plugins, [("Rui Sousa", "912000002", "2026-03-11 10:00")], at="2026-03-02 08:00")
    report = purge(store, now=JULY)
    with store.connect() as conn:
        names = list(conn.execute(select(t.contacts.c.name)).scalars())
    assert names == ["Rui Sousa"]
    assert report.clients[0].contacts == 1


def test_the_daily_job_purges_with_the_hub_default(world: Store, plugins: Plugins) -> None:
    settings = Settings(database_url=world.url, privacy=PrivacySettings(default_retention_months=2))
    context = JobContext(world, plugins.registry, settings, JULY)
    (run,) = run_jobs(context, select_jobs(JOBS, [JOB_NAME]))
    assert run.error is None
    assert run.done == 3  # acme's two March calls, beta's March call
    assert answered_id("beta-march") not in record_ids(world)


def test_the_job_runs_once_a_day() -> None:
    (job,) = select_jobs(JOBS, [JOB_NAME])
    assert job.every.total_seconds() == 24 * 3600


def test_a_client_keeps_at_least_one_month(tmp_path: Path, sqlite_store: Store, plugins: Plugins) -> None:
    text = clients_yaml(tmp_path / "maildir").replace(
        '    dids: ["+351217000002"]\n', '    dids: ["+351217000002"]\n    retention_months: 0\n'
    )
    with pytest.raises(ConfigError, match="retention_months"):
        directory.apply_file(sqlite_store, plugins.registry, tmp_path / "clients.yaml", text=text)


def test_a_client_without_retention_months_keeps_forever_by_default() -> None:
    client = Client.model_validate({"id": "x", "name": "X", "nif": "509999999", "dids": ["+351217000009"]})
    assert client.retention_months is None
    assert PrivacySettings().default_retention_months is None


def answered_id(call_id: str) -> str:
    """The record id of a call of these tests."""
    return record_id_for("ingest", call_id)
