"""The operator dashboard: live calls, agents, the outbox, dead letters, clients needing attention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from hub.core import accounts, directory, ledger, notices, outbox
from hub.core import store as t
from hub.core.engine import OPEN_STATES
from hub.core.privacy import mask_phone
from hub.core.store import from_db
from hub.core.tariff import document_for_topup
from hub.web import invoice_pages
from hub.web.context import WebContext, check_csrf, page_principal, require, web
from hub.web.errors import ApiError
from hub.web.i18n import language
from hub.web.pages import render
from hub.web.signup_texts import text as signup_text
from hub.web.tokens import Principal, Role

router = APIRouter(prefix="/dashboard", include_in_schema=False)


def _operator(request: Request) -> tuple[Principal, str | None]:
    principal, csrf = page_principal(request)
    require(principal, Role.OPERATOR)
    return principal, csrf


def live_calls(context: WebContext) -> list[dict[str, Any]]:
    """Calls not yet final, oldest first (caller numbers masked)."""
    with context.store.connect() as conn:
        rows = conn.execute(
            select(t.calls).where(t.calls.c.state.in_(OPEN_STATES)).order_by(t.calls.c.updated_at)
        ).all()
    return [
        {
            "call_id": row.call_id,
            "client": row.client,
            "state": row.state,
            "caller": mask_phone(row.data.get("caller")),
            "agent": row.data.get("agent"),
            "since": row.data.get("offered_at"),
        }
        for row in rows
    ]


def attention(context: WebContext) -> list[dict[str, Any]]:
    """Clients whose service is interrupted or whose balance covers few calls."""
    now = datetime.now(UTC)
    threshold = context.settings.engine.low_balance_calls
    found = []
    with context.store.connect() as conn:
        for client in directory.list_clients(conn):
            account = ledger.lock_account(conn, client.id, for_update=False)
            price = accounts.next_call_price(conn, client, now, context.settings.tariff)
            calls_left = account.available_cents // price if price else None
            low = calls_left is not None and calls_left < threshold
            if account.interrupted or low:
                found.append(
                    {
                        "id": client.id,
                        "name": client.name,
                        "balance_cents": account.balance_cents,
                        "interrupted": account.interrupted,
                        "calls_left": calls_left,
                    }
                )
    return found


def outbox_view(context: WebContext) -> dict[str, Any]:
    """Rows by status, the age of the oldest pending one and the latest dead letters."""
    with context.store.connect() as conn:
        counts = outbox.counts(conn)
        oldest = from_db(
            conn.execute(select(func.min(t.outbox.c.created_at)).where(t.outbox.c.status == outbox.PENDING)).scalar()
        )
        dead = outbox.list_rows(conn, status=outbox.DEAD)[-50:]
        alerts = notices.list_alerts(conn)[:10]
    age = int((datetime.now(UTC) - oldest).total_seconds()) if oldest else 0
    return {"counts": counts, "oldest_s": age, "dead": list(reversed(dead)), "alerts": alerts}


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, flash: str | None = None) -> Response:
    """The whole dashboard."""
    principal, csrf = _operator(request)
    context = web(request)
    states: dict[str, str] = context.extras.get("agent_states", lambda: {})()
    with context.store.connect() as conn:
        clients = directory.list_clients(conn)
        billing = invoice_pages.dashboard_section(conn)
    return render(
        request,
        "dashboard.html",
        principal=principal,
        csrf=csrf,
        calls=live_calls(context),
        agents=sorted(states.items()),
        box=outbox_view(context),
        attention=attention(context),
        clients=clients,
        topups=[cents // 100 for cents in context.settings.tariff.topups],
        console=bool(context.extras.get("demo_calls")),
        flash=flash,
        billing=billing,
        s=lambda key, **kw: signup_text(language(request), key, **kw),
    )


@router.get("/live", response_class=HTMLResponse)
def live(request: Request) -> Response:
    """The live part of the dashboard (calls, agents, outbox), refreshed by the page."""
    principal, csrf = _operator(request)
    context = web(request)
    states: dict[str, str] = context.extras.get("agent_states", lambda: {})()
    return render(
        request,
        "_dashboard_live.html",
        principal=principal,
        csrf=csrf,
        calls=live_calls(context),
        agents=sorted(states.items()),
        box=outbox_view(context),
    )


@router.post("/topup")
def topup(
    request: Request,
    client: Annotated[str, Form(max_length=64)],
    amount_eur: Annotated[int, Form(ge=1, le=100_000)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Top up a client's balance (an interrupted service resumes when it covers a call)."""
    _principal, expected = _operator(request)
    check_csrf(expected, csrf)
    context = web(request)
    try:
        document = document_for_topup(amount_eur, config=context.settings.tariff)
        accounts.purchase(
            context.store,
            context.plugins.registry,
            client,
            document,
            datetime.now(UTC),
            context.settings.tariff,
            context.plugins.call_guarded,
        )
    except ledger.UnknownAccount:
        raise ApiError(404, f"no client {client!r}") from None
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    return RedirectResponse(f"/dashboard?flash=topup+{client}+{amount_eur}+EUR", status_code=303)


@router.post("/deliveries/{delivery_id}/replay")
def replay(
    request: Request,
    delivery_id: Annotated[int, Path(ge=1, le=2**62)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Send a dead letter again."""
    _principal, expected = _operator(request)
    check_csrf(expected, csrf)
    count = outbox.replay(web(request).store, ids=[delivery_id])
    if not count:
        raise ApiError(404, f"no dead delivery {delivery_id}")
    return RedirectResponse("/dashboard", status_code=303)
