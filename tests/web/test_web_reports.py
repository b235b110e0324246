"""Monthly reports on the web: the client's page, the operator's page and CSV, the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from hub.core import reports
from hub.web.context import WebContext

THIS_MONTH = reports.current_month(datetime.now(UTC))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_client_sees_its_month_with_the_chart_and_figures(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1")
    call_answered("acme", "a2")
    page = http.get("/portal/acme/report", headers=bearer(tokens.acme) | {"Accept-Language": "en"})
    assert page.status_code == 200
    assert '<div class="value" id="calls">2</div>' in page.text
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="calls-chart"' in page.text
    assert page.text.count('<g class="day"') == len(reports.month_days(THIS_MONTH))
    assert "The tariff assumes an average of at most 4 min 00 s." in page.text


def test_the_report_page_is_in_portuguese_for_portuguese_browsers(http: TestClient, tokens) -> None:
    page = http.get("/portal/acme/report?month=2026-03", headers=bearer(tokens.acme) | {"Accept-Language": "pt-PT"})
    assert "Relatório mensal · Clínica Acme" in page.text and "março de 2026" in page.text


def test_a_bad_month_is_refused_with_its_format(http: TestClient, tokens) -> None:
    page = http.get("/portal/acme/report?month=2026-13", headers=bearer(tokens.acme))
    assert page.status_code == 422
    assert "expected YYYY-MM" in page.text


def test_the_api_gives_a_clients_report_as_json(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1")
    found = http.get(f"/api/v1/clients/acme/reports/{THIS_MONTH}", headers=bearer(tokens.acme)).json()
    assert (found["client"], found["month"], found["calls"], found["answered"]) == ("acme", THIS_MONTH, 1, 1)
    assert found["talk_seconds_average"] == 85  # the sample call talks from 5 s to 90 s


def test_another_client_gets_404_from_every_report_of_a_client(http: TestClient, tokens) -> None:
    for url in ("/portal/acme/report?month=2026-03", "/api/v1/clients/acme/reports/2026-03"):
        assert http.get(url, headers=bearer(tokens.beta)).status_code == 404, url
        assert http.get(url, headers=bearer(tokens.agent)).status_code == 404, url


def test_the_operator_downloads_the_months_csv(http: TestClient, tokens, call_answered) -> None:
    call_answered("acme", "a1")
    for url in (f"/api/v1/reports/{THIS_MONTH}.csv", f"/dashboard/reports/{THIS_MONTH}.csv"):
        response = http.get(url, headers=bearer(tokens.operator))
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert f'filename="recado-{THIS_MONTH}.csv"' in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [(row["client"], row["answered"]) for row in rows] == [("acme", "1"), ("beta", "0")]


def test_clients_and_agents_cannot_download_the_operators_csv(http: TestClient, tokens) -> None:
    for token in (tokens.acme, tokens.agent):
        for url in ("/api/v1/reports/2026-03.csv", "/dashboard/reports/2026-03.csv", "/dashboard/reports"):
            assert http.get(url, headers=bearer(token)).status_code == 403, url


def test_the_operator_page_lists_every_client_with_links(http: TestClient, tokens, web_context: WebContext) -> None:
    page = http.get("/dashboard/reports?month=2026-03", headers=bearer(tokens.operator) | {"Accept-Language": "en"})
    assert page.status_code == 200
    assert '<tr data-client="acme">' in page.text and '<tr data-client="beta">' in page.text
    assert 'href="/dashboard/reports/2026-03.csv"' in page.text
    assert 'href="/portal/acme/report?month=2026-03"' in page.text
