"""Invoices paid by card: the redirect to the provider's checkout, the return page, the providers' webhooks.

- ``GET /pay/{token}/card`` opens (or finds again) the invoice's checkout at the
  configured payment method and sends the browser there.
- ``GET /pay/{token}/done?method=…&checkout=…`` is where the provider sends the
  browser back: the hub asks the provider whether the checkout is paid and, if
  it is, marks the invoice paid, which activates the sign-up. Activation thus
  never waits for a webhook.
- ``POST /payments/{kind}/webhook`` is where the provider reports payments on
  its own (the browser may never come back). Calls with a bad signature get 400;
  calls about an invoice the hub does not know get 200 and a warning in the log,
  because the provider would retry a failing call for days and no retry can make
  the invoice appear.

Marking an invoice paid is idempotent, so the return page and the webhook may
both arrive, in any order, any number of times.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.core import invoices
from hub.core.billing import ActivationResult, UnknownInvoice, mark_invoice_paid
from hub.core.invoices import LISBON, Invoice
from hub.payment_methods import Unavailable, build_method
from hub.payments import CHECKOUT_ID, CheckoutRequest, InvalidWebhook, PaymentError, PaymentMethod
from hub.web.context import WebContext, web
from hub.web.errors import error_body
from hub.web.i18n import language
from hub.web.pages import render
from hub.web.payment_texts import PROBLEMS, text

log = logging.getLogger(__name__)
router = APIRouter()

#: How `mark_invoice_paid` records a payment made through any payment method.
CARD = "card"
#: Checkouts that expire within this margin are not handed out: the applicant needs time to type.
EXPIRY_MARGIN = timedelta(minutes=10)
#: At most this many checkouts per invoice (one per expired one); far more than anyone retries.
MAX_CHECKOUTS = 20

Token = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _page(
    request: Request,
    outcome: str,
    *,
    status: int = 200,
    invoice: Invoice | None = None,
    token: str = "",
    more: tuple[str, ...] = (),
    retry: bool = False,
    **values: Any,
) -> HTMLResponse:
    """The payment page for `outcome` (paid, pending, unavailable, …) in the applicant's language.

    `more` adds lines after the outcome's own; `values` fill their placeholders.
    """
    lang = language(request)
    values["number"] = invoice.number if invoice else ""
    return render(
        request,
        "payment.html",
        status_code=status,
        outcome=outcome,
        problem=outcome in PROBLEMS,
        heading=text(lang, f"{outcome}_title"),
        lines=[text(lang, key, **values) for key in (outcome, *more)],
        invoice=invoice,
        token=token,
        retry=retry,
        labels={key: text(lang, key) for key in ("invoice", "amount", "see_invoice", "try_again")},
    )


def _result_page(request: Request, result: ActivationResult, invoice: Invoice, token: str) -> HTMLResponse:
    """What the applicant reads once the invoice was marked paid (or could not be)."""
    ends = result.contract_ends_at.astimezone(LISBON).date().isoformat() if result.contract_ends_at else ""
    if result.state == "amount_mismatch":
        return _page(request, "review", status=409, invoice=invoice, token=token)
    if result.state == "cancelled":
        return _page(request, "cancelled", status=410, invoice=invoice, token=token)
    if not result.fulfilled:
        more: tuple[str, ...] = ("finishing",)
    elif invoice.kind == invoices.SIGNUP:
        more = ("activated",) if result.did else ()
    else:
        more = ("renewed",) if ends else ()
    return _page(request, "paid", invoice=invoice, token=token, more=more, did=result.did or "", ends=ends)


def _base_url(context: WebContext, request: Request) -> str:
    # The checkout's URLs must not depend on how this request reached us: they are part of
    # the parameters that the provider's idempotency compares.
    configured = context.settings.billing.public_url
    return configured or str(request.base_url).rstrip("/")


def checkout_request(invoice: Invoice, *, kind: str, token: str, base_url: str, key: str) -> CheckoutRequest:
    """What to ask the provider for `invoice`: the gross amount, back to the done page or the invoice."""
    seller = str(invoice.seller.get("name") or "Recado")
    return CheckoutRequest(
        invoice_number=invoice.number,
        amount_cents=invoice.gross_cents,
        currency="EUR",
        description=f"{seller} — fatura / invoice {invoice.number}",
        customer_email=invoice.buyer.get("email") or None,
        success_url=f"{base_url}/pay/{token}/done?method={kind}&checkout={CHECKOUT_ID}",
        cancel_url=f"{base_url}/invoices/{token}",
        idempotency_key=key,
    )


async def open_checkout(method: PaymentMethod, invoice: Invoice, *, token: str, base_url: str) -> str:
    """The URL of a checkout of `invoice` that can still be paid.

    The first key is the invoice number, so repeated clicks share one checkout. A
    provider replays the first answer for a key while it remembers it, even after
    that checkout expired; then the next key (``number/2``, …) opens a fresh one.
    """
    for attempt in range(1, MAX_CHECKOUTS + 1):
        key = invoice.number if attempt == 1 else f"{invoice.number}/{attempt}"
        wanted = checkout_request(invoice, kind=method.kind, token=token, base_url=base_url, key=key)
        checkout = await method.create_checkout(wanted)
        if checkout.expires_at is None or checkout.expires_at > datetime.now(UTC) + EXPIRY_MARGIN:
            return checkout.url
    raise PaymentError(f"the last {MAX_CHECKOUTS} checkouts of invoice {invoice.number} have all expired")


def _invoice_by_token(context: WebContext, token: str) -> Invoice | None:
    with context.store.connect() as conn:
        return invoices.by_token(conn, token)


async def _mark_paid(
    context: WebContext, number: str, *, amount_cents: int, reference: str, method: str = CARD
) -> ActivationResult:
    return await run_in_threadpool(
        partial(
            mark_invoice_paid,
            context.store,
            context.plugins.registry,
            number,
            amount_cents=amount_cents,
            method=method,
            reference=reference,
            at=datetime.now(UTC),
            settings=context.settings,
            notify=context.plugins.call_guarded,
        )
    )


# ------------------------------------------------------------------ routes


@router.get("/pay/{token}/card", include_in_schema=False)
async def pay_by_card(request: Request, token: Token, method: str | None = None) -> Response:
    """Send the applicant to the payment method's checkout for the invoice of `token`."""
    context = web(request)
    invoice = await run_in_threadpool(_invoice_by_token, context, token)
    if invoice is None:
        return _page(request, "unknown", status=404)
    if invoice.status == invoices.PAID:
        return RedirectResponse(f"/invoices/{token}", status_code=303)
    if invoice.status == invoices.CANCELLED:
        return _page(request, "cancelled", status=410, invoice=invoice, token=token)
    try:
        payment = build_method(context.plugins.registry, context.settings, method)
    except Unavailable as exc:
        log.error("card payment of invoice %s impossible: %s", invoice.number, exc)
        return _page(request, "unavailable", status=503, invoice=invoice, token=token)
    try:
        url = await open_checkout(payment, invoice, token=token, base_url=_base_url(context, request))
    except PaymentError as exc:
        log.warning("checkout of invoice %s at %s failed: %s", invoice.number, payment.kind, exc)
        key = "provider_down" if exc.retriable else "unavailable"
        return _page(request, key, status=502, invoice=invoice, token=token, retry=exc.retriable)
    finally:
        await payment.aclose()
    return RedirectResponse(url, status_code=303)


