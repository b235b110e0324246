"""What every request handler shares, and who is asking (token or session cookie)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.core.clients import Client
from hub.core.engine import Engine
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings
from hub.web.errors import ApiError, LoginRequired
from hub.web.throttle import LoginThrottle
from hub.web.tokens import Principal, Role, Session, load_session, verify_token

SESSION_COOKIE = "recado_session"
bearer = HTTPBearer(auto_error=False, description="A token made with `recado tokens create`.")


@dataclass
class WebContext:
    """The database, plugins, settings and engine behind the web application."""

    store: Store
    plugins: Plugins
    settings: Settings
    engine: Engine
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    #: Whether session cookies are marked Secure (off only for plain-HTTP local tests).
    secure_cookies: bool = True
    extras: dict[str, Any] = field(default_factory=dict)


def web(request: Request) -> WebContext:
    """The `WebContext` of the application serving `request`."""
    context = request.app.state.recado
    if not isinstance(context, WebContext):
        raise RuntimeError("the web application was built without a WebContext")
    return context


def _session(request: Request) -> Session | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    return load_session(web(request).store, cookie) if cookie else None


def api_principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The holder of the request's Bearer token; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "send `Authorization: Bearer <token>` (make one with `recado tokens create`)")
    principal = verify_token(web(request).store, credentials.credentials)
    if principal is None:
        raise ApiError(401, "the token is unknown or revoked")
    return principal


def page_principal(request: Request) -> tuple[Principal, str | None]:
    """Who is looking at a page, and the CSRF secret of their forms (None with a Bearer token).

    Pages accept the session cookie of a logged-in browser or a Bearer token.
    """
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        principal = verify_token(web(request).store, header[7:].strip())
        if principal is None:
            raise ApiError(401, "the token is unknown or revoked")
        return principal, None
    session = _session(request)
    if session is None:
        raise LoginRequired(request.url.path)
    return session.principal, session.csrf


def check_csrf(expected: str | None, given: str | None) -> None:
    """Forms of a cookie session must carry the session's CSRF secret."""
    if expected is None:
        return  # a Bearer token is not sent by browsers on their own: no forgery possible
    if not given or not hmac.compare_digest(expected, given):
        raise ApiError(403, "the form is stale or was not sent by this site (CSRF check failed); reload the page")


def require(principal: Principal, *roles: Role) -> None:
    """403 unless `principal` has one of `roles`."""
    if principal.role not in roles:
        allowed = " or ".join(role.value for role in roles)
        raise ApiError(403, f"this needs an {allowed} token, not {principal.role.value}")


def page_agent(request: Request) -> tuple[Principal, str | None, str]:
    """The agent looking at a console page: its principal, its CSRF secret and its agent name (403 for others)."""
    principal, csrf = page_principal(request)
    require(principal, Role.AGENT)
    return principal, csrf, principal.agent or ""


def serves(client: Client, agent: str) -> bool:
    """Whether `agent` answers `client`'s calls: its preferred agents, or anyone when none are named."""
    return not client.agents.preferred or agent in client.agents.preferred


def require_client(principal: Principal, client_id: str) -> None:
    """404 when `client_id` is outside the principal's reach (its existence is not revealed)."""
    if not principal.may_see_client(client_id):
        raise ApiError(404, f"no client {client_id!r}")
