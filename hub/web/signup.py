"""The public sign-up form: `GET/POST /signup`, no login.

The form is protected against cross-site posting by a double-submit secret: `GET` sets a
random secret in a SameSite=Strict cookie and in a hidden field, and `POST` needs both to
be equal (another site can make a browser post, but can neither read nor set the cookie).
Each address may sign up a few times; past that it waits, longer each time (the login
throttle, counted separately).

A sign-up creates the pending client and its invoice and sends the browser to the
invoice's public page, or straight to the card checkout when the applicant chose card.
A webhook's signing secret is handed to that page once, in a short-lived cookie.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.core import signups
from hub.core.signups import Problem, SignupInvalid
from hub.core.tariff import format_eur, vat_cents
from hub.web.context import WebContext, web
from hub.web.errors import ApiError
from hub.web.i18n import language
from hub.web.pages import render
from hub.web.signup_texts import text
from hub.web.throttle import LoginThrottle

router = APIRouter(include_in_schema=False)

CSRF_COOKIE = "recado_signup_csrf"
#: Carries a new webhook's signing secret to the invoice page, which shows it once.
SECRET_COOKIE = "recado_webhook_secret"
THROTTLE_KEY = "signup_throttle"
Field = Annotated[str, Form(max_length=300)]


def signup_throttle(context: WebContext) -> LoginThrottle:
    """Sign-ups per address: three freely, then a wait that doubles from a minute up to an hour."""
    throttle = context.extras.get(THROTTLE_KEY)
    if not isinstance(throttle, LoginThrottle):
        throttle = LoginThrottle(allowed=3, base_wait_s=60.0, max_wait_s=3600.0)
        context.extras[THROTTLE_KEY] = throttle
    return throttle


def payment_methods(context: WebContext) -> list[str]:
    """The methods offered: "transfer", and "card" when a payment method plugin is installed and configured."""
    configured = [kind for kind in context.plugins.registry.payments if kind in context.settings.payments]
    return [signups.TRANSFER, "card"] if configured else [signups.TRANSFER]


def closed_reason(context: WebContext) -> str | None:
    """Why sign-up cannot take applicants now (for the operator's log), or None."""
    missing = context.settings.billing.missing()
    if missing:
        return f"set {', '.join(missing)} in recado.toml ([billing])"
    if signups.EMAIL_KIND not in context.plugins.registry.sinks:
        return "the email sink (recado-email) is not installed: records could not be sent"
    return None


def _plans(context: WebContext, lang: str) -> list[dict[str, Any]]:
    tariff = context.settings.tariff
    found = []
    for plan in sorted(tariff.plans, key=lambda name: -tariff.plan_months[name]):
        net = tariff.plans[plan]
        gross = net + vat_cents(net, rate_percent=tariff.vat_rate_percent)
        label = text(
            lang,
            "plan_option",
            months=tariff.plan_months[plan],
            net=format_eur(net, lang),
            gross=format_eur(gross, lang),
        )
        found.append({"value": plan, "label": label})
    return found


def _messages(context: WebContext, lang: str) -> list[dict[str, str]]:
    prices = context.settings.tariff.messages
    options = [{"value": "none", "label": text(lang, "message_none")}]
    for option in signups.MESSAGE_OPTIONS[1:]:
        if option in prices:
            label = text(lang, f"message_{option}", price=format_eur(prices[option], lang))
            options.append({"value": option, "label": label})
    return options


def _problem_text(lang: str, problem: Problem) -> str:
    if problem.code == "webhook_url":
        return text(lang, "err_webhook_url", detail=problem.message)
    return text(lang, f"err_{problem.code}")


def _form_page(
    request: Request, *, values: dict[str, Any], problems: list[Problem] | None = None, status: int = 200
) -> Response:
    context = web(request)
    lang = language(request)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "signup.html",
        status_code=status,
        s=lambda key, **kw: text(lang, key, **kw),
        values=values,
        errors={problem.field: _problem_text(lang, problem) for problem in problems or []},
        plans=_plans(context, lang),
        messages=_messages(context, lang),
        methods=payment_methods(context),
        webhook=signups.WEBHOOK_KIND in context.plugins.registry.sinks,
        signup_csrf=csrf,
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, httponly=True, secure=context.secure_cookies, samesite="strict", path="/signup"
    )
    return response


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request) -> Response:
    """The sign-up form, in the browser's language."""
    context = web(request)
    if closed_reason(context):
        raise ApiError(503, text(language(request), "closed"))
    return _form_page(request, values={"plan": "12m", "languages": ["pt"], "message_option": "none"})


@router.post("/signup")
async def signup(
    request: Request,
    company: Field = "",
    nif: Field = "",
    contact_name: Field = "",
    email: Field = "",
    phone: Field = "",
    plan: Field = "",
    languages: Annotated[list[str] | None, Form(max_length=2)] = None,
    message_option: Field = "none",
    records_email: Field = "",
    webhook_url: Annotated[str, Form(max_length=2000)] = "",
    method: Field = signups.TRANSFER,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the form; create the pending client and its invoice; go to the invoice (or the card checkout)."""
    context = web(request)
    lang = language(request)
    reason = closed_reason(context)
    if reason:
        raise ApiError(503, text(lang, "closed"))
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not hmac.compare_digest(expected, csrf):
        raise ApiError(403, "the form is stale or was not sent by this site (CSRF check failed); reload the page")
    address = request.client.host if request.client else "unknown"
    throttle = signup_throttle(context)
    wait = throttle.wait_s(address)
    if wait > 0:
        refused = HTMLResponse(text(lang, "too_many_signups", s=int(wait) + 1), status_code=429)
        refused.headers["Retry-After"] = str(int(wait) + 1)
        return refused
    values: dict[str, Any] = {
        "company": company,
        "nif": nif,
        "contact_name": contact_name,
        "email": email,
        "phone": phone,
        "plan": plan,
        "languages": languages or [],
        "message_option": message_option,
        "records_email": records_email,
        "webhook_url": webhook_url,
        "method": method,
        "language": lang,
    }
    checked, problems = signups.check_form(
        values,
        plans=sorted(context.settings.tariff.plans),
        methods=payment_methods(context),
        webhook=signups.WEBHOOK_KIND in context.plugins.registry.sinks,
    )
    if checked is None:
        return _form_page(request, values=values, problems=problems, status=422)
    try:
        created = await run_in_threadpool(
            signups.create_signup, context.store, context.plugins.registry, checked, context.settings, datetime.now(UTC)
        )
    except SignupInvalid as exc:
        return _form_page(request, values=values, problems=exc.problems, status=422)
    throttle.failed(address)  # every sign-up counts towards the address's allowance
    token = created.invoice.public_token
    target = f"/pay/{token}/card" if checked.method == "card" else f"/invoices/{token}"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(CSRF_COOKIE, path="/signup")
    if created.webhook_secret:
        response.set_cookie(
            SECRET_COOKIE,
            created.webhook_secret,
            httponly=True,
            secure=context.secure_cookies,
            samesite="strict",
            max_age=600,
            path=f"/invoices/{token}",
        )
    return response
