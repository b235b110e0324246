"""The client portal: the account at a glance, records, deliveries and the statement."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from hub.core import accounts, blocklist, directory, ledger, outbox
from hub.core import store as t
from hub.core.clients import Client
from hub.core.models import Disposition
from hub.core.store import from_db
from hub.web import queries
from hub.web.context import check_csrf, page_principal, require_client, web
from hub.web.errors import ApiError
from hub.web.pages import render
from hub.web.tokens import Principal

LISBON = ZoneInfo("Europe/Lisbon")
router = APIRouter(prefix="/portal", include_in_schema=False)
ClientId = Annotated[str, Path(max_length=64)]


def client_in_reach(request: Request, client_id: str) -> tuple[Principal, str | None, Client]:
    """The principal, its CSRF secret and the client, or 404 when the client is out of reach."""
    principal, csrf = page_principal(request)
    require_client(principal, client_id)
    with web(request).store.connect() as conn:
        client = directory.get_client(conn, client_id)
    if client is None:
        raise ApiError(404, f"no client {client_id!r}")
    return principal, csrf, client


def _day(value: str | None, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, f"{'until' if end else 'since'}: {value!r} is not a date (YYYY-MM-DD)") from None
    moment = datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=LISBON)
    return moment.astimezone(UTC)


def _disposition(value: str | None) -> str | None:
    if not value:
        return None
    if value not in {d.value for d in Disposition}:
        raise ApiError(422, f"disposition: expected one of {', '.join(d.value for d in Disposition)}")
    return value


@router.get("/{client_id}", response_class=HTMLResponse)
def overview(request: Request, client_id: ClientId, flash: str | None = None) -> Response:
    """Balance, calls this month, next call price, contract end and the latest records."""
    principal, csrf, client = client_in_reach(request, client_id)
    context = web(request)
    with context.store.connect() as conn:
        account = accounts.show(conn, client_id, datetime.now(UTC), context.settings.tariff)
        latest = queries.list_records(conn, queries.RecordFilter(client=client_id, limit=10))
        blocked = blocklist.listing(conn, client_id)
    return render(
        request,
        "portal_overview.html",
        principal=principal,
        csrf=csrf,
        client=client,
        account=account,
        records=latest,
        blocked=blocked,
        flash=flash,
    )


@router.post("/{client_id}/blocked")
def block_number(
    request: Request,
    client_id: ClientId,
    number: Annotated[str, Form(max_length=32)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    unblock: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Block a caller (their calls are refused, free), or let them through again with `unblock`."""
    _principal, expected, _client = client_in_reach(request, client_id)
    check_csrf(expected, csrf)
    if not number.strip():
        raise ApiError(422, "number: a phone number is required")
    try:
        with web(request).store.begin() as conn:
            if unblock:
                blocklist.unblock(conn, client_id, number)
            else:
                blocklist.block(conn, client_id, number)
    except ValueError as exc:
        raise ApiError(422, f"number: {exc}") from None
    flash = "unblocked" if unblock else "blocked"
    return RedirectResponse(f"/portal/{client_id}?flash={flash}", status_code=303)


@router.get("/{client_id}/records", response_class=HTMLResponse)
def records(
    request: Request,
    client_id: ClientId,
    q: str | None = None,
    disposition: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    """The records history with search."""
    principal, csrf, client = client_in_reach(request, client_id)
    where = queries.RecordFilter(
        client=client_id,
        since=_day(since),
        until=_day(until, end=True),
        disposition=_disposition(disposition),
        text=(q or "")[:200] or None,
        limit=500,
    )
    with web(request).store.connect() as conn:
        found = queries.list_records(conn, where)
    query = request.url.query
    return render(
        request,
        "portal_records.html",
        principal=principal,
        csrf=csrf,
        client=client,
        records=found,
        q=q or "",
        disposition=disposition or "",
        since=since or "",
        until=until or "",
        dispositions=[d.value for d in Disposition],
        csv_link=f"/portal/{client_id}/records.csv" + (f"?{query}" if query else ""),
    )


@router.get("/{client_id}/records.csv")
def records_csv(
    request: Request,
    client_id: ClientId,
    q: str | None = None,
    disposition: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    """The records history as CSV, with the same search."""
    client_in_reach(request, client_id)
    where = queries.RecordFilter(
        client=client_id,
        since=_day(since),
        until=_day(until, end=True),
        disposition=_disposition(disposition),
        text=(q or "")[:200] or None,
        limit=100_000,
    )
    with web(request).store.connect() as conn:
        found = queries.list_records(conn, where)
    return Response(
        queries.records_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{client_id}-records.csv"'},
    )


@router.get("/{client_id}/records/{record_id}", response_class=HTMLResponse)
def record(
    request: Request, client_id: ClientId, record_id: Annotated[str, Path(max_length=64)], flash: str | None = None
) -> Response:
    """One record and its delivery log per destination, with replay."""
    principal, csrf, client = client_in_reach(request, client_id)
    with web(request).store.connect() as conn:
        found = queries.get_record(conn, record_id)
        if found is None or found["client"] != client_id:
            raise ApiError(404, f"no record {record_id!r}")
        deliveries = queries.deliveries_of_record(conn, record_id)
    return render(
        request,
        "portal_record.html",
        principal=principal,
        csrf=csrf,
        client=client,
        record=found,
        deliveries=deliveries,
        flash=flash,
    )


@router.post("/{client_id}/deliveries/{delivery_id}/replay")
def replay(
    request: Request,
    client_id: ClientId,
    delivery_id: Annotated[int, Path(ge=1, le=2**62)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Send a dead delivery of this client again."""
    _principal, expected, _client = client_in_reach(request, client_id)
    check_csrf(expected, csrf)
    store = web(request).store
    with store.connect() as conn:
        row = queries.delivery_row(conn, delivery_id)
    if row is None or row.client != client_id:
        raise ApiError(404, f"no delivery {delivery_id}")
    if row.status != outbox.DEAD:
        raise ApiError(409, f"delivery {delivery_id} is {row.status}; only dead deliveries are replayed")
    outbox.replay(store, ids=[delivery_id])
    target = f"/portal/{client_id}/records/{row.record_id}" if row.record_id else f"/portal/{client_id}"
    return RedirectResponse(target, status_code=303)


@router.get("/{client_id}/statement", response_class=HTMLResponse)
def statement(request: Request, client_id: ClientId) -> Response:
    """Ledger entries and the documents (invoices) of purchases."""
    principal, csrf, client = client_in_reach(request, client_id)
    with web(request).store.connect() as conn:
        entries = ledger.statement(conn, client_id)
        documents: list[dict[str, Any]] = [
            dict(row.body) | {"at": (from_db(row.at) or datetime.now(UTC)).isoformat()}
            for row in conn.execute(
                select(t.documents).where(t.documents.c.client == client_id).order_by(t.documents.c.id)
            )
        ]
    return render(
        request,
        "portal_statement.html",
        principal=principal,
        csrf=csrf,
        client=client,
        entries=list(reversed(entries)),
        documents=list(reversed(documents)),
    )
