"""Invoices on the web: the applicant's public page and PDF, the client's invoices and renewal in the portal.

`/invoices/{token}` needs no login: the token is 32 random URL-safe characters, known only
to whoever got the link (the applicant's browser, the invoice email). The portal's pages
need the client's (or the operator's) session like the rest of the portal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from hub.core import did_pool, invoices, signups
from hub.core import store as t
from hub.core.invoice_pdf import render_pdf
from hub.core.invoice_render import render_html
from hub.core.invoices import Invoice
from hub.core.welcome import format_number
from hub.web.context import check_csrf, web
from hub.web.errors import ApiError
from hub.web.i18n import LANGUAGES, language
from hub.web.pages import render
from hub.web.portal import ClientId, client_in_reach
from hub.web.signup import SECRET_COOKIE, payment_methods
from hub.web.signup_texts import text

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _lang(request: Request, lang: str | None) -> str:
    return lang if lang in LANGUAGES else language(request)


def _by_token(request: Request, token: str) -> tuple[Invoice, dict[str, Any] | None]:
    with web(request).store.connect() as conn:
        invoice = invoices.by_token(conn, token)
        signup = None
        if invoice is not None:
            row = conn.execute(
                select(t.signups.c.status, t.signups.c.did).where(t.signups.c.invoice == invoice.number)
            ).first()
            signup = None if row is None else {"status": row.status, "did": row.did}
    if invoice is None:
        raise ApiError(404, "no such invoice: use the link you were given")
    return invoice, signup


def _pdf_response(invoice: Invoice, lang: str, *, download: bool) -> Response:
    filename = f"fatura-{invoice.number.replace('/', '-')}.pdf"
    disposition = "attachment" if download else "inline"
    return Response(
        render_pdf(invoice, lang),
        media_type="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"', "Cache-Control": "private"},
    )


@router.get("/invoices/{token}.pdf")
async def public_invoice_pdf(request: Request, token: Token, lang: str | None = None) -> Response:
    """The invoice of a public link as PDF."""
    invoice, _signup = await run_in_threadpool(_by_token, request, token)
    return await run_in_threadpool(_pdf_response, invoice, _lang(request, lang), download=False)


def _state(invoice: Invoice, signup: dict[str, Any] | None, lang: str) -> str:
    if invoice.status == invoices.CANCELLED:
        return text(lang, "state_cancelled")
    if invoice.kind == invoices.RENEWAL:
        return text(lang, "state_renewed") if invoice.fulfilled_at else text(lang, "state_pending")
    status = (signup or {}).get("status") or "pending"
    if status == "active":
        return text(lang, "state_active", number=format_number(str((signup or {}).get("did") or "")))
    if invoice.status == invoices.PAID and status in ("waiting_for_did", "failed"):
        return text(lang, f"state_{status}")
    return text(lang, "state_pending")


@router.get("/invoices/{token}", response_class=HTMLResponse)
def public_invoice(request: Request, token: Token) -> Response:
    """The invoice of a public link: how to pay it, and where the sign-up stands."""
    invoice, signup = _by_token(request, token)
    lang = language(request)
    secret = request.cookies.get(SECRET_COOKIE)
    response = render(
        request,
        "invoice_public.html",
        s=lambda key, **kw: text(lang, key, **kw),
        invoice=invoice,
        invoice_html=render_html(invoice, lang),
        state=_state(invoice, signup, lang),
        active=(signup or {}).get("status") == "active",
        card="card" in payment_methods(web(request)) and invoice.status == invoices.ISSUED,
        token=token,
        webhook_secret=secret,
    )
    response.headers["Cache-Control"] = "no-store"
    if secret:
        response.delete_cookie(SECRET_COOKIE, path=f"/invoices/{token}")
    return response


# -- the portal -----------------------------------------------------------------------


def _slug(number: str) -> str:
    return number.replace("/", "-")


@router.get("/portal/{client_id}/invoices", response_class=HTMLResponse)
def portal_invoices(request: Request, client_id: ClientId) -> Response:
    """The client's invoices with their PDFs, and the renewal form."""
    principal, csrf, client = client_in_reach(request, client_id)
    context = web(request)
    lang = language(request)
    with context.store.connect() as conn:
        found = invoices.listing(conn, client=client_id)
    tariff = context.settings.tariff
    return render(
        request,
        "portal_invoices.html",
        principal=principal,
        csrf=csrf,
        client=client,
        s=lambda key, **kw: text(lang, key, **kw),
        invoices=[{"invoice": invoice, "slug": _slug(invoice.number)} for invoice in found],
        plans=sorted(tariff.plans, key=lambda name: -tariff.plan_months[name]),
        plan_months=tariff.plan_months,
        methods=payment_methods(context),
        can_renew=not context.settings.billing.missing(),
    )


@router.get("/portal/{client_id}/invoices/{slug}.pdf")
def portal_invoice_pdf(
    request: Request,
    client_id: ClientId,
    slug: Annotated[str, Path(pattern=r"^\d{4}-\d{6}$")],
    lang: str | None = None,
) -> Response:
    """One of the client's invoices as PDF."""
    client_in_reach(request, client_id)
    with web(request).store.connect() as conn:
        invoice = invoices.get(conn, slug.replace("-", "/", 1))
    if invoice is None or invoice.client != client_id:
        raise ApiError(404, f"no invoice {slug!r}")
    return _pdf_response(invoice, _lang(request, lang), download=True)


@router.post("/portal/{client_id}/renew")
def portal_renew(
    request: Request,
    client_id: ClientId,
    plan: Annotated[str, Form(max_length=16)] = "",
    method: Annotated[str, Form(max_length=16)] = signups.TRANSFER,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Issue a renewal invoice (or find the unpaid one) and go to it; card goes straight to the checkout."""
    _principal, expected, _client = client_in_reach(request, client_id)
    check_csrf(expected, csrf)
    context = web(request)
    if context.settings.billing.missing():
        raise ApiError(503, text(language(request), "closed"))
    if plan not in context.settings.tariff.plans:
        raise ApiError(422, f"plan: expected one of {', '.join(sorted(context.settings.tariff.plans))}")
    if method not in payment_methods(context):
        raise ApiError(422, f"method: expected one of {', '.join(payment_methods(context))}")
    invoice = signups.create_renewal(context.store, client_id, plan, method, context.settings, datetime.now(UTC))
    token = invoice.public_token
    return RedirectResponse(f"/pay/{token}/card" if method == "card" else f"/invoices/{token}", status_code=303)


# -- the operator's dashboard -----------------------------------------------------------


def dashboard_section(conn: Connection) -> dict[str, Any]:
    """What the dashboard shows of sign-ups and payments: who is not active yet, what matched nothing."""
    waiting = [row for row in signups.list_signups(conn) if row["status"] not in ("active", "cancelled")]
    unmatched = conn.execute(select(func.count()).where(t.payments.c.status == "unmatched")).scalar_one()
    return {"signups": waiting[:20], "unmatched": int(unmatched), "free_numbers": did_pool.free_count(conn)}
