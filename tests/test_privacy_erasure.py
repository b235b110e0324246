"""Erasure: a caller's number, name, answers and notes leave every table; prices, times and balances stay."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from outbox_worker import deliver
from privacy_setup import (
    BETA,
    CALLER,
    NAME,
    OTHER,
    answered,
    apply,
    balances,
    campaign,
    database_text,
    engine_for,
    gamma_smtp_password,  # noqa: F401  (autouse fixture)
    kill_pending,
    ledger_rows,
    offered,
    statuses,
)
from sample_clients import buy, lisbon
from sqlalchemy import select

from hub.core import blocklist, notices, optouts, privacy_log, records
from hub.core import store as t
from hub.core.erasure import erase_caller
from hub.core.models import CallEvent, EventKind, record_id_for
from hub.core.store import Store
from hub.plugins import Plugins

AT = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
NATIONAL = "912345678"
#: Where the number may stay after an erasure, on purpose.
KEPT = {"blocked_numbers", "opt_outs"}


@pytest.fixture
def world(store: Store, plugins: Plugins, tmp_path: Path) -> Store:
    """The caller called acme twice and beta once, is blocked, opted out, a campaign contact and on a call now."""
    apply(store, plugins, tmp_path)
    buy(store, plugins, "acme")
    buy(store, plugins, "beta")
    engine = engine_for(store, plugins)
    answered(engine, "a1", lisbon("2026-03-02 10:00"), notes=f"ligar de volta para o 912 345 678 ({NAME})")
    answered(engine, "o1", lisbon("2026-03-02 11:00"), caller=OTHER, name="Rui Faria")
    answered(engine, "b1", lisbon("2026-03-03 10:00"), did=BETA)
    deliver(store, plugins)
    answered(engine, "a2", lisbon("2026-03-04 10:00"))  # still pending at the erasure
    campaign(
        store,
        plugins,
        [(NAME, NATIONAL, "2026-08-10 10:00"), ("Rui Faria", "913000111", "2026-08-10 11:00")],
        at="2026-07-01 08:00",
    )
    offered(engine, "now", lisbon("2026-03-05 10:00"))
    offered(engine, "nowhere", lisbon("2026-03-05 10:05"), did="+351217999999")
    with store.begin() as conn:
        blocklist.block(conn, "beta", CALLER, note=f"{NAME} insulta as rececionistas")
        optouts.add(conn, CALLER, client="acme", reason="pediu por telefone", at=AT)
        notices.alert_once(conn, client="acme", kind="test", key="k1", message=f"strange calls from {CALLER}")
    return store


def erase(store: Store, number: str = CALLER, *, dry_run: bool = False) -> dict[str, Any]:
    """Erase `number` as the operator does for a request; the report as JSON."""
    report = erase_caller(store, number, at=AT, requested_by="RGPD-2026-014", reason="art. 17", dry_run=dry_run)
    return report.as_dict()


def holding(store: Store, *needles: str) -> set[str]:
    """The tables whose text holds any of `needles`."""
    return {name for name, text in database_text(store).items() if any(needle in text for needle in needles)}


def test_after_erasure_the_number_name_and_notes_are_in_no_table_but_blocks_and_opt_outs(world: Store) -> None:
    assert holding(world, CALLER) >= {"records", "calls", "contacts", "alerts", "blocked_numbers", "opt_outs"}
    erase(world)
    assert holding(world, CALLER) == KEPT
    assert holding(world, NATIONAL) == KEPT
    assert holding(world, "912 345 678", NAME, "insulta") == set()


def test_other_callers_keep_everything(world: Store) -> None:
    with world.connect() as conn:
        other = records.get(conn, records_id("o1"))
    erase(world)
    with world.connect() as conn:
        assert records.get(conn, records_id("o1")) == other
        assert conn.execute(select(t.contacts.c.name).where(t.contacts.c.number == OTHER)).scalar() == "Rui Faria"


def test_the_records_keep_prices_dispositions_and_times_and_lose_name_answers_and_notes(world: Store) -> None:
    with world.connect() as conn:
        before = records.get(conn, records_id("a1"))
    report = erase(world)
    with world.connect() as conn:
        after = records.get(conn, records_id("a1"))
    assert before is not None and after is not None
    assert after.caller == report["pseudonym"]
    assert (after.caller_name, after.answers, after.notes) == (None, {}, None)
    kept = (
        "price_cents",
        "balance_after_cents",
        "disposition",
        "offered_at",
        "answered_at",
        "ended_at",
        "talk_seconds",
    )
    assert {key: getattr(after, key) for key in kept} == {key: getattr(before, key) for key in kept}


def test_one_erasure_gives_all_its_records_the_same_pseudonym_drawn_at_random(world: Store) -> None:
    report = erase(world)
    with world.connect() as conn:
        callers = {dict(records.get(conn, records_id(call)) or {}).get("caller") for call in ("a1", "a2", "b1")}
    assert callers == {report["pseudonym"]}
    assert str(report["pseudonym"]).startswith("erased:")
    assert NATIONAL not in str(report["pseudonym"])


def test_balances_and_the_ledger_are_unchanged(world: Store) -> None:
    entries, money = ledger_rows(world), balances(world)
    erase(world)
    assert ledger_rows(world) == entries
    assert balances(world) == money


def test_erasing_twice_changes_nothing_the_second_time(world: Store) -> None:
    erase(world)
    first = database_text(world)
    again = erase(world)
    second = database_text(world)
    first.pop("privacy_log"), second.pop("privacy_log")
    assert second == first
    assert (again["records"], again["calls"], again["contacts"], again["replaced"]) == (0, 0, 0, {})


def test_the_report_counts_what_was_erased_and_what_was_kept(world: Store) -> None:
    report = erase(world)
    assert report["records"] == 3
    assert report["clients"] == ["acme", "beta"]
    assert report["calls"] == 5  # three finished, one in progress, one to a number of no client
    assert report["contacts"] == 1
    assert report["blocked_by"] == ["beta"]
    assert report["opted_out"] is True
    assert report["replaced"] == {"alerts.message": 1}
    assert report["pending_deliveries"] == 2


def test_the_report_lists_the_destinations_that_received_the_callers_records(world: Store) -> None:
    report = erase(world)
    received = {(item["client"], item["destination"], item["kind"]): item["records"] for item in report["destinations"]}
    assert set(received) == {("acme", "complaints", "email"), ("acme", "mail", "email")}
    assert [entry["record_id"] for entry in received[("acme", "mail", "email")]] == [records_id("a1")]


def test_pending_deliveries_carry_the_erased_record(world: Store, plugins: Plugins, tmp_path: Path) -> None:
    report = erase(world)
    deliver(world, plugins)
    assert statuses(world, records_id("a2")) == ["delivered", "delivered"]
    newest = max((tmp_path / "maildir" / "new").iterdir(), key=lambda path: path.stat().st_mtime_ns)
    mail = newest.read_text(errors="replace")
    assert f"Chamada de {report['pseudonym']}" in mail
    assert CALLER not in mail and NATIONAL not in mail and "Maria" not in mail


def test_the_pseudonym_has_no_digit_so_that_no_sink_reads_it_as_a_phone_number(world: Store) -> None:
    pseudonym = str(erase(world)["pseudonym"])
    assert re.fullmatch(r"erased:[a-z]{12}", pseudonym)
    with pytest.raises(phonenumbers.NumberParseException):
        phonenumbers.parse(pseudonym, "PT")


def test_a_delivery_log_that_quoted_the_caller_is_cleared(world: Store) -> None:
    kill_pending(world, "acme", f"the CRM refused phone {CALLER} for {NAME}")
    erase(world)
    with world.connect() as conn:
        details = " ".join(conn.execute(select(t.delivery_attempts.c.detail)).scalars())
        errors = " ".join(filter(None, conn.execute(select(t.outbox.c.last_error)).scalars()))
    assert "the CRM refused phone erased:" in details
    assert CALLER not in details + errors and NAME not in details + errors


def test_a_call_in_progress_becomes_a_record_without_the_number(world: Store, plugins: Plugins) -> None:
    erase(world)
    engine = engine_for(world, plugins)
    engine.handle(CallEvent(call_id="now", kind=EventKind.ENDED, at=lisbon("2026-03-05 10:01")))
    with world.connect() as conn:
        record = records.get(conn, records_id("now"))
    assert record is not None and record.caller is not None and record.caller.startswith("erased:")


def test_a_block_of_the_number_stays_and_its_note_goes(world: Store) -> None:
    erase(world)
    with world.connect() as conn:
        assert blocklist.is_blocked(conn, "beta", CALLER)
        assert blocklist.listing(conn, "beta")[0]["note"] is None


def test_the_opt_out_of_the_number_stays(world: Store) -> None:
    erase(world)
    with world.connect() as conn:
        assert optouts.is_opted_out(conn, CALLER, "acme")


def test_the_callers_campaign_contact_loses_name_and_number_and_is_not_called(world: Store) -> None:
    report = erase(world)
    with world.connect() as conn:
        row = conn.execute(select(t.contacts).where(t.contacts.c.number == report["pseudonym"])).one()
    assert row.name == "erased"
    assert row.status in ("opted_out", "skipped")


def test_a_pending_contact_of_the_number_is_skipped(store: Store, plugins: Plugins, tmp_path: Path) -> None:
    apply(store, plugins, tmp_path)
    campaign(store, plugins, [(NAME, NATIONAL, "2026-08-10 10:00")], at="2026-07-01 08:00")
    erase(store)
    with store.connect() as conn:
        row = conn.execute(select(t.contacts)).one()
    assert (row.status, row.outcome, row.name) == ("skipped", "erased", "erased")


def test_the_erasure_is_logged_without_the_number(world: Store) -> None:
    erase_caller(world, CALLER, at=AT, requested_by="e-mail of +351912345678", reason="art. 17", actor="ops")
    with world.connect() as conn:
        (entry,) = privacy_log.entries(conn, action="erase")
    assert entry["subject"] == "number +3519******78"
    assert entry["actor"] == "ops"
    assert entry["details"]["records"] == 3
    assert entry["details"]["requested_by"] == "e-mail of +3519******78"
    assert NATIONAL not in str(entry)


def test_a_dry_run_reports_the_same_and_changes_nothing(world: Store) -> None:
    before = database_text(world)
    planned = erase(world, dry_run=True)
    assert database_text(world) == before
    done = erase(world)
    assert {key: planned[key] for key in ("records", "calls", "contacts", "replaced", "destinations")} == {
        key: done[key] for key in ("records", "calls", "contacts", "replaced", "destinations")
    }


def test_the_number_may_be_given_as_usually_written(world: Store) -> None:
    assert erase(world, "912 345 678")["records"] == 3


def test_a_text_that_is_no_number_is_refused(world: Store) -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        erase(world, "Maria")


def records_id(call_id: str) -> str:
    """The record id of a call of these tests."""
    return record_id_for("ingest", call_id)