@router.get("/pay/{token}/done", include_in_schema=False)
async def payment_done(
    request: Request,
    token: Token,
    method: str | None = None,
    checkout: Annotated[str | None, Query(max_length=255)] = None,
) -> Response:
    """Where the provider sends the applicant back: confirm the payment with the provider, mark the invoice paid."""
    context = web(request)
    invoice = await run_in_threadpool(_invoice_by_token, context, token)
    if invoice is None:
        return _page(request, "unknown", status=404)
    if invoice.status == invoices.PAID:
        # Paid already (the webhook came first): the same idempotent step says where activation stands.
        result = await _mark_paid(
            context,
            invoice.number,
            amount_cents=invoice.paid_cents or invoice.gross_cents,
            method=invoice.paid_method or CARD,
            reference=invoice.paid_reference or "",
        )
        return _result_page(request, result, invoice, token)
    if invoice.status == invoices.CANCELLED:
        return _page(request, "cancelled", status=410, invoice=invoice, token=token)
    if not checkout:
        return _page(request, "pending", invoice=invoice, token=token)
    try:
        payment = build_method(context.plugins.registry, context.settings, method)
    except Unavailable as exc:
        log.error("cannot confirm the card payment of invoice %s: %s", invoice.number, exc)
        return _page(request, "pending", status=503, invoice=invoice, token=token)
    try:
        status = await payment.retrieve(checkout)
    except PaymentError as exc:
        log.warning("checkout %r of invoice %s cannot be read: %s", checkout[:80], invoice.number, exc)
        if exc.status in (400, 404):  # not a checkout of this provider at all
            return _page(request, "mismatch", status=400, invoice=invoice, token=token)
        return _page(request, "pending", status=502, invoice=invoice, token=token)
    finally:
        await payment.aclose()
    if status.invoice_number != invoice.number:
        log.warning("checkout %r is not of invoice %s but of %s", checkout[:80], invoice.number, status.invoice_number)
        return _page(request, "mismatch", status=400, invoice=invoice, token=token)
    if not status.paid:
        return _page(request, "pending", invoice=invoice, token=token)
    result = await _mark_paid(
        context, invoice.number, amount_cents=status.amount_cents, reference=f"{payment.kind}:{status.reference}"
    )
    log.info(
        "card payment %s of invoice %s at %s confirmed on return: %s",
        status.reference,
        invoice.number,
        payment.kind,
        result.state,
    )
    return _result_page(request, result, invoice, token)


