"""The monthly report emails and the talk-time alert: the job, `recado reports …`, a real relay.

Each test gets its own copy of a generated March (see `report_data`); mail goes through
the outbox and the `email` sink to an aiosmtpd server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from report_data import Plan, generate

from hub.core import notices, reports
from hub.core.jobs import JOBS
from hub.core.report_delivery import MonthNotOver, send_month_reports
from hub.core.scheduler import JobContext, run_jobs, select_jobs
from hub.core.store import Store
from hub.core.worker import Worker
from hub.plugins import Plugins
from hub.settings import Settings

LISBON = ZoneInfo("Europe/Lisbon")
KEY = "J8U7Qx3wqNwQ2n0W9m3a2Yw6sQ1y3x5k7o9q1s3u5w4="
RECADO = str(Path(sys.executable).with_name("recado"))
PLUGINS = Plugins(only={"email"})
ADDRESSES = ("gerencia@acme.example", "dono@beta.example", "office@gama.example")
FIRST_OF_APRIL = datetime(2026, 4, 1, 0, 30, tzinfo=LISBON)


@dataclass
class Template:
    """A generated March in an SQLite file, copied for each test."""

    path: Path
    plan: Plan


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("generated")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECADO_SECRET_KEY", KEY)
        store = Store(f"sqlite:///{folder / 'recado.db'}")
        plan = generate(store, PLUGINS, folder)
        store.dispose()
    return Template(folder / "recado.db", plan)


@pytest.fixture
def store(template: Template, tmp_path: Path) -> Iterator[Store]:
    """A fresh copy of the generated month."""
    for part in template.path.parent.glob("recado.db*"):  # the database and any write-ahead log
        shutil.copy(part, tmp_path / part.name)
    opened = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    yield opened
    opened.dispose()


def tick(store: Store, now: datetime) -> int:
    [run] = run_jobs(
        JobContext(store, PLUGINS.registry, Settings(database_url=store.url), now),
        select_jobs(JOBS, ["reports.monthly"]),
    )
    assert run.error is None, run.error
    return run.done


def deliver(store: Store) -> None:
    asyncio.run(Worker(store, PLUGINS.registry, Settings(database_url=store.url)).run_once())


def reports_to(relay: MailRelay, address: str) -> list[EmailMessage]:
    """The report emails `address` received (clients also get other mail, e.g. service notices)."""
    return [m for m in relay.to(address) if str(m["Subject"]).startswith(("Relatório de ", "Report for "))]


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_the_first_tick_after_the_month_emails_each_client_its_report(
    store: Store,
    mail_relay: MailRelay,  # noqa: F811
) -> None:
    assert tick(store, FIRST_OF_APRIL) == 3
    deliver(store)
    [acme] = reports_to(mail_relay, "gerencia@acme.example")
    [gama] = reports_to(mail_relay, "office@gama.example")
    assert len(reports_to(mail_relay, "dono@beta.example")) == 1
    assert acme["Subject"] == "Relatório de março de 2026 — Clínica Acme"
    assert gama["Subject"] == "Report for March 2026 — Gama Labs"
    with store.connect() as conn:
        expected = reports.month_report(conn, "acme", "2026-03")
    text, html = parts(acme)
    assert f"Chamadas recebidas: {expected.calls}" in text
    assert "Atenção: a duração média" in text and "ultrapassa os 4 min 00 s" in text
    assert "Saldo no fim do mês" in html and "Chamadas por dia" in html
    assert html.count("display:inline-block;width:") >= 20  # the bars of the chart, one or two per busy day
    assert "<svg" not in html  # mail clients do not all show SVG
    assert "Saldo" in text  # every email carries the balance (the sink's account block)


def test_the_report_comes_with_its_calls_per_day_as_csv(
    store: Store,
    mail_relay: MailRelay,  # noqa: F811
) -> None:
    tick(store, FIRST_OF_APRIL)
    deliver(store)
    [gama] = reports_to(mail_relay, "office@gama.example")
    [attachment] = list(gama.iter_attachments())
    assert attachment.get_filename() == "gama-2026-03.csv"
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert len(rows) == 31 and rows[0]["day"] == "2026-03-01"
    with store.connect() as conn:
        expected = reports.month_report(conn, "gama", "2026-03")
    assert [int(row["calls"]) for row in rows] == [day.calls for day in expected.days]


def test_ticking_twice_sends_one_email_per_client(store: Store, mail_relay: MailRelay) -> None:  # noqa: F811
    assert tick(store, FIRST_OF_APRIL) == 3
    assert tick(store, datetime(2026, 4, 1, 1, 30, tzinfo=LISBON)) == 0
    assert tick(store, datetime(2026, 4, 15, 9, 0, tzinfo=LISBON)) == 0
    deliver(store)
    assert len(reports_to(mail_relay, "gerencia@acme.example")) == 1
    assert sum(len(reports_to(mail_relay, a)) for a in ADDRESSES) == 3


def test_sending_again_by_hand_queues_nothing_new(store: Store, mail_relay: MailRelay) -> None:  # noqa: F811
    tick(store, FIRST_OF_APRIL)
    again = send_month_reports(store, "2026-03", now=datetime(2026, 4, 2, tzinfo=UTC), tariff=Settings().tariff)
    assert (again.queued, again.already_sent) == ([], ["acme", "beta", "gama"])
    deliver(store)
    assert sum(len(reports_to(mail_relay, a)) for a in ADDRESSES) == 3


def test_a_long_average_talk_time_raises_one_operator_alert(store: Store) -> None:
    tick(store, FIRST_OF_APRIL)
    send_month_reports(store, "2026-03", now=datetime(2026, 4, 2, tzinfo=UTC), tariff=Settings().tariff)
    with store.connect() as conn:
        alerts = [alert for alert in notices.list_alerts(conn) if alert["kind"] == "average_talk"]
    [alert] = alerts
    assert alert["client"] == "acme"
    assert "average talk time in 2026-03" in alert["message"] and "above the 4 min 00 s" in alert["message"]


def test_a_month_is_reported_only_once_it_is_over(store: Store) -> None:
    with pytest.raises(MonthNotOver, match="2026-03 is not over yet"):
        send_month_reports(store, "2026-03", now=datetime(2026, 3, 31, 22, 59, tzinfo=UTC), tariff=Settings().tariff)


def test_a_client_with_nothing_in_the_month_gets_no_report(store: Store) -> None:
    result = send_month_reports(store, "2026-01", now=FIRST_OF_APRIL, tariff=Settings().tariff)
    assert result.queued == [] and result.no_activity == ["acme", "beta", "gama"]


# -- the command line --------------------------------------------------------------------------


def recado(store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"RECADO_SECRET_KEY": KEY, "RECADO_DATABASE_URL": store.url, "RECADO_PLUGINS": "email"}
    return subprocess.run([RECADO, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_recado_reports_month_prints_the_report_as_json(store: Store) -> None:
    done = recado(store, "reports", "month", "acme", "--month", "2026-03", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    with store.connect() as conn:
        expected = reports.month_report(conn, "acme", "2026-03", now=datetime.now(UTC))
    assert printed == json.loads(expected.model_dump_json())


def test_recado_reports_month_shows_tables_and_the_alert(store: Store) -> None:
    done = recado(store, "reports", "month", "acme", "--month", "2026-03")
    assert done.returncode == 0, done.stderr
    assert "ALERT average talk time" in done.stdout
    assert "Calls per day" in done.stdout and "2026-03-29" in done.stdout


def test_recado_reports_operator_writes_the_csv_to_stdout_or_a_file(store: Store, tmp_path: Path) -> None:
    printed = recado(store, "reports", "operator", "--month", "2026-03")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines()[0].startswith("client,name,answered,missed,after_hours,refused,outbound")
    written = recado(store, "reports", "operator", "--month", "2026-03", "--out", str(tmp_path / "march.csv"))
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "march.csv").read_text(encoding="utf-8") == printed.stdout


def test_recado_reports_send_queues_once(store: Store) -> None:
    first = recado(store, "reports", "send", "--month", "2026-03", "--client", "gama", "--json")
    second = recado(store, "reports", "send", "--month", "2026-03", "--client", "gama", "--json")
    assert json.loads(first.stdout)["queued"] == ["gama"]
    assert json.loads(second.stdout)["already_sent"] == ["gama"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reports", "month", "acme", "--month", "2026-3"), "--month: '2026-3' is not a month (expected YYYY-MM"),
        (("reports", "month", "nobody", "--month", "2026-03"), "no client 'nobody'"),
        (("reports", "send", "--month", "2099-01"), "--month: 2099-01 is not over yet"),
        (("reports", "send", "--month", "2026-03", "--client", "nobody"), "--client: no client 'nobody'"),
    ],
)
def test_bad_input_is_named_and_exits_2(store: Store, args: tuple[str, ...], message: str) -> None:
    done = recado(store, *args)
    assert done.returncode == 2
    assert message in " ".join(done.stderr.split())
