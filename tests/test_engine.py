"""The engine's rules: routing, pricing, holds, records, outbox rows; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sample_clients import buy, clients_yaml, lisbon, topup
from sqlalchemy import func, select

from hub.core import ledger, outbox
from hub.core import store as t
from hub.core.engine import Engine, IngestError
from hub.core.models import CallEvent, Disposition, EventKind, RouteAction, WrapUp, record_id_for
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

ACME = "+351217000001"
BETA = "+351217000002"


def offered(call_id: str, at: datetime, did: str = ACME, caller: str = "+351912345678") -> CallEvent:
    return CallEvent(call_id=call_id, kind=EventKind.OFFERED, at=at, did=did, caller=caller)


def event(call_id: str, kind: EventKind, at: datetime, **extra: Any) -> CallEvent:
    return CallEvent(call_id=call_id, kind=kind, at=at, **extra)


def answered_call(
    engine: Engine,
    call_id: str,
    at: datetime,
    *,
    did: str = ACME,
    caller: str = "+351912345678",
    talk_s: int = 180,
    wrapup: bool = True,
) -> None:
    """Offered, answered 4 s later, ended after `talk_s`, wrapped up."""
    engine.handle(offered(call_id, at, did, caller))
    engine.handle(event(call_id, EventKind.ANSWERED, at + timedelta(seconds=4), agent="ana"))
    engine.handle(event(call_id, EventKind.ENDED, at + timedelta(seconds=4 + talk_s)))
    if wrapup:
        engine.wrapup(WrapUp(call_id=call_id, agent="ana", language="pt", answers={"name": "Rui"}))


def record(store: Store, call_id: str) -> dict[str, Any]:
    with store.connect() as conn:
        data = conn.execute(
            select(t.records.c.data).where(t.records.c.record_id == record_id_for("ingest", call_id))
        ).scalar_one()
    return dict(data)


def account(store: Store, client: str = "acme") -> ledger.Account:
    with store.connect() as conn:
        return ledger.lock_account(conn, client, for_update=False)


def count(store: Store, table: t.Table) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_answered_call_in_hours_is_priced_150_and_debited(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    answered_call(engine, "c1", lisbon("2026-03-02 10:00"))
    rec = record(applied, "c1")
    assert rec["disposition"] == "answered"
    assert rec["price_cents"] == 150
    assert rec["balance_after_cents"] == 15600 - 150
    assert rec["talk_seconds"] == 180
    assert rec["answers"] == {"name": "Rui"}
    assert rec["script_version"] == 2
    assert rec["category"] == "customer_service"
    assert account(applied).balance_cents == 15450
    assert account(applied).held_cents == 0


def test_offered_call_is_admitted_with_a_hold_of_its_price(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    decision = engine.decide(offered("c1", lisbon("2026-03-02 10:00")))
    assert decision.action is RouteAction.ANSWER
    assert decision.queue == "acme"
    assert decision.preferred_agents == ["ana", "rui"]
    assert account(applied).held_cents == 150


def test_decision_is_the_same_when_the_offer_is_replayed(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    first = engine.decide(offered("c1", lisbon("2026-03-02 10:00")))
    again = engine.decide(offered("c1", lisbon("2026-03-02 10:00")))
    assert first == again
    assert account(applied).held_cents == 150


def test_foreign_caller_is_answered_in_english(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    decision = engine.decide(offered("c1", lisbon("2026-03-02 10:00"), caller="+447700900123"))
    assert decision.language.value == "en"


def test_missed_call_is_free_and_releases_its_hold(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    engine.handle(offered("c1", lisbon("2026-03-02 10:00")))
    engine.handle(event("c1", EventKind.ENDED, lisbon("2026-03-02 10:00:40")))
    rec = record(applied, "c1")
    assert rec["disposition"] == "missed"
    assert rec["price_cents"] == 0
    assert account(applied).held_cents == 0
    assert account(applied).balance_cents == 15600


def test_call_after_hours_is_free_and_plays_the_recorded_message(
    engine: Engine, applied: Store, plugins: Plugins
) -> None:
    buy(applied, plugins, "acme")
    decision = engine.decide(offered("c1", lisbon("2026-03-02 19:30")))
    assert decision.action is RouteAction.PLAY_MESSAGE
    assert decision.disposition is Disposition.AFTER_HOURS
    engine.handle(event("c1", EventKind.ENDED, lisbon("2026-03-02 19:31")))
    assert record(applied, "c1")["disposition"] == "after_hours"
    assert account(applied).balance_cents == 15600


def test_call_on_a_national_holiday_is_after_hours(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    decision = engine.decide(offered("c1", lisbon("2026-04-03 10:00")))  # Good Friday
    assert decision.disposition is Disposition.AFTER_HOURS


def test_call_at_lunch_time_is_after_hours(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    assert engine.decide(offered("c1", lisbon("2026-03-02 13:30"))).disposition is Disposition.AFTER_HOURS


def test_client_without_recorded_message_is_not_answered_after_hours(
    engine: Engine, applied: Store, plugins: Plugins
) -> None:
    buy(applied, plugins, "beta")
    decision = engine.decide(offered("c1", lisbon("2026-03-07 10:00"), did=BETA))  # a Saturday
    assert decision.action is RouteAction.NOT_ANSWERED


def test_call_without_balance_is_refused_free_and_interrupts_the_service(engine: Engine, applied: Store) -> None:
    decision = engine.decide(offered("c1", lisbon("2026-03-02 10:00")))
    assert decision.action is RouteAction.REFUSE
    assert decision.disposition is Disposition.REFUSED_NO_BALANCE
    engine.handle(event("c1", EventKind.ENDED, lisbon("2026-03-02 10:00:20")))
    assert record(applied, "c1")["disposition"] == "refused_no_balance"
    assert account(applied).interrupted


def test_interruption_notice_is_sent_once_per_interruption(engine: Engine, applied: Store) -> None:
    for number in range(3):
        engine.decide(offered(f"c{number}", lisbon("2026-03-02 10:00") + timedelta(minutes=number)))
    with applied.connect() as conn:
        notices = [row for row in outbox.list_rows(conn) if row["kind"] == "notice"]
    # one notice per destination that accepts notices (both are email), once
    assert len(notices) == 2
    assert {row["event_type"] for row in notices} == {"service.interrupted"}


def test_topup_lifts_the_interruption_and_tells_the_client(engine: Engine, applied: Store, plugins: Plugins) -> None:
    engine.decide(offered("c1", lisbon("2026-03-02 10:00")))
    topup(applied, plugins, "acme", 20, "2026-03-02 11:00")
    assert not account(applied).interrupted
    assert engine.decide(offered("c2", lisbon("2026-03-02 11:05"))).action is RouteAction.ANSWER
    with applied.connect() as conn:
        types = [row["event_type"] for row in outbox.list_rows(conn) if row["kind"] == "notice"]
    assert "service.resumed" in types


def test_balance_that_cannot_cover_the_next_call_interrupts_after_the_debit(
    engine: Engine, applied: Store, plugins: Plugins
) -> None:
    topup(applied, plugins, "acme", 20, "2026-03-01 08:00")  # 2000 cents: 13 calls of 150
    for number in range(13):
        answered_call(engine, f"c{number}", lisbon("2026-03-02 10:00") + timedelta(minutes=10 * number))
    assert account(applied).balance_cents == 2000 - 13 * 150
    assert account(applied).interrupted
    decision = engine.decide(offered("c99", lisbon("2026-03-02 15:00")))
    assert decision.disposition is Disposition.REFUSED_NO_BALANCE


def test_balance_never_goes_negative_with_concurrent_calls(engine: Engine, applied: Store, plugins: Plugins) -> None:
    topup(applied, plugins, "acme", 20, "2026-03-01 08:00")
    start = lisbon("2026-03-02 10:00")
    decisions = [engine.decide(offered(f"c{n}", start + timedelta(seconds=n))) for n in range(20)]
    admitted = [d for d in decisions if d.action is RouteAction.ANSWER]
    assert len(admitted) == 13  # 13 holds of 150 fit in 2000
    for n, decision in enumerate(decisions):
        if decision.action is RouteAction.ANSWER:
            engine.handle(event(f"c{n}", EventKind.ANSWERED, start + timedelta(seconds=30 + n), agent="ana"))
    for n in range(20):
        engine.handle(event(f"c{n}", EventKind.ENDED, start + timedelta(minutes=5, seconds=n)))
        engine.wrapup(WrapUp(call_id=f"c{n}", answers={"name": "X"}))
    assert account(applied).balance_cents == 2000 - 13 * 150 >= 0


def test_tier_price_drops_to_100_at_the_100th_call_of_the_month(
    engine: Engine, applied: Store, plugins: Plugins
) -> None:
    buy(applied, plugins, "acme")
    start = lisbon("2026-03-02 09:00")
    for number in range(100):
        answered_call(engine, f"c{number}", start + timedelta(minutes=2 * number), talk_s=60)
    assert record(applied, "c98")["price_cents"] == 150
    assert record(applied, "c99")["price_cents"] == 100


def test_month_is_counted_in_lisbon_time(engine: Engine, applied: Store, plugins: Plugins) -> None:
    # 31 March 23:30 UTC is already 1 April in Lisbon (summer time): a new month, a new count.
    with applied.begin() as conn:
        conn.execute(
            t.month_counters.insert().values(client="acme", month="2026-03", answered=150, outbound=0, talk_seconds=0)
        )
    buy(applied, plugins, "acme")
    settings = Settings(
        database_url=applied.url,
        hours={
            "windows": {d: ["00:00-24:00"] for d in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
            "national_holidays": False,
            "lisbon_holiday": False,
        },
    )
    open_engine = Engine(applied, plugins.registry, settings)
    answered_call(open_engine, "late", datetime.fromisoformat("2026-03-31T22:30:00+00:00"), talk_s=30)
    answered_call(open_engine, "next", datetime.fromisoformat("2026-03-31T23:30:00+00:00"), talk_s=30)
    assert record(applied, "late")["price_cents"] == 100
    assert record(applied, "next")["price_cents"] == 150


def test_negotiated_rate_applies_from_the_300th_call(engine: Engine, applied: Store, plugins: Plugins) -> None:
    with applied.begin() as conn:
        conn.execute(
            t.month_counters.insert().values(client="acme", month="2026-03", answered=299, outbound=0, talk_seconds=0)
        )
    buy(applied, plugins, "acme")
    answered_call(engine, "c300", lisbon("2026-03-02 10:00"))
    assert record(applied, "c300")["price_cents"] == 40


def test_missing_negotiated_rate_alerts_the_operator_once_a_month(
    applied: Store, plugins: Plugins, tmp_path: Any
) -> None:
    from hub.core import directory

    text = clients_yaml(tmp_path / "maildir", negotiated=None)
    directory.apply_file(applied, plugins.registry, tmp_path / "c.yaml", text=text)
    with applied.begin() as conn:
        conn.execute(
            t.month_counters.insert().values(client="acme", month="2026-03", answered=299, outbound=0, talk_seconds=0)
        )
    buy(applied, plugins, "acme")
    engine = Engine(applied, plugins.registry, Settings(database_url=applied.url))
    answered_call(engine, "c300", lisbon("2026-03-02 10:00"))
    answered_call(engine, "c301", lisbon("2026-03-02 10:30"))
    assert record(applied, "c300")["price_cents"] == 50
    with applied.connect() as conn:
        kinds = [row.kind for row in conn.execute(select(t.alerts))]
    assert kinds == ["negotiated_rate_missing"]


def test_finalized_record_writes_one_outbox_row_per_matching_destination(
    engine: Engine, applied: Store, plugins: Plugins
) -> None:
    buy(applied, plugins, "acme")
    answered_call(engine, "c1", lisbon("2026-03-02 10:00"))
    engine.handle(offered("c2", lisbon("2026-03-02 11:00")))
    engine.handle(event("c2", EventKind.ENDED, lisbon("2026-03-02 11:01")))
    with applied.connect() as conn:
        rows = [(r["record_id"], r["destination"]) for r in outbox.list_rows(conn) if r["kind"] == "record"]
    c1, c2 = record_id_for("ingest", "c1"), record_id_for("ingest", "c2")
    # the filtered destination only takes answered calls; the other takes everything, missed too
    assert sorted(rows) == sorted([(c1, "mail"), (c1, "complaints"), (c2, "mail")])


def test_answered_call_without_wrapup_becomes_incomplete_after_the_timeout(
    engine: Engine, applied: Store, plugins: Plugins
) -> None:
    buy(applied, plugins, "acme")
    answered_call(engine, "c1", lisbon("2026-03-02 10:00"), wrapup=False)
    assert count(applied, t.records) == 0
    # ten minutes of event time later, another call moves the clock on
    engine.handle(offered("c2", lisbon("2026-03-02 10:13:05")))
    rec = record(applied, "c1")
    assert rec["incomplete"] is True
    assert rec["price_cents"] == 150


def test_late_wrapup_corrects_the_incomplete_record_without_charging_again(
    engine: Engine, applied: Store, plugins: Plugins
) -> None:
    buy(applied, plugins, "acme")
    answered_call(engine, "c1", lisbon("2026-03-02 10:00"), wrapup=False)
    engine.close_all()
    engine.wrapup(WrapUp(call_id="c1", agent="ana", answers={"name": "Rui"}))
    rec = record(applied, "c1")
    assert rec["incomplete"] is False
    assert rec["answers"] == {"name": "Rui"}
    assert account(applied).balance_cents == 15450
    with applied.connect() as conn:
        types = sorted(r["event_type"] for r in outbox.list_rows(conn) if r["destination"] == "mail")
    assert types == ["call.record.created", "call.record.updated"]


def test_wrapup_before_the_end_is_kept_until_the_call_ends(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    engine.handle(offered("c1", lisbon("2026-03-02 10:00")))
    engine.handle(event("c1", EventKind.ANSWERED, lisbon("2026-03-02 10:00:05"), agent="ana"))
    engine.wrapup(WrapUp(call_id="c1", answers={"name": "Rui"}))
    engine.handle(event("c1", EventKind.ENDED, lisbon("2026-03-02 10:02:05")))
    assert record(applied, "c1")["answers"] == {"name": "Rui"}


def test_transfer_between_agents_keeps_one_record(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    engine.handle(offered("c1", lisbon("2026-03-02 10:00")))
    engine.handle(event("c1", EventKind.ANSWERED, lisbon("2026-03-02 10:00:05"), agent="ana"))
    engine.handle(event("c1", EventKind.BRIDGED, lisbon("2026-03-02 10:01:00"), agent="rui"))
    engine.handle(event("c1", EventKind.ENDED, lisbon("2026-03-02 10:04:00")))
    engine.wrapup(WrapUp(call_id="c1", agent="rui", answers={"name": "Rui"}))
    assert count(applied, t.records) == 1
    assert record(applied, "c1")["agent"] == "rui"
    assert account(applied).balance_cents == 15450


def test_replaying_the_same_events_changes_nothing(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    for _ in range(2):
        answered_call(engine, "c1", lisbon("2026-03-02 10:00"))
        engine.handle(offered("c2", lisbon("2026-03-02 10:30")))
        engine.handle(event("c2", EventKind.ENDED, lisbon("2026-03-02 10:31")))
    assert count(applied, t.records) == 2
    assert count(applied, t.outbox) == 3
    assert account(applied).balance_cents == 15450
    with applied.connect() as conn:
        assert len(ledger.statement(conn, "acme")) == 2


def test_unknown_number_is_reported_with_the_number(engine: Engine) -> None:
    with pytest.raises(IngestError, match=r"\+351217999999"):
        engine.handle(offered("c1", lisbon("2026-03-02 10:00"), did="+351217999999"))


def test_later_events_of_an_unrouted_call_are_ignored(engine: Engine, applied: Store) -> None:
    with pytest.raises(IngestError):
        engine.handle(offered("c1", lisbon("2026-03-02 10:00"), did="+351217999999"))
    engine.handle(event("c1", EventKind.ENDED, lisbon("2026-03-02 10:01")))
    assert count(applied, t.records) == 0


def test_event_of_a_call_never_offered_is_an_error(engine: Engine) -> None:
    with pytest.raises(IngestError, match="never offered"):
        engine.handle(event("nope", EventKind.ANSWERED, lisbon("2026-03-02 10:00"), agent="ana"))


def test_wrapup_with_a_field_not_in_the_script_is_an_error(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    answered_call(engine, "c1", lisbon("2026-03-02 10:00"), wrapup=False)
    with pytest.raises(IngestError, match="unknown field"):
        engine.wrapup(WrapUp(call_id="c1", answers={"colour": "blue"}))


def test_close_all_finalizes_every_open_call(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    engine.handle(offered("ringing", lisbon("2026-03-02 10:00")))
    engine.handle(offered("talking", lisbon("2026-03-02 10:01")))
    engine.handle(event("talking", EventKind.ANSWERED, lisbon("2026-03-02 10:01:05"), agent="ana"))
    assert engine.close_all() == 2
    assert record(applied, "ringing")["disposition"] == "missed"
    assert record(applied, "talking")["incomplete"] is True
    assert account(applied).held_cents == 0


def test_call_marked_as_spam_is_free_by_default(engine: Engine, applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    answered_call(engine, "c1", lisbon("2026-03-02 10:00"), wrapup=False)
    engine.wrapup(WrapUp(call_id="c1", agent="ana", mark="spam"))
    rec = record(applied, "c1")
    assert (rec["disposition"], rec["price_cents"], rec["mark"]) == ("spam", 0, "spam")
    assert account(applied).balance_cents == 15600
    assert account(applied).held_cents == 0


def test_wrong_number_is_charged_when_the_operator_policy_says_so(applied: Store, plugins: Plugins) -> None:
    buy(applied, plugins, "acme")
    settings = Settings(database_url=applied.url, engine={"spam_policy": "charged"})
    charging = Engine(applied, plugins.registry, settings)
    answered_call(charging, "c1", lisbon("2026-03-02 10:00"), wrapup=False)
    charging.wrapup(WrapUp(call_id="c1", agent="ana", mark="wrong_number"))
    rec = record(applied, "c1")
    assert (rec["disposition"], rec["price_cents"], rec["mark"]) == ("spam", 150, "wrong_number")


def test_caller_blocked_by_the_client_is_refused_free(engine: Engine, applied: Store, plugins: Plugins) -> None:
    from hub.core import blocklist

    buy(applied, plugins, "acme")
    with applied.begin() as conn:
        blocklist.block(conn, "acme", "912 345 678")
    decision = engine.decide(offered("c1", lisbon("2026-03-02 10:00"), caller="+351912345678"))
    assert decision.action is RouteAction.REFUSE
    assert decision.disposition is Disposition.BLOCKED
    engine.handle(event("c1", EventKind.ENDED, lisbon("2026-03-02 10:00:10")))
    assert record(applied, "c1")["disposition"] == "blocked"
    assert account(applied).balance_cents == 15600
    assert engine.decide(offered("c2", lisbon("2026-03-02 10:05"), caller="+351912000000")).action is RouteAction.ANSWER
