"""The monthly report, its forms and the digest option in a real browser (Debian's chromium).

The hub serves a generated March (see `report_data`) on 127.0.0.1; the tests check the
chart and the figures against the report itself and keep the screenshots of docs/reports.md
and docs/email.md.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from recado_email.digest import build_digest, digest_item
from report_data import generate
from web import chromium
from web.chromium import NO_PLAYWRIGHT, needs_chromium, shot
from web.live_server import delivering, live_server

from hub.core import reports
from hub.core.report_delivery import send_month_reports
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings
from hub.testing import make_batch, sample_account
from hub.web.app import build_context, create_app
from hub.web.tokens import Role, create_token

AFTER = datetime(2026, 11, 1, tzinfo=UTC)

pytestmark = needs_chromium
sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)


@dataclass
class Served:
    """The hub on 127.0.0.1 over a generated month, with tokens."""

    url: str
    store: Store
    client_token: str
    operator_token: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    store = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    plugins = Plugins(only={"email"})
    generate(store, plugins, tmp_path)
    settings = Settings(database_url=store.url)
    settings.delivery.poll_s = 0.2
    context = build_context(store, plugins, settings, secure_cookies=False)
    with live_server(create_app(context), worker=delivering(context)) as url:
        yield Served(
            url=url,
            store=store,
            client_token=create_token(store, Role.CLIENT, client="acme")[1],
            operator_token=create_token(store, Role.OPERATOR)[1],
        )
    store.dispose()


def logged_in(browser: Any, served: Served, token: str, language: str = "pt-PT") -> Any:
    """A new page of the served hub, logged in with `token`, that accepts downloads."""
    return chromium.logged_in(browser, served.url, token, language, accept_downloads=True)


def month_report(served: Served, client: str, month: str) -> reports.MonthReport:
    with served.store.connect() as conn:
        return reports.month_report(conn, client, month, now=AFTER)


def test_the_client_reads_its_march_with_the_chart_and_the_alert(served: Served, browser) -> None:
    expected = month_report(served, "acme", "2026-03")
    page = logged_in(browser, served, served.client_token)
    page.click("#nav-report")
    page.fill("#month", "2026-03")
    page.click("#month-button")
    sync_api.expect(page.locator("#report-month")).to_have_text("março de 2026")
    sync_api.expect(page.locator("#calls")).to_have_text(str(expected.calls))
    sync_api.expect(page.locator("#answered")).to_have_text(str(expected.answered))
    sync_api.expect(page.locator("#outbound")).to_have_text(str(expected.outbound))
    bars = page.locator("svg#calls-chart g.day")
    sync_api.expect(bars).to_have_count(31)
    for day in expected.days:
        bar = page.locator(f'svg#calls-chart g.day[data-day="{day.day.isoformat()}"]')
        assert (bar.get_attribute("data-calls"), bar.get_attribute("data-answered")) == (
            str(day.calls),
            str(day.answered),
        )
    busiest = max(expected.days, key=lambda day: day.calls)
    heights = page.locator(f'svg#calls-chart g.day[data-day="{busiest.day.isoformat()}"] rect')
    assert sum(float(heights.nth(i).get_attribute("height") or 0) for i in range(2)) > 150  # the tallest bar
    sync_api.expect(page.locator("#talk-alert")).to_contain_text("ultrapassa os 4 min 00 s")
    sync_api.expect(page.locator('#by-category tr[data-category="complaint"] .total')).to_have_text(
        str(sum(expected.by_category["complaint"].values()))
    )
    shot(page, "report.png")


def test_the_month_picker_moves_to_another_month(served: Served, browser) -> None:
    page = logged_in(browser, served, served.client_token, language="en-GB")
    page.goto(f"{served.url}/portal/acme/report?month=2026-03")
    page.fill("#month", "2026-04")
    page.click("#month-button")
    sync_api.expect(page.locator("#report-month")).to_have_text("April 2026")
    assert page.url.endswith("/portal/acme/report?month=2026-04")
    sync_api.expect(page.locator("#calls")).to_have_text(str(month_report(served, "acme", "2026-04").calls))
    sync_api.expect(page.locator("svg#calls-chart g.day")).to_have_count(30)


def test_the_operator_compares_clients_and_downloads_the_csv(served: Served, browser, tmp_path: Path) -> None:
    page = logged_in(browser, served, served.operator_token, language="en-GB")
    page.click("#nav-reports")
    page.fill("#month", "2026-03")
    page.click("#month-button")
    row = page.locator('#clients tr[data-client="acme"]')
    sync_api.expect(row).to_contain_text("Clínica Acme")
    sync_api.expect(row.locator(".badge")).to_be_visible()  # above the four minutes
    sync_api.expect(page.locator('#clients tr[data-client="gama"] .badge')).to_have_count(0)
    shot(page, "operator-reports.png")
    with page.expect_download() as download:
        page.click("#csv")
    saved = tmp_path / "march.csv"
    download.value.save_as(saved)
    with served.store.connect() as conn:
        assert saved.read_bytes().decode() == reports.operator_month_csv(conn, "2026-03")


def test_the_client_switches_a_destination_to_a_digest(
    served: Served, browser, mail_relay: MailRelay  # noqa: F811
) -> None:
    page = logged_in(browser, served, served.client_token, language="en-GB")
    page.goto(f"{served.url}/portal/acme/destinations/mail")
    page.fill("#settings", 'to: [rececao@acme.example]\ndelivery: digest\ndigest_times: ["09:00", "1pm"]\n')
    page.click("#save-button")
    sync_api.expect(page.locator("#error")).to_contain_text("'1pm' is not a time of day (expected HH:MM")
    page.fill("#settings", 'to: [rececao@acme.example]\ndelivery: digest\ndigest_times: ["09:00", "13:00", "18:00"]\n')
    page.click("#test-button")
    sync_api.expect(page.locator("#test-result")).to_contain_text("delivered")
    [test] = mail_relay.to("rececao@acme.example")
    assert str(test["Subject"]).startswith("[Teste] 1 chamada desde o último resumo")  # a digest of one
    page.click("#save-button")
    sync_api.expect(page.locator(".flash")).to_be_visible()
    sync_api.expect(page.locator("#settings")).to_contain_text("delivery: digest")
    shot(page, "portal-destination-digest.png")


def test_the_report_and_digest_emails_as_a_mail_reader_shows_them(
    served: Served,
    browser,
    mail_relay: MailRelay,  # noqa: F811
) -> None:
    send_month_reports(served.store, "2026-03", now=AFTER, tariff=Settings().tariff, client_ids=["acme"])
    for _ in range(100):
        if any(str(m["Subject"]).startswith("Relatório") for m in mail_relay.to("gerencia@acme.example")):
            break
        threading.Event().wait(0.1)
    [report] = [m for m in mail_relay.to("gerencia@acme.example") if str(m["Subject"]).startswith("Relatório")]
    html = report.get_body(("html",))
    assert html is not None
    page = browser.new_page(viewport={"width": 760, "height": 900})
    page.set_content(str(html.get_content()))
    sync_api.expect(page.get_by_role("heading", name="Chamadas por dia")).to_be_visible()
    shot(page, "report-email.png")

    batch = make_batch(3, account=sample_account(balance_cents=15_150, answered=3))
    digest = build_digest(
        batch, [digest_item(d, "pt") for d in batch], sender="recado@localhost", recipients=["x@y.pt"]
    )
    body = digest.get_body(("html",))
    assert body is not None
    page.set_content(str(body.get_content()))
    sync_api.expect(page.get_by_role("heading", name="Resumo de chamadas de Clínica Acme")).to_be_visible()
    shot(page, "digest-email.png")
