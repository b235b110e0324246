"""The monthly report against an independent computation over a realistic, generated March.

The data (see `report_data`) is put through the real engine, ledger and campaigns, on
SQLite and on PostgreSQL; the expected figures are computed from the generator's plan
with nothing but the service's published rules, never with the hub's own code.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from report_data import Plan, clients_yaml, generate

from hub.core import directory, ledger, reports
from hub.core.store import Store
from hub.plugins import Plugins

LISBON = ZoneInfo("Europe/Lisbon")
MARCH = (datetime(2026, 3, 1, tzinfo=LISBON), datetime(2026, 4, 1, tzinfo=LISBON))
PG_ADMIN = os.environ.get("RECADO_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
KEY = "J8U7Qx3wqNwQ2n0W9m3a2Yw6sQ1y3x5k7o9q1s3u5w4="


@dataclass
class Generated:
    """A store holding the generated month, and the plan that made it."""

    store: Store
    plan: Plan


def _postgres_url() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL is not reachable ({PG_ADMIN}): {str(exc).strip().splitlines()[0]}")
    name = f"recado_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    params = psycopg.conninfo.conninfo_to_dict(PG_ADMIN)
    yield f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host')}:{params.get('port')}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """The generated month, once per database (it takes a few seconds to put through)."""
    tmp_path = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECADO_SECRET_KEY", KEY)
        urls = _postgres_url() if request.param == "postgresql" else iter([f"sqlite:///{tmp_path / 'recado.db'}"])
        url = next(urls)
        store = Store(url)
        plan = generate(store, Plugins(only={"email"}), tmp_path)
        yield Generated(store, plan)
        store.dispose()
        next(urls, None)


def report(generated: Generated, client: str, month: str = "2026-03") -> reports.MonthReport:
    with generated.store.connect() as conn:
        return reports.month_report(conn, client, month, now=datetime(2026, 11, 1, tzinfo=UTC))


# -- the expected figures, from the plan alone ---------------------------------------------


def in_march(moment: datetime) -> bool:
    return MARCH[0] <= moment < MARCH[1]


def march_calls(plan: Plan, client: str) -> list[Any]:
    return [call for call in plan.calls if call.client == client and in_march(call.offered)]


def expected_talk(plan: Plan, client: str) -> tuple[int, int, int]:
    """(answered, total seconds, average rounded up)."""
    talks = [call.talk_s for call in march_calls(plan, client) if call.outcome == "answered"]
    total = sum(talks)
    return len(talks), total, (total + len(talks) - 1) // len(talks) if talks else 0


def expected_money(plan: Plan, client: str) -> dict[str, Any]:
    mine = [money for money in plan.money if money.client == client]
    spent: Counter[str] = Counter()
    credited: Counter[str] = Counter()
    for money in mine:
        if in_march(money.at):
            (spent if money.cents < 0 else credited)[money.kind] += abs(money.cents)
    return {
        "spend": dict(spent),
        "credits": dict(credited),
        "end": sum(money.cents for money in mine if money.at < MARCH[1]),
        "now": sum(money.cents for money in mine),
    }


# -- tests ----------------------------------------------------------------------------------


def test_calls_are_counted_by_disposition_over_the_lisbon_month(generated: Generated) -> None:
    for client in ("acme", "beta", "gama"):
        found = report(generated, client)
        expected = Counter(call.outcome for call in march_calls(generated.plan, client))
        assert {k: v for k, v in found.by_disposition.items() if v} == dict(expected), client
        assert found.calls == sum(expected.values())


def test_the_months_edges_are_lisbon_midnights(generated: Generated) -> None:
    days = {day.day: day.calls for day in report(generated, "acme").days}
    planned = Counter(call.offered.date() for call in march_calls(generated.plan, "acme"))
    # 00:05 on 1 March is in March; 23:30 (WEST, 22:30 UTC) on 31 March too.
    assert days[date(2026, 3, 1)] == planned[date(2026, 3, 1)] >= 1
    assert days[date(2026, 3, 31)] == planned[date(2026, 3, 31)] >= 1
    # 00:10 on 1 April is 23:10 UTC on 31 March: it belongs to April's report.
    april = report(generated, "acme", "2026-04")
    first = [c for c in generated.plan.calls if c.client == "acme" and c.offered.date() == date(2026, 4, 1)]
    assert april.days[0].calls == len(first) >= 1


def test_calls_are_counted_by_category_and_disposition(generated: Generated) -> None:
    found = report(generated, "acme").by_category
    expected: dict[str, Counter[str]] = {}
    for call in march_calls(generated.plan, "acme"):
        expected.setdefault(call.category, Counter())[call.outcome] += 1
    assert set(found) == {"customer_service", "complaint"}
    assert {cat: {k: v for k, v in counts.items() if v} for cat, counts in found.items()} == {
        cat: dict(counts) for cat, counts in expected.items()
    }


def test_average_talk_time_is_of_answered_calls_with_an_alert_above_four_minutes(generated: Generated) -> None:
    for client, above in (("acme", True), ("gama", False)):
        found = report(generated, client)
        answered, total, average = expected_talk(generated.plan, client)
        assert (found.answered, found.talk_seconds_total, found.talk_seconds_average) == (answered, total, average)
        assert found.talk_limit_seconds == 240
        assert found.average_talk_above_limit is above is (total > 240 * answered), client


def test_outbound_contacts_are_counted_by_channel_and_outcome(generated: Generated) -> None:
    found = report(generated, "acme")
    contacts = [outcome for client, at, outcome in generated.plan.contacts if client == "acme" and in_march(at)]
    assert found.outbound == len(contacts) == 5
    assert found.outbound_by_channel == {"voice": 5, "sms": 0}
    assert found.outbound_by_disposition == dict(sorted(Counter(contacts).items()))
    # Contacts are not calls received.
    assert found.calls == len(march_calls(generated.plan, "acme"))


def test_spend_credits_and_balances_come_from_the_ledger(generated: Generated) -> None:
    for client in ("acme", "beta", "gama"):
        found = report(generated, client)
        money = expected_money(generated.plan, client)
        assert found.spend_by_kind == dict(sorted(money["spend"].items())), client
        assert found.spend_cents == sum(money["spend"].values())
        assert found.credits_by_kind == dict(sorted(money["credits"].items()))
        assert (found.balance_end_cents, found.balance_now_cents) == (money["end"], money["now"]), client
    acme = report(generated, "acme")
    assert set(acme.spend_by_kind) == {"call", "outbound", "message"}
    assert acme.balance_end_cents != acme.balance_now_cents  # April has already started to spend


def test_every_day_of_the_month_is_listed_with_zeros_and_the_summer_time_day(generated: Generated) -> None:
    found = report(generated, "gama")
    assert [day.day for day in found.days] == [date(2026, 3, 1) + timedelta(days=n) for n in range(31)]
    calls = march_calls(generated.plan, "gama")
    planned = Counter(call.offered.date() for call in calls)
    answered = Counter(call.offered.date() for call in calls if call.outcome == "answered")
    assert [(d.calls, d.answered) for d in found.days] == [(planned[d.day], answered[d.day]) for d in found.days]
    assert any(day.calls == 0 for day in found.days)
    summer = next(day for day in report(generated, "acme").days if day.day == date(2026, 3, 29))
    assert summer.calls >= 2  # 00:30 WET and 03:30 WEST, an hour apart on the clock, two in real time


def test_the_operator_csv_has_a_header_and_one_line_per_client(generated: Generated) -> None:
    with generated.store.connect() as conn:
        text = reports.operator_month_csv(conn, "2026-03", now=datetime(2026, 11, 1, tzinfo=UTC))
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [
        "client", "name", "answered", "missed", "after_hours", "refused", "outbound",
        "talk_avg_s", "talk_above_limit", "spend_cents", "balance_cents", "spam", "blocked",
    ]  # fmt: skip
    rows = {line[0]: dict(zip(lines[0], line, strict=True)) for line in lines[1:]}
    assert list(rows) == ["acme", "beta", "gama"]
    for client, row in rows.items():
        outcomes = Counter(call.outcome for call in march_calls(generated.plan, client))
        _answered, _total, average = expected_talk(generated.plan, client)
        money = expected_money(generated.plan, client)
        contacts = sum(1 for c, at, _ in generated.plan.contacts if c == client and in_march(at))
        assert row == {
            "client": client,
            "name": {"acme": "Clínica Acme", "beta": "Beta Lda", "gama": "Gama Labs"}[client],
            "answered": str(outcomes["answered"]),
            "missed": str(outcomes["missed"]),
            "after_hours": str(outcomes["after_hours"]),
            "refused": str(outcomes["refused_no_balance"]),
            "outbound": str(contacts),
            "talk_avg_s": str(average),
            "talk_above_limit": "yes" if client == "acme" else "no",
            "spend_cents": str(sum(money["spend"].values())),
            "balance_cents": str(money["end"]),
            "spam": str(outcomes["spam"]),
            "blocked": str(outcomes["blocked"]),
        }


def test_a_month_in_progress_says_so(generated: Generated) -> None:
    with generated.store.connect() as conn:
        found = reports.month_report(conn, "gama", "2026-03", now=datetime(2026, 3, 20, tzinfo=UTC))
    assert found.complete is False
    assert report(generated, "gama").complete is True


def test_a_volume_credit_posted_the_next_month_is_shown_with_its_month(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    directory.apply_file(sqlite_store, plugins.registry, tmp_path / "c.yaml", text=clients_yaml(tmp_path / "mail"))
    with sqlite_store.begin() as conn:
        ledger.post(
            conn,
            "gama",
            at=datetime(2026, 4, 1, 0, 30, tzinfo=LISBON),
            kind="volume_credit",
            amount_cents=300,
            ref="volume 2026-03",
            key="volume:gama:2026-03",
        )
        march = reports.month_report(conn, "gama", "2026-03")
        april = reports.month_report(conn, "gama", "2026-04")
    assert march.volume_credit_cents == 300
    assert "volume_credit" not in march.credits_by_kind  # credited in April: April's balance moves
    assert (march.balance_end_cents, april.balance_end_cents) == (0, 300)
    assert april.credits_by_kind == {"volume_credit": 300}
    assert april.volume_credit_cents is None


def test_an_unknown_client_has_no_report(generated: Generated) -> None:
    with generated.store.connect() as conn, pytest.raises(ledger.UnknownAccount, match="no client 'nobody'"):
        reports.month_report(conn, "nobody", "2026-03")


@pytest.mark.parametrize("text", ["2026-3", "2026-13", "26-03", "march", "2026-03-01", ""])
def test_a_month_is_written_yyyy_mm(text: str) -> None:
    with pytest.raises(ValueError, match="expected YYYY-MM"):
        reports.parse_month(text)


def test_march_2026_is_one_hour_shorter_in_utc() -> None:
    start, end = reports.month_bounds("2026-03")
    assert start.astimezone(UTC) == datetime(2026, 3, 1, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 31, 23, tzinfo=UTC)
    assert (reports.previous_month("2026-01"), reports.previous_month("2026-03")) == ("2025-12", "2026-02")
    assert len(reports.month_days("2028-02")) == 29