@router.post(
    "/payments/{kind}/webhook",
    tags=["payments"],
    summary="Payment provider webhook",
    responses={400: {"description": "the signature does not hold"}, 404: {"description": "no such method"}},
)
async def payment_webhook(request: Request, kind: Annotated[str, Path(max_length=40)]) -> JSONResponse:
    """Where a payment provider reports payments, signed with the endpoint's secret.

    Answers 200 once the call is handled (a replay is handled again, harmlessly) with
    `{"status": "paid" | "pending" | "ignored" | "unknown_invoice" | "amount_mismatch"
    | "cancelled"}`; 400 when the signature does not hold; 404 when `kind` is not a
    configured method.
    """
    context = web(request)
    try:
        payment = build_method(context.plugins.registry, context.settings, kind)
    except Unavailable as exc:
        log.warning("webhook for payment method %r refused: %s", kind, exc)
        return JSONResponse(error_body("not_found", f"no configured payment method {kind!r}"), status_code=404)
    body = await request.body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        event = payment.parse_webhook(body, headers)
    except InvalidWebhook as exc:
        log.warning("webhook for payment method %s refused: %s", kind, exc)
        return JSONResponse(error_body("bad_signature", str(exc)), status_code=400)
    finally:
        await payment.aclose()
    if event is None:
        return JSONResponse({"status": "ignored"})
    if not event.paid:
        return JSONResponse({"status": "pending", "invoice": event.invoice_number})
    try:
        result = await _mark_paid(
            context, event.invoice_number, amount_cents=event.amount_cents, reference=f"{kind}:{event.reference}"
        )
    except UnknownInvoice:
        log.warning(
            "payment %s at %s (checkout %s, %d cents) names invoice %r, which does not exist: check it by hand",
            event.reference,
            kind,
            event.checkout_id,
            event.amount_cents,
            event.invoice_number,
        )
        return JSONResponse({"status": "unknown_invoice", "invoice": event.invoice_number})
    log.info(
        "card payment %s of invoice %s at %s reported by webhook: %s",
        event.reference,
        event.invoice_number,
        kind,
        result.state,
    )
    paid = result.state not in ("amount_mismatch", "cancelled")
    return JSONResponse({"status": "paid" if paid else result.state, "invoice": event.invoice_number})
