"""Monthly reports on the web: the client's report page, the operator's page and CSV, the API.

Pages: `/portal/{client}/report?month=YYYY-MM` (the client, or an operator) and
`/dashboard/reports?month=YYYY-MM` with `/dashboard/reports/{month}.csv` (operators).
API: `GET /api/v1/clients/{client}/reports/{month}` (JSON, within the token's reach) and
`GET /api/v1/reports/{month}.csv` (operators).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from hub.core import ledger, reports
from hub.core.clock import now_for_reports, now_for_views
from hub.core.report_chart import svg_chart
from hub.core.report_words import WORDS, duration, label, language_of, month_name, talk_sentence
from hub.web.api import Who
from hub.web.context import page_principal, require, require_client, web
from hub.web.errors import ApiError
from hub.web.i18n import language
from hub.web.pages import render
from hub.web.portal import ClientId, client_in_reach
from hub.web.tokens import Principal, Role

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"])

MonthPath = Annotated[str, Path(max_length=7, description="The month, YYYY-MM (Lisbon calendar).")]
MonthQuery = Annotated[str | None, Query(max_length=7, description="The month, YYYY-MM. Default: this month.")]


def _month(value: str | None, request: Request) -> str:
    if not value:
        with web(request).store.connect() as conn:
            return reports.current_month(now_for_views(conn))
    try:
        return reports.parse_month(value)
    except ValueError as exc:
        raise ApiError(422, f"month: {exc}") from None


def _report(request: Request, client_id: str, month: str) -> reports.MonthReport:
    context = web(request)
    try:
        with context.store.connect() as conn:
            return reports.month_report(
                conn, client_id, month, tariff=context.settings.tariff, now=now_for_reports(conn)
            )
    except ledger.UnknownAccount:
        raise ApiError(404, f"no client {client_id!r}") from None


def _csv_response(request: Request, month: str) -> Response:
    context = web(request)
    with context.store.connect() as conn:
        text = reports.operator_month_csv(conn, month, tariff=context.settings.tariff, now=now_for_reports(conn))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="recado-{month}.csv"'},
    )


def _page_words(lang: str, report: reports.MonthReport) -> dict[str, Any]:
    words = WORDS[language_of(lang)]
    return {
        "w": words,
        "label": lambda key: label(key, lang),
        "duration": duration,
        "month_title": month_name(report.month, lang),
        "talk_line": talk_sentence(report, lang),
        "balance_end_label": words["balance_end"] if report.complete else words["balance_so_far"],
    }


@pages.get("/portal/{client_id}/report", response_class=HTMLResponse)
def client_report_page(request: Request, client_id: ClientId, month: MonthQuery = None) -> Response:
    """The client's monthly report: figures, the talk-time line, the chart of calls per day."""
    principal, csrf, client = client_in_reach(request, client_id)
    chosen = _month(month, request)
    report = _report(request, client_id, chosen)
    lang = language(request)
    words = _page_words(lang, report)
    chart = svg_chart(
        report.days,
        title=f"{words['w']['per_day']} — {words['month_title']}",
        answered_label=words["w"]["answered"],
        other_label=words["w"]["other"],
    )
    return render(
        request,
        "portal_report.html",
        principal=principal,
        csrf=csrf,
        client=client,
        report=report,
        chart=Markup(chart),  # built from numbers and escaped labels only
        **words,
    )


def _operator(request: Request) -> tuple[Principal, str | None]:
    principal, csrf = page_principal(request)
    require(principal, Role.OPERATOR)
    return principal, csrf


@pages.get("/dashboard/reports", response_class=HTMLResponse)
def operator_report_page(request: Request, month: MonthQuery = None) -> Response:
    """Every client's month in one table, with the CSV to download."""
    principal, csrf = _operator(request)
    chosen = _month(month, request)
    context = web(request)
    with context.store.connect() as conn:
        found = reports.operator_reports(conn, chosen, tariff=context.settings.tariff, now=now_for_reports(conn))
    lang = language(request)
    return render(
        request,
        "dashboard_reports.html",
        principal=principal,
        csrf=csrf,
        month=chosen,
        month_title=month_name(chosen, lang),
        rows=[reports.operator_row(report) for report in found],
        w=WORDS[language_of(lang)],
        label=lambda key: label(key, lang),
        duration=duration,
        limit=context.settings.tariff.average_talk_limit_s,
    )


@pages.get("/dashboard/reports/{month}.csv")
def operator_report_csv(request: Request, month: MonthPath) -> Response:
    """The operator's month across clients as CSV (columns in docs/reports.md)."""
    _operator(request)
    return _csv_response(request, _month(month, request))


@api.get(
    "/reports/{month}.csv",
    summary="The month across clients (CSV)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def api_operator_csv(request: Request, month: MonthPath, who: Who) -> Response:
    """One line per client: calls by disposition, outbound, average talk, spend and balance (operators only)."""
    require(who, Role.OPERATOR)
    return _csv_response(request, _month(month, request))


@api.get("/clients/{client_id}/reports/{month}", summary="A client's monthly report")
def api_client_report(request: Request, client_id: str, month: MonthPath, who: Who) -> dict[str, Any]:
    """Calls by disposition and category, talk time and its alert, outbound, spend, balances, calls per day."""
    require_client(who, client_id)
    return _report(request, client_id, _month(month, request)).model_dump(mode="json")
