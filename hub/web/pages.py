"""Server-rendered pages: templates, logging in and out, the language switch."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from hub.core.tariff import format_eur
from hub.web.context import SESSION_COOKIE, check_csrf, page_principal, web
from hub.web.i18n import LANG_COOKIE, LANGUAGES, language, translate
from hub.web.tokens import Principal, Role, close_session, open_session, use_login_link, verify_token

templates = Jinja2Templates(directory=str(FilePath(__file__).with_name("templates")))
router = APIRouter(include_in_schema=False)


def render(
    request: Request,
    name: str,
    *,
    principal: Principal | None = None,
    csrf: str | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """Render template `name` in the request's language."""
    lang = language(request)
    context = {
        "request": request,
        "lang": lang,
        "t": lambda key, **kw: translate(lang, key, **kw),
        "eur": lambda cents: format_eur(int(cents or 0), lang),
        "who": principal,
        "csrf": csrf or "",
        **values,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A short page saying what went wrong."""
    return render(request, "error.html", status_code=status, status=status, message=message)


def _safe_next(value: str | None) -> str:
    # Only paths of this site: a login link must not send people elsewhere.
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/"
    return value


def home_of(principal: Principal) -> str:
    """Where a principal lands after logging in."""
    if principal.role is Role.CLIENT:
        return f"/portal/{principal.client}"
    if principal.role is Role.AGENT:
        return "/console"
    return "/dashboard"


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """The landing page of whoever is logged in."""
    principal, _csrf = page_principal(request)
    return RedirectResponse(home_of(principal), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    """The login form."""
    return render(request, "login.html", next=_safe_next(next))


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/login")
def login(
    request: Request, token: Annotated[str, Form(max_length=300)], next: Annotated[str, Form(max_length=500)] = "/"
) -> Response:
    """Open a session from a token; repeated bad tokens from one address must wait."""
    context = web(request)
    address = _address(request)
    wait = context.throttle.wait_s(address)
    lang = language(request)
    if wait > 0:
        message = translate(lang, "too_many", s=int(wait) + 1)
        response = render(request, "login.html", status_code=429, error=message, next=_safe_next(next))
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    principal = verify_token(context.store, token.strip())
    if principal is None:
        context.throttle.failed(address)
        message = translate(lang, "bad_login")
        return render(request, "login.html", status_code=401, error=message, next=_safe_next(next))
    context.throttle.succeeded(address)
    return _logged_in(request, principal, _safe_next(next))


def _logged_in(request: Request, principal: Principal, target: str) -> Response:
    context = web(request)
    session_id, _csrf = open_session(context.store, principal)
    redirect = RedirectResponse(target if target != "/" else home_of(principal), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        secure=context.secure_cookies,
        samesite="strict",
        max_age=12 * 3600,
        path="/",
    )
    return redirect


@router.get("/login/link/{code}", response_class=HTMLResponse)
def link_form(request: Request, code: Annotated[str, Path(max_length=200)]) -> Response:
    """A one-time login link: a button, so that link previews and mail scanners do not use it up."""
    return render(request, "login_link.html", code=code)


@router.post("/login/link/{code}")
def link_login(request: Request, code: Annotated[str, Path(max_length=200)]) -> Response:
    """Open a session from a one-time link; a used, expired or unknown link counts as a bad login."""
    context = web(request)
    address = _address(request)
    lang = language(request)
    wait = context.throttle.wait_s(address)
    if wait > 0:
        response = render(
            request, "login.html", status_code=429, error=translate(lang, "too_many", s=int(wait) + 1), next="/"
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    principal = use_login_link(context.store, code)
    if principal is None:
        context.throttle.failed(address)
        return render(request, "login.html", status_code=401, error=translate(lang, "bad_link"), next="/")
    context.throttle.succeeded(address)
    return _logged_in(request, principal, "/")


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Close the session."""
    _principal, expected = page_principal(request)
    check_csrf(expected, csrf)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        close_session(web(request).store, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Switch the page language (pt or en) and go back."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
